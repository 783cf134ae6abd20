// train_config.cpp — the key table behind TrainConfig: defaults, presets, config files, flags,
// JSON round trip and validation (train/train_config.h).
#include "train/train_config.h"

#include <cmath>
#include <functional>
#include <sstream>

#include "cuda/delta_scan_steps.h"
#include "splat/splat_init.h"
#include "splat/splat_lifecycle.h"
#include "tensor/device.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/tasks.h"

namespace splatlm {

namespace {

// One row per config key: its name, its help line, and how to read and write it. Parsing, JSON,
// the CLI option list and the docs all come from this one table.
struct Key {
    const char* name;
    const char* help;
    std::function<void(TrainConfig&, const std::string&)> set;
    std::function<Json(const TrainConfig&)> get;
};

template <class T>
Key key(const char* name, const char* help, T& (*field)(TrainConfig&)) {
    auto set = [name, field](TrainConfig& c, const std::string& text) {
        const std::string what = std::string("config key '") + name + "'";
        if constexpr (std::is_same_v<T, std::string>)
            field(c) = text;
        else if constexpr (std::is_same_v<T, bool>) {
            SPLATLM_CHECK(text == "true" || text == "false" || text == "1" || text == "0", what,
                          ": expected true or false, got '", text, "'");
            field(c) = text == "true" || text == "1";
        }
        else if constexpr (std::is_floating_point_v<T>)
            field(c) = static_cast<T>(parse_double(text, what));
        else {
            int64_t v = parse_int(text, what);
            SPLATLM_CHECK(!std::is_unsigned_v<T> || v >= 0, what, ": expected a non-negative integer, got '", text, "'");
            field(c) = static_cast<T>(v);
        }
    };
    auto get = [field](const TrainConfig& c) { return Json(field(const_cast<TrainConfig&>(c))); };
    return {name, help, set, get};
}

#define FIELD(expr) +[](TrainConfig& c) -> auto& { return c.expr; }

const std::vector<Key>& keys() {
    static const std::vector<Key> table = {
        key("data", "training text file", FIELD(data)),
        key("tokenizer", "char | bpe", FIELD(tokenizer)),
        key("bpe_vocab", "BPE vocabulary size", FIELD(bpe_vocab)),
        key("val_fraction", "fraction of the corpus held out for validation (the end)", FIELD(val_fraction)),
        key("task", "a synthetic task instead of the corpus, as `splatlm task` writes it (empty: the corpus)", FIELD(task)),
        key("context", "context length T", FIELD(model.context)),
        key("layers", "transformer blocks", FIELD(model.layers)),
        key("heads", "attention heads", FIELD(model.heads)),
        key("width", "embedding width", FIELD(model.width)),
        key("attention", "attention kind: softmax, local, linear, delta, splat, splat_local, splat_delta", FIELD(model.attention)),
        key("layer_kinds", "one attention kind per layer, comma-separated (e.g. splat,splat,softmax,splat); empty: `attention` in every layer",
            FIELD(model.layer_kinds)),
        key("short_conv", "taps of a short causal convolution on q/k/v before the mixer (default 4; 0 = off)",
            FIELD(model.short_conv)),
        key("positions", "learned | none: absolute position embeddings, or none (order only from the mixers)",
            FIELD(model.positions)),
        key("dropout", "dropout probability", FIELD(model.dropout)),
        key("window", "sliding-window size of local attention (and of splat_local's local part)", FIELD(model.window)),
        key("splats", "Gaussian splats per head of splat attention (and splat_local)", FIELD(model.splats)),
        key("max_splats", "splat slots per head (0 = splats): room for births and splits of splat_adapt", FIELD(model.max_splats)),
        key("splat_decay", "learned per-splat recency decay of the splat state (default true; splat kinds only)",
            FIELD(model.splat_decay)),
        key("splat_levels", "hierarchical splats: levels (must divide splats)", FIELD(model.splat_levels)),
        key("splat_top", "sparse routing: splats each token writes to / reads from (0 = all)", FIELD(model.splat_top)),
        key("splat_gate", "true: content gating of what each token writes into each splat", FIELD(model.splat_gate)),
        key("splat_token_decay",
            "input-dependent decay: splat_decay's rate r_j at token t becomes r_j·softplus(x_t·w_j + b_j) (default true; "
            "with splat_decay only)",
            FIELD(model.splat_token_decay)),
        key("splat_flow",
            "trajectory flow: each splat layer's queries and keys move by a learned map of the read weights of the "
            "splat layer below (needs two or more splat layers)",
            FIELD(model.splat_flow)),
        key("splat_delta_rank", "splat_delta: dimensions of a key's offset within a splat (the state has splats·rank columns per head)",
            FIELD(model.splat_delta_rank)),
        key("splat_delta_key_route",
            "splat_delta: true: a query reads through the splats its own token's key is written into (the key's shares) "
            "instead of its own",
            FIELD(model.splat_delta_key_route)),
        key("batch", "sequences per step", FIELD(batch)),
        key("steps", "optimiser steps", FIELD(steps)),
        key("lr", "peak learning rate", FIELD(lr)),
        key("min_lr", "final learning rate of the cosine decay", FIELD(min_lr)),
        key("warmup", "linear warm-up steps", FIELD(warmup)),
        key("weight_decay", "AdamW decoupled weight decay", FIELD(weight_decay)),
        key("decay_all", "true: decay biases, norms and embeddings too", FIELD(decay_all)),
        key("grad_clip", "global gradient-norm limit", FIELD(grad_clip)),
        key("splat_diversity", "weight of the loss that repels splat centres of a head (0 = off)", FIELD(splat_diversity)),
        key("splat_init", "random | kmeans | pca: place splats on the first batch's keys before step 1 (splat kinds only)",
            FIELD(splat_init)),
        key("splat_adapt", "off, or a comma list of rescue, death, birth, mitosis, merge: splat life events (splat kinds only)",
            FIELD(splat_adapt)),
        key("splat_seat", "keys | queries: rescue and birth seat splats at the worst covered key or query", FIELD(splat_seat)),
        key("min_splats", "death and merge leave at least this many live splats per head", FIELD(min_splats)),
        key("progressive_every", "N > 0: train the lowest block first and unfreeze one more every N steps (0 = off)",
            FIELD(progressive_every)),
        key("adapt_every", "steps between splat adaptations (from adapt_start)", FIELD(adapt_every)),
        key("adapt_start", "first step that may adapt splats", FIELD(adapt_start)),
        key("adapt_stop", "last step that may adapt splats (0 = to the end)", FIELD(adapt_stop)),
        key("dead_evals", "health checks in a row with a read share under 1% of even before a splat counts as dead",
            FIELD(dead_evals)),
        key("beta1", "AdamW beta1", FIELD(beta1)),
        key("beta2", "AdamW beta2", FIELD(beta2)),
        key("seed", "seed for initialisation, batches and dropout", FIELD(seed)),
        key("log_every", "steps between progress lines", FIELD(log_every)),
        key("eval_every", "steps between validation evaluations", FIELD(eval_every)),
        key("eval_batches", "validation batches per evaluation", FIELD(eval_batches)),
        key("sample_every", "steps between generated samples", FIELD(sample_every)),
        key("sample_tokens", "tokens per generated sample", FIELD(sample_tokens)),
        key("checkpoint_every", "steps between checkpoints", FIELD(checkpoint_every)),
        key("keep_checkpoints", "how many of the newest checkpoints a run keeps", FIELD(keep_checkpoints)),
        key("viz_every", "steps between splat-field frames in <out>/frames/ (0 = none)", FIELD(viz_every)),
        key("out", "run directory", FIELD(out)),
        key("device", "cpu | cuda: where the model trains (cuda needs a GPU and a build with nvcc)", FIELD(device)),
        key("dist", "none | mpi | nccl: data-parallel ranks under mpirun share each batch (docs/DISTRIBUTED.md)", FIELD(dist)),
        key("dist_timeout", "seconds a rank waits for the others before the whole job stops", FIELD(dist_timeout)),
        key("dist_bucket_mb", "MB per bucket of the gradient all-reduce", FIELD(dist_bucket_mb)),
    };
    return table;
}
#undef FIELD

const Key* find_key(const std::string& name) {
    for (const Key& k : keys())
        if (name == k.name) return &k;
    return nullptr;
}

std::string trim(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

void set_config_key(TrainConfig& config, const std::string& name, const std::string& value) {
    const Key* k = find_key(name);
    SPLATLM_CHECK(k, "unknown config key '", name, "' (see splatlm train --help)");
    k->set(config, value);
}

Json TrainConfig::to_json() const {
    Json j = Json::Object{};
    for (const Key& k : keys()) j.set(k.name, k.get(*this));
    j.set("vocab", Json(model.vocab));
    return j;
}

TrainConfig TrainConfig::from_json(const Json& json) {
    TrainConfig c;
    // Checkpoints written before a key existed hold the model without it (no decay parameters, no conv).
    if (!json.contains("splat_decay")) c.model.splat_decay = false;
    if (!json.contains("splat_token_decay")) c.model.splat_token_decay = false;  // (nor the token decay's gate)
    if (!json.contains("short_conv")) c.model.short_conv = 0;
    for (const auto& [name, value] : json.as_object()) {
        if (name == "vocab") {
            c.model.vocab = value.as_int();
            continue;
        }
        set_config_key(c, name, value.is_string() ? value.as_string() : value.dump());
    }
    c.validate();
    return c;
}

namespace {

// The range every numeric key must fall in, naming the key. The upper bounds are far beyond any
// run this program can do on one machine; they stop typos (--lr 1e39, --batch 2^58) before they
// become an overflow, an infinity or an allocation of the machine's whole memory.
template <class T>
void require_range(const char* key, T value, T low, T high) {
    SPLATLM_CHECK(value >= low && value <= high, "config key '", key, "' must be in [", low, ", ", high, "], got ", value);
}

// The CUDA delta-rule kernels keep S (D × P per head) in shared memory, so D and P are bounded
// (cuda/delta_scan_steps.h); refused here rather than at the first forward of a CUDA run.
void check_cuda_delta_state(const GPTConfig& model) {
    for (int64_t layer = 0; layer < model.layers; ++layer) {
        const std::string kind = model.layer_kind(layer);
        if (kind != "delta" && kind != "splat_delta") continue;
        const int64_t D = model.head_dim(), P = kind == "delta" ? D : model.splats * model.splat_delta_rank;
        SPLATLM_CHECK(D <= cuda::kDeltaMaxDim && P <= cuda::kDeltaMaxDim, "config: the ", kind, " state of layer ", layer,
                      " is ", D, "×", P, " per head (head dim × ", kind == "delta" ? "head dim" : "splats·splat_delta_rank",
                      "), over the CUDA kernel's ", cuda::kDeltaMaxDim, " per side: use fewer or narrower splats, more heads, or device cpu");
    }
}

}  // namespace

void TrainConfig::validate() const {
    require_range<int64_t>("context", model.context, 1, 1 << 20);
    require_range<int64_t>("layers", model.layers, 1, 4096);
    require_range<int64_t>("width", model.width, 1, 1 << 16);
    require_range<int64_t>("heads", model.heads, 1, model.width);
    require_range<int64_t>("window", model.window, 1, 1 << 20);
    require_range<int64_t>("splats", model.splats, 1, 4096);
    require_range<int64_t>("max_splats", model.max_splats, 0, 4096);
    require_range<int64_t>("vocab", model.vocab, 1, 1 << 24);
    model.validate();
    SPLATLM_CHECK(tokenizer == "char" || tokenizer == "bpe", "config: tokenizer must be char or bpe, got '", tokenizer, "'");
    require_range<int64_t>("bpe_vocab", bpe_vocab, 256, 1 << 20);
    SPLATLM_CHECK(val_fraction > 0 && val_fraction < 1, "config: val_fraction must be in (0, 1), got ", val_fraction);
    require_range<int64_t>("batch", batch, 1, 1 << 20);
    require_range<int64_t>("steps", steps, 1, int64_t(1e12));
    require_range<double>("lr", lr, 1e-12, 1.0);  // NaN fails every comparison, so it is out of range too
    require_range<double>("min_lr", min_lr, 0.0, lr);
    require_range<int64_t>("warmup", warmup, 0, int64_t(1e12));
    require_range<double>("weight_decay", weight_decay, 0.0, 1e3);
    require_range<double>("grad_clip", grad_clip, 1e-12, 1e12);
    require_range<double>("beta1", beta1, 0.0, 0.999999);
    require_range<double>("beta2", beta2, 0.0, 0.999999);
    require_range<double>("splat_diversity", splat_diversity, 0.0, 1e6);
    for (const auto& [key, every] : {std::pair{"log_every", log_every}, {"eval_every", eval_every},
                                     {"sample_every", sample_every}, {"checkpoint_every", checkpoint_every}})
        require_range<int64_t>(key, every, 1, int64_t(1e12));
    require_range<int64_t>("eval_batches", eval_batches, 1, 1 << 20);
    require_range<int64_t>("sample_tokens", sample_tokens, 0, 100'000);
    require_range<int64_t>("keep_checkpoints", keep_checkpoints, 1, 1000);
    require_range<int64_t>("viz_every", viz_every, 0, int64_t(1e12));
    // The splat field is drawn in the plane of two head dimensions (viz/splat_pictures.h).
    SPLATLM_CHECK(viz_every == 0 || !model.has_splat_layer() || model.head_dim() >= 2,
                  "config key 'viz_every': splat-field frames need at least 2 dimensions per head, but width ",
                  model.width, " / heads ", model.heads, " = ", model.head_dim());
    SPLATLM_CHECK(!out.empty(), "config: out must name a directory");
    check_splat_init(splat_init);
    const bool splat_kind = model.has_splat_layer();
    SPLATLM_CHECK(splat_kind || splat_init == "random", "config: splat_init = ", splat_init,
                  " places splats, but attention '", model.attention, "' has none (use splat or splat_local)");
    parse_life_policy(splat_adapt);  // "config key 'splat_adapt': unknown adaptation ..."
    SPLATLM_CHECK(splat_seat == "keys" || splat_seat == "queries", "config key 'splat_seat' must be keys or queries, got '",
                  splat_seat, "'");
    SPLATLM_CHECK(min_splats >= 1 && min_splats <= model.splats, "config key 'min_splats' must be in [1, splats = ",
                  model.splats, "], got ", min_splats);
    SPLATLM_CHECK(adapt_every > 0, "config: adapt_every must be positive, got ", adapt_every);
    SPLATLM_CHECK(adapt_start >= 0 && adapt_stop >= 0 && dead_evals >= 1,
                  "config: adapt_start and adapt_stop must be >= 0 and dead_evals >= 1");
    if (splat_adapt != "off") {
        SPLATLM_CHECK(splat_kind, "config: splat_adapt = ", splat_adapt, " adapts splats, but attention '", model.attention,
                      "' has none (use splat or splat_local)");
        SPLATLM_CHECK(dist == "none", "config: splat_adapt works in one process for now (dist = none), got dist ",
                      dist);
    }
    require_range<int64_t>("progressive_every", progressive_every, 0, int64_t(1e12));
    SPLATLM_CHECK(progressive_every == 0 || device == "cpu", "config key 'progressive_every': progressive training runs "
                  "on the CPU only, got device ", device);
    parse_device(device);  // "unknown device '...' (expected cpu or cuda)"
    if (device == "cuda") check_cuda_delta_state(model);
    SPLATLM_CHECK(dist == "none" || dist == "mpi" || dist == "nccl", "config: dist must be none, mpi or nccl, got '", dist, "'");
    SPLATLM_CHECK(dist_timeout > 0 && dist_bucket_mb > 0, "config: dist_timeout and dist_bucket_mb must be positive");
    if (!task.empty()) {
        SPLATLM_CHECK(tokenizer == "char", "config: a task's tokens are char ids, so tokenizer must be char");
        check_task(parse_task_spec(task), model.context);
    }
}

const std::vector<Preset>& presets() {
    static const std::vector<Preset> table{{"tiny", "about a minute on 2 cores: a first look"},
                                           {"small", "the classic small config, about 10 minutes on 2 cores"}};
    return table;
}

namespace {
// The preset names joined by `sep`, for help and error texts ("tiny | small").
std::string preset_list(const char* sep) {
    std::string list;
    for (const Preset& p : presets()) list += (list.empty() ? "" : sep) + std::string(p.name);
    return list;
}
}  // namespace

void apply_preset(TrainConfig& c, const std::string& name) {
    if (name == "tiny") {  // about a minute on 2 cores: a first look
        c.model.layers = 2, c.model.heads = 2, c.model.width = 64, c.model.context = 64;
        c.batch = 8, c.steps = 3000, c.warmup = 100, c.lr = 2e-3, c.min_lr = 2e-4;
        c.log_every = 100, c.eval_every = 500, c.eval_batches = 20, c.sample_every = 1000, c.checkpoint_every = 1000;
        c.out = "runs/tiny";
    } else if (name == "small") {  // the classic small CPU config, trained for about 10 minutes on 2 cores
        c.model.layers = 4, c.model.heads = 4, c.model.width = 128, c.model.context = 64;
        c.batch = 12, c.steps = 8000, c.warmup = 200, c.lr = 1e-3, c.min_lr = 1e-4;
        c.log_every = 100, c.eval_every = 500, c.eval_batches = 40, c.sample_every = 2000, c.checkpoint_every = 1000;
        c.out = "runs/small";
    } else {
        fail("unknown preset '", name, "' (known: ", preset_list(", "), ")");
    }
}

void apply_config_text(TrainConfig& config, const std::string& text, const std::string& where) {
    std::istringstream in(text);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        line = trim(line.substr(0, line.find('#')));
        if (line.empty()) continue;
        const size_t eq = line.find('=');
        SPLATLM_CHECK(eq != std::string::npos, where, ":", number, ": expected 'key = value', got '", line, "'");
        try {
            set_config_key(config, trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
        } catch (const Error& e) {
            fail(where, ":", number, ": ", e.what());
        }
    }
}

std::vector<OptionSpec> train_options() {
    std::vector<OptionSpec> specs = {
        {"config", true, "key = value file (applied after --preset, before flags)"},
        {"preset", true, preset_list(" | ")},
        {"resume", true, "continue the run in DIR from its last checkpoint"},
        {"stop-at", true, "end this session after step N (checkpointed; the schedule still spans --steps)"},
    };
    for (const Key& k : keys()) specs.push_back({k.name, true, k.help});
    return specs;
}

TrainConfig resolve_train_config(const Args& args) {
    TrainConfig c;
    if (args.has("preset")) apply_preset(c, args.get("preset", ""));
    if (args.has("config")) apply_config_text(c, read_file(args.get("config", "")), args.get("config", ""));
    for (const auto& [name, value] : args.values())
        if (find_key(name)) set_config_key(c, name, value);
    c.validate();
    return c;
}

}  // namespace splatlm
