// checkpoint.h — a run directory on disk (see docs/CHECKPOINTS.md):
//
//   checkpoints/step-000000012/   one complete checkpoint per directory, the newest N kept:
//     model.safetensors           weights; __metadata__ holds the config (JSON), the tokenizer and the step
//     optimizer.safetensors       AdamW moments m.<name>, v.<name>; __metadata__ holds the step, AdamW's t
//                                 and the RNG states, everything a bitwise-identical resume needs
//     tokenizer.txt               the tokenizer again, for people and tools
//   metrics.jsonl                 written by the trainer
//
// A step's files are written and fsynced into a hidden `checkpoints/.tmp-step-…` directory that
// one rename then publishes, so a step directory is complete or absent: a kill at any moment
// leaves the previous checkpoint whole. Every tensor carries a CRC-32 (train/safetensors.h).
// Runs written before step directories existed (model.safetensors and optimizer.safetensors in
// the run directory itself) still load and resume.
#pragma once
#include <memory>
#include <string>

#include "nn/gpt.h"
#include "train/adamw.h"
#include "train/args.h"
#include "train/tokenizer.h"
#include "train/train_config.h"

namespace splatlm {

struct TrainingProgress {
    int64_t step = 0;  // optimiser steps completed
    Rng data_rng{0};   // batch sampling stream
};

// Writes the step directory of `run_dir` for progress.step and publishes it, then removes all but
// the newest config.keep_checkpoints step directories. Returns the published directory.
std::string save_checkpoint(const std::string& run_dir, const TrainConfig& config, const Tokenizer& tokenizer,
                            GPT& model, AdamW& optimizer, const TrainingProgress& progress);

// The directory holding the checkpoint that `dir` names: the newest published step directory of
// a run directory, else the run directory itself when it holds model.safetensors (the older
// layout, or a step directory named directly). Throws naming `dir` when there is none.
std::string checkpoint_directory(const std::string& dir);
bool has_checkpoint(const std::string& run_dir);

// Removes what a crashed save left in `run_dir` (hidden `.tmp-` files and step directories);
// returns how many it removed. Call it only while holding the run's lock (train/run_lock.h).
int remove_stale_temporaries(const std::string& run_dir);

// Whether tensors' checksums are checked on load; `--no-verify` on the subcommands that load.
enum class Verify { checksums, skip };
inline const OptionSpec kNoVerifyOption{"no-verify", false, "load the checkpoint without checking its tensors' checksums"};
inline Verify verify_flag(const Args& args) { return args.flag("no-verify") ? Verify::skip : Verify::checksums; }

struct LoadedModel {
    std::string dir;  // the checkpoint directory it came from (checkpoint_directory)
    TrainConfig config;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<GPT> model;
    int64_t step = 0;
};
// Reads model.safetensors: config, tokenizer and weights, every tensor checked against the config,
// the config's memory need checked before the model is built (train/memory_budget.h).
LoadedModel load_model(const std::string& dir, Verify verify = Verify::checksums);
// load_model, then the parameters moved to `device` ("cpu" | "cuda"). Without a GPU, "cuda" fails
// with one line naming `who` (the command) and the reason.
LoadedModel load_model_on(const std::string& dir, const std::string& device, const std::string& who,
                          Verify verify = Verify::checksums);

// The loaded model rebuilt for sequences of up to `context` tokens, its weights unchanged: for a model
// without learned positions (positions = none), whose parameters do not depend on the context, so it
// can be evaluated beyond the length it was trained at. Throws, naming `who`, for learned positions.
void set_context(LoadedModel& loaded, int64_t context, const std::string& who);

// "" when every weight is finite, else which parameters hold NaN or Inf and how many values.
std::string non_finite_weights(GPT& model);
// Throws, naming `who` and the checkpoint, when a weight is NaN or Inf.
void require_finite_weights(const LoadedModel& loaded, const std::string& who);

// Restores AdamW moments, its step count and the RNG states from the optimizer.safetensors in
// `checkpoint_dir` (a LoadedModel's dir).
TrainingProgress load_optimizer_state(const std::string& checkpoint_dir, GPT& model, AdamW& optimizer,
                                      int64_t model_step, Verify verify = Verify::checksums);

}  // namespace splatlm
