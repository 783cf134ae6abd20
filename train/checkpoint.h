// checkpoint.h — a run directory on disk (see docs/CHECKPOINTS.md):
//
//   model.safetensors      weights; __metadata__ holds the config (JSON), the tokenizer and the step
//   optimizer.safetensors  AdamW moments m.<name>, v.<name>; __metadata__ holds the step, AdamW's t
//                          and the RNG states, everything a bitwise-identical resume needs
//   tokenizer.txt          the tokenizer again, for people and tools
//   metrics.jsonl          written by the trainer
//
// Every file is written atomically (temp file, fsync, rename); the optimizer file is written first
// and the model file last, and both carry the step, so a crash between them is detected on resume.
#pragma once
#include <memory>
#include <string>

#include "nn/gpt.h"
#include "train/adamw.h"
#include "train/tokenizer.h"
#include "train/train_config.h"

namespace splatlm {

struct TrainingProgress {
    int64_t step = 0;  // optimiser steps completed
    Rng data_rng{0};   // batch sampling stream
};

void save_checkpoint(const std::string& dir, const TrainConfig& config, const Tokenizer& tokenizer, GPT& model,
                     AdamW& optimizer, const TrainingProgress& progress);

struct LoadedModel {
    TrainConfig config;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<GPT> model;
    int64_t step = 0;
};
// Reads model.safetensors: config, tokenizer and weights, every tensor checked against the config.
LoadedModel load_model(const std::string& dir);
// load_model, then the parameters moved to `device` ("cpu" | "cuda"). Without a GPU, "cuda" fails
// with one line naming `who` (the command) and the reason.
LoadedModel load_model_on(const std::string& dir, const std::string& device, const std::string& who);

// Restores AdamW moments, its step count and the RNG states from optimizer.safetensors.
TrainingProgress load_optimizer_state(const std::string& dir, GPT& model, AdamW& optimizer, int64_t model_step);

}  // namespace splatlm
