// train_config.h — everything a training run is made of, as one flat list of keys.
//
// Settings are layered: built-in defaults → `--preset` → `--config FILE` → `--key value` flags.
// A config file has one `key = value` per line (`#` starts a comment); every key is also a
// command-line option, and an unknown key is an error in both. The resolved config is stored in
// every checkpoint as JSON, so a run can be resumed, inspected and evaluated exactly.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/config.h"
#include "train/args.h"
#include "train/json.h"

namespace splatlm {

struct TrainConfig {
    // data
    std::string data = "data/kjv.txt";
    std::string tokenizer = "char";  // char | bpe
    int64_t bpe_vocab = 4096;
    double val_fraction = 0.1;
    std::string task;  // a synthetic task instead of the corpus, "mqar pairs=4 ..." (train/tasks.h); empty: the corpus
    // model (vocab comes from the tokenizer); splat attention with learned, input-dependent recency
    // decay and a short conv of 4 taps on q/k/v is the product's default (it trains best:
    // docs/BENCHMARKS.md, "Quality"; docs/TASKS.md, "Input-dependent decay" and "Mechanisms")
    GPTConfig model{.attention = "splat", .short_conv = 4, .splat_decay = true, .splat_token_decay = true};
    // optimisation
    int64_t batch = 12;
    int64_t steps = 2000;
    double lr = 1e-3;
    double min_lr = 1e-4;
    int64_t warmup = 100;
    double weight_decay = 0.1;
    bool decay_all = false;  // also decay biases, norms and embeddings (off: matrices only)
    double grad_clip = 1.0;
    double splat_diversity = 0.0;  // weight of the splat-centre repulsion loss (0: off)
    std::string splat_init = "random";  // random | kmeans | pca: where splats start (splat/splat_init.h)
    std::string splat_adapt = "off";    // off, or a comma list of rescue, death, birth, mitosis, merge (splat/splat_lifecycle.h)
    std::string splat_seat = "keys";    // keys | queries: where rescue and birth seat splats (the worst covered point)
    int64_t min_splats = 1;             // death and merge leave at least this many live splats per head
    int64_t progressive_every = 0;      // > 0: block b trains from step b·N on (train/progressive.h); 0: all from the start
    int64_t adapt_every = 100, adapt_start = 0, adapt_stop = 0;  // the schedule (adapt_stop 0: to the end)
    int64_t dead_evals = 2;             // a splat is dead after this many health checks in a row below 1% of its share
    double beta1 = 0.9, beta2 = 0.95;
    uint64_t seed = 1337;
    // bookkeeping
    int64_t log_every = 10;          // progress line
    int64_t eval_every = 250;        // validation loss (and at the end)
    int64_t eval_batches = 40;       // validation batches per periodic evaluation
    int64_t sample_every = 500;      // a generated sample in the log
    int64_t sample_tokens = 200;
    int64_t checkpoint_every = 500;  // and at the end
    int64_t keep_checkpoints = 3;    // the newest N step directories stay; older ones are removed
    int64_t viz_every = 0;           // steps between splat-field frames in <out>/frames/ (0: none)
    std::string out = "runs/default";
    std::string device = "cpu";  // cpu | cuda: where the model trains (not a property of the model)
    // data parallel (dist/): the ranks share each global batch of `batch` rows (not a model property either)
    std::string dist = "none";   // none | mpi (under mpirun) | nccl (under mpirun, one GPU per rank)
    double dist_timeout = 300;   // seconds any rank waits for the others before the job stops
    double dist_bucket_mb = 4;   // the gradient all-reduce goes in buckets of this many MB

    Json to_json() const;
    static TrainConfig from_json(const Json& json);  // rejects unknown and missing-type keys
    void validate() const;
};

// The option list of `splatlm train`: one option per config key plus --config, --preset, --resume.
std::vector<OptionSpec> train_options();
// Applies the layers above from parsed arguments (without --resume handling).
TrainConfig resolve_train_config(const Args& args);
// Sets one key from text (config files and flags share this); errors name the key.
void set_config_key(TrainConfig& config, const std::string& key, const std::string& value);
// The presets (name and what it is for), and applying one.
struct Preset {
    const char* name;
    const char* summary;
};
const std::vector<Preset>& presets();
void apply_preset(TrainConfig& config, const std::string& name);
// Parses `key = value` lines; `where` names the file in errors.
void apply_config_text(TrainConfig& config, const std::string& text, const std::string& where);

}  // namespace splatlm
