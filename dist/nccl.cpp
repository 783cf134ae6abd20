// nccl.cpp — the NCCL communicator (kind "nccl"): one GPU per rank, device buffers all-reduced by
// NCCL. MPI (mpi.cpp) launches the ranks, carries the host collectives (losses, barrier) and hands
// rank 0's ncclUniqueId to the others. Compiled when the build has nvcc, nccl.h and MPI.
//
// Order: NCCL picks its own algorithm (ring or tree) and its ncclAvg rounding, so device all-reduces
// agree across ranks but are not promised to repeat bitwise across N or NCCL versions.
// Faults: the all-reduce is enqueued, then its stream is polled against the deadline; past it the
// NCCL communicator is aborted and MPI stops the job. Nothing here has run on a GPU in this repo's
// CI (it has none): docs/DISTRIBUTED.md says what was checked and how to run it.
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cuda/check.h"
#include "cuda/runtime.h"
#include "dist/connect.h"

namespace splatlm::dist {

namespace {

using Clock = std::chrono::steady_clock;

void nccl_check(ncclResult_t result, const char* what) {
    if (result != ncclSuccess) fail("dist: NCCL ", what, " failed: ", ncclGetErrorString(result));
}

class Nccl final : public Communicator {
  public:
    Nccl(std::unique_ptr<Communicator> mpi, double timeout_s) : mpi_(std::move(mpi)), timeout_s_(timeout_s) {
        const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");  // one GPU per rank on each node
        int gpus = 0;
        CUDA_CHECK(cudaGetDeviceCount(&gpus));
        const int device = (local ? std::atoi(local) : mpi_->rank()) % gpus;
        cuda::set_device(device);
        ncclUniqueId id;
        if (mpi_->is_root()) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
        mpi_->broadcast(&id, sizeof id, 0);
        nccl_check(ncclCommInitRank(&comm_, mpi_->size(), id, mpi_->rank()), "ncclCommInitRank");
        CUDA_CHECK(cudaStreamCreate(&stream_));
    }
    ~Nccl() override {
        ncclCommDestroy(comm_);
        cudaStreamDestroy(stream_);
    }

    int rank() const override { return mpi_->rank(); }
    int size() const override { return mpi_->size(); }
    std::string kind() const override { return "nccl"; }
    void all_reduce_sum(float* data, int64_t count) override { mpi_->all_reduce_sum(data, count); }
    void broadcast(void* data, int64_t bytes, int root) override { mpi_->broadcast(data, bytes, root); }
    void barrier() override { mpi_->barrier(); }

    void all_reduce_mean_device(float* data, int64_t count) override {
        cuda::synchronize();  // the backward's kernels (default stream) have written the gradients
        nccl_check(ncclAllReduce(data, data, size_t(count), ncclFloat, ncclAvg, comm_, stream_), "all-reduce");
        const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s_);
        for (;;) {
            const cudaError_t state = cudaStreamQuery(stream_);
            if (state == cudaSuccess) return;
            if (state != cudaErrorNotReady) CUDA_CHECK(state);
            if (Clock::now() > deadline) {
                std::fprintf(stderr, "dist: rank %d of %d waited %.0f s in the NCCL all-reduce: another rank died or hangs; stopping all ranks\n",
                             rank(), size(), timeout_s_);
                ncclCommAbort(comm_);
                std::_Exit(1);  // mpirun sees a rank leave without finalizing and stops the others
            }
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    }

  private:
    std::unique_ptr<Communicator> mpi_;
    double timeout_s_;
    ncclComm_t comm_ = nullptr;
    cudaStream_t stream_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> connect_nccl(double timeout_s) {
    cuda::require_gpu("--dist nccl");
    return std::make_unique<Nccl>(connect_mpi(timeout_s), timeout_s);
}

}  // namespace splatlm::dist
