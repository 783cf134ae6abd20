// trainer.h — the training loop behind `splatlm train`:
//   sample a batch → forward → loss → backward → clip → AdamW (warm-up + cosine LR)
// with a progress line, periodic validation and samples, metrics.jsonl, atomic checkpoints,
// bitwise-identical resume, and a clean stop (non-zero exit, last good checkpoint kept) on NaN/Inf.
// With `dist` = mpi | nccl (under mpirun) the ranks share each batch and average their gradients
// before the clip; rank 0 alone writes (train/data_parallel.h, docs/DISTRIBUTED.md).
#pragma once
#include <csignal>
#include <string>

#include "train/checkpoint.h"
#include "train/train_config.h"

namespace splatlm {

// Trains a fresh model (resume_dir empty) or continues the run in resume_dir; returns the exit code.
// stop_at >= 0 ends this session after that step with a checkpoint, the schedule still spanning
// config.steps (time-boxed sessions; resuming later continues exactly).
// stop_signal (set by the caller's signal handler, cli/train.cpp): when it turns non-zero the
// current step is finished, a checkpoint written, the resume command printed, and 128 + signal returned.
// The run directory is locked for the whole run (train/run_lock.h); a resumed checkpoint's
// checksums are verified unless `verify` is Verify::skip.
int run_training(const TrainConfig& config, const std::string& resume_dir, int64_t stop_at = -1,
                 const volatile std::sig_atomic_t* stop_signal = nullptr, Verify verify = Verify::checksums);

}  // namespace splatlm
