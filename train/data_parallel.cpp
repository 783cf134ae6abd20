// data_parallel.cpp — connect_ranks, rank_batch and average_gradients (train/data_parallel.h).
#include "train/data_parallel.h"

#include <algorithm>

#include "tensor/error.h"

namespace splatlm {

std::unique_ptr<dist::Communicator> connect_ranks(const TrainConfig& c) {
    SPLATLM_CHECK(c.dist != "mpi" || c.device == "cpu",
                  "--dist mpi all-reduces host buffers: train with --device cpu, or use --dist nccl for GPUs");
    SPLATLM_CHECK(c.dist != "nccl" || c.device == "cuda", "--dist nccl all-reduces GPU buffers: it needs --device cuda");
    std::unique_ptr<dist::Communicator> comm = dist::connect(c.dist, c.dist_timeout);
    if (c.batch % comm->size() != 0)
        throw dist::EveryRankError("--batch " + std::to_string(c.batch) + " does not divide over " +
                                       std::to_string(comm->size()) + " ranks: the global batch is split into equal shards (choose a multiple of " +
                                       std::to_string(comm->size()) + ")",
                                   comm->rank());
    return comm;
}

Batch rank_batch(const std::vector<int32_t>& windows, int64_t B, int64_t T, const dist::Communicator& comm) {
    return rank_batch(make_batch(windows, B, T), comm);
}

Batch rank_batch(const Batch& global, const dist::Communicator& comm) {
    if (comm.size() == 1) return global;
    const int64_t B = global.inputs.shape[0], T = global.inputs.shape[1];
    const int64_t rows = B / comm.size(), first = comm.rank() * rows * T;
    const auto slice = [&](const std::vector<int32_t>& ids) {
        return std::vector<int32_t>(ids.begin() + first, ids.begin() + first + rows * T);
    };
    return Batch{{{rows, T}, slice(global.inputs.ids)}, {{rows * T}, slice(global.targets.ids)}};
}

void average_gradients(FlatParameters& flat, dist::Communicator& comm, double bucket_mb) {
    if (comm.size() == 1) return;
    const int64_t bucket = std::max<int64_t>(1, int64_t(bucket_mb * (1 << 20) / sizeof(float)));
    float* grads = flat.grads();
    const float ranks = float(comm.size());
    for (int64_t begin = 0; begin < flat.size(); begin += bucket) {
        const int64_t count = std::min(bucket, flat.size() - begin);
        if (flat.device() == Device::CUDA) {
            comm.all_reduce_mean_device(grads + begin, count);
        } else {
            comm.all_reduce_sum(grads + begin, count);
            for (int64_t i = begin; i < begin + count; ++i) grads[i] /= ranks;
        }
    }
}

}  // namespace splatlm
