// trainer.h — the training loop behind `splatlm train`:
//   sample a batch → forward → loss → backward → clip → AdamW (warm-up + cosine LR)
// with a progress line, periodic validation and samples, metrics.jsonl, atomic checkpoints,
// bitwise-identical resume, and a clean stop (non-zero exit, last good checkpoint kept) on NaN/Inf.
// With `dist` = mpi | nccl (under mpirun) the ranks share each batch and average their gradients
// before the clip; rank 0 alone writes (train/data_parallel.h, docs/DISTRIBUTED.md).
#pragma once
#include <string>

#include "train/train_config.h"

namespace splatlm {

// Trains a fresh model (resume_dir empty) or continues the run in resume_dir; returns the exit code.
// stop_at >= 0 ends this session after that step with a checkpoint, the schedule still spanning
// config.steps (time-boxed sessions; resuming later continues exactly).
int run_training(const TrainConfig& config, const std::string& resume_dir, int64_t stop_at = -1);

}  // namespace splatlm
