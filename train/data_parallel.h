// data_parallel.h — what the training loop asks of dist/ (dist/communicator.h) to train on N ranks:
// connect as the config says, take this rank's rows of the global batch, and average the flat
// gradient buffer over the ranks before the clip. With one rank each is the identity, so a
// single-process run is unchanged bit for bit.
//
// Why the losses match one process: the loss is a mean over the B·T rows of the global batch.
// Each rank's loss is the mean over its B/N rows·T, so the global mean — and its gradient — is the
// plain mean over ranks of the per-rank ones (equal shards make the weights equal). The sums run in
// a different order than one process's GEMMs, so the numbers agree to float rounding, not bitwise;
// between runs with the same N they repeat bitwise (dist/communicator.h says the order).
// Test: ./bin/tests "[dist]".
#pragma once
#include <memory>
#include <vector>

#include "dist/communicator.h"
#include "nn/flat_parameters.h"
#include "train/batch.h"
#include "train/train_config.h"

namespace splatlm {

// Connects (config.dist, config.dist_timeout) and checks, before any work, that the global batch
// divides over the ranks and that the kind suits config.device. One line naming the flag otherwise.
std::unique_ptr<dist::Communicator> connect_ranks(const TrainConfig& config);

// Rows [r·B/N, (r+1)·B/N) of the B windows of T+1 tokens every rank sampled alike, as a Batch.
Batch rank_batch(const std::vector<int32_t>& windows, int64_t B, int64_t T, const dist::Communicator& comm);
// Rows [r·B/N, (r+1)·B/N) of a global batch every rank drew alike.
Batch rank_batch(const Batch& global, const dist::Communicator& comm);

// The flat gradient buffer becomes its mean over the ranks, all-reduced bucket by bucket.
void average_gradients(FlatParameters& flat, dist::Communicator& comm, double bucket_mb);

}  // namespace splatlm
