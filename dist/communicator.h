// communicator.h — the processes of one data-parallel run, as flat buffers see them.
//
// dist/ knows buffers, not models: train/ hands it the flat gradient buffer (nn/flat_parameters.h)
// after the backward and gets back the mean over ranks. Three kinds, picked by name:
//   none  one process (size 1): every collective is the identity; the default
//   mpi   ranks launched by `mpirun -np N`, host buffers, a ring all-reduce over MPI point-to-point
//   nccl  one GPU per rank, device buffers all-reduced by NCCL; MPI launches and shares the NCCL id
//
// Reduction order (so runs repeat bitwise): the buffer is cut into N equal chunks; chunk c is summed
// around the ring starting at rank c+1: ((g[c+1] + g[c+2]) + …) + g[c] (indices mod N), then copied
// unchanged to every rank. The order depends only on N, never on timing, so every rank holds the
// same bits and a rerun with the same N repeats them. Every wait has a deadline (`timeout_s`): a rank
// that died or hangs makes the others print one line and stop the whole job instead of waiting forever.
//
// Test: ./bin/tests "[dist]" (the MPI cases run `mpirun` with 2 and 3 ranks; skipped without MPI).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "tensor/error.h"

namespace splatlm::dist {

// Bad input that every rank finds alike after connecting (a batch that does not divide): each rank
// throws it and exits non-zero, and rank 0 alone prints it, so the line appears once, not N times.
struct EveryRankError : Error {
    int rank;
    EveryRankError(const std::string& what, int rank) : Error(what), rank(rank) {}
};

class Communicator {
  public:
    virtual ~Communicator() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    bool is_root() const { return rank() == 0; }
    virtual std::string kind() const = 0;  // "none", "mpi" or "nccl"

    // Sum of `count` host floats over all ranks, in place, in the fixed order above.
    virtual void all_reduce_sum(float* data, int64_t count) = 0;
    // The mean over ranks of a CUDA device buffer, in place (kind "nccl"; the others say they cannot).
    virtual void all_reduce_mean_device(float* data, int64_t count);
    // Copies `bytes` from `root`'s host buffer into every other rank's.
    virtual void broadcast(void* data, int64_t bytes, int root) = 0;
    // Returns when every rank has arrived; stops the job if one has not within the timeout.
    virtual void barrier() = 0;

    // The mean over ranks of one host value (a loss): the sum in the order above, divided by N.
    float mean(float value);
};

// The single-process communicator (kind "none").
std::unique_ptr<Communicator> single_process();

// Connects by kind name ("none", "mpi", "nccl"); timeout_s bounds every wait. Errors (a build
// without MPI, not started by mpirun, no GPU for nccl) are one line naming --dist, before any work.
std::unique_ptr<Communicator> connect(const std::string& kind, double timeout_s);

// Whether this build can do kind "mpi" (tests skip with a message when not).
bool mpi_built();

}  // namespace splatlm::dist
