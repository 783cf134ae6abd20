// mpi.cpp — the MPI communicator (kind "mpi"): ranks started by `mpirun -np N`, host buffers.
//
// all_reduce_sum is a ring all-reduce written over MPI point-to-point (not MPI_Allreduce, whose
// summation order the standard leaves open): N−1 reduce-scatter steps in which chunk c travels
// from rank c+1 around the ring gathering one addend per rank, then N−1 all-gather steps that copy
// the finished chunks unchanged. Each rank sends and receives 2·(N−1)/N of the buffer: the
// bandwidth-optimal schedule, and the one docs/DISTRIBUTED.md models.
//
// Faults: MPI errors return codes (MPI_ERRORS_RETURN) and every wait polls against a deadline, so a
// rank that died or hangs turns into one line on stderr and MPI_Abort, which makes mpirun stop the
// whole job. Test: ./bin/tests "[dist]".
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "dist/connect.h"
#include "tensor/error.h"

namespace splatlm::dist {

bool mpi_built() { return true; }

namespace {

using Clock = std::chrono::steady_clock;

bool started_by_mpirun() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
        if (std::getenv(name)) return true;
    return false;
}

class Mpi final : public Communicator {
  public:
    explicit Mpi(double timeout_s) : timeout_s_(timeout_s) {
        MPI_Init(nullptr, nullptr);
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
    }
    ~Mpi() override { MPI_Finalize(); }

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    std::string kind() const override { return "mpi"; }

    void all_reduce_sum(float* data, int64_t count) override {
        const int n = size_;
        if (n == 1 || count == 0) return;
        auto begin = [&](int chunk) { return count * chunk / n; };
        auto length = [&](int chunk) { return begin(chunk + 1) - begin(chunk); };
        SPLATLM_CHECK(length(0) + 1 < INT_MAX, "dist: all-reduce chunk of ", length(0), " floats is too large for MPI");
        scratch_.resize(size_t(count / n + 1));
        const int right = (rank_ + 1) % n, left = (rank_ + n - 1) % n;
        auto mod = [n](int i) { return ((i % n) + n) % n; };
        for (int s = 0; s < n - 1; ++s) {  // reduce-scatter: chunk c starts at rank c+1, ends at rank c
            const int send = mod(rank_ - s - 1), recv = mod(rank_ - s - 2);
            exchange(data + begin(send), int(length(send)), right, scratch_.data(), int(length(recv)), left, "all-reduce");
            float* mine = data + begin(recv);
            for (int64_t i = 0; i < length(recv); ++i) mine[i] = scratch_[i] + mine[i];
        }
        for (int s = 0; s < n - 1; ++s) {  // all-gather: pass each finished chunk on unchanged
            const int send = mod(rank_ - s), recv = mod(rank_ - s - 1);
            exchange(data + begin(send), int(length(send)), right, data + begin(recv), int(length(recv)), left, "all-reduce");
        }
    }

    void broadcast(void* data, int64_t bytes, int root) override {
        SPLATLM_CHECK(bytes < INT_MAX, "dist: broadcast of ", bytes, " bytes is too large");
        MPI_Request request;
        check(MPI_Ibcast(data, int(bytes), MPI_BYTE, root, MPI_COMM_WORLD, &request), "broadcast");
        wait(&request, 1, "broadcast");
    }

    void barrier() override {
        MPI_Request request;
        check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "barrier");
        wait(&request, 1, "barrier");
    }

  private:
    void exchange(const float* send, int send_count, int to, float* recv, int recv_count, int from, const char* what) {
        MPI_Request requests[2];
        check(MPI_Irecv(recv, recv_count, MPI_FLOAT, from, 0, MPI_COMM_WORLD, &requests[0]), what);
        check(MPI_Isend(send, send_count, MPI_FLOAT, to, 0, MPI_COMM_WORLD, &requests[1]), what);
        wait(requests, 2, what);
    }

    // Polls until the requests complete; past the deadline the job stops (a rank died or hangs).
    void wait(MPI_Request* requests, int count, const char* what) {
        const Clock::time_point start = Clock::now();
        const auto deadline = start + std::chrono::duration<double>(timeout_s_);
        for (;;) {
            int done = 0;
            check(MPI_Testall(count, requests, &done, MPI_STATUSES_IGNORE), what);
            if (done) return;
            if (Clock::now() > deadline) {
                std::fprintf(stderr, "dist: rank %d of %d waited %.0f s in %s: another rank died or hangs; stopping all ranks\n",
                             rank_, size_, timeout_s_, what);
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            // Yield for the first 2 ms (an all-reduce's usual wait), then sleep: a rank waiting out
            // rank 0's evaluation should not burn a core that rank 0 could use.
            if (Clock::now() - start < std::chrono::milliseconds(2))
                std::this_thread::yield();
            else
                std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }

    void check(int code, const char* what) {
        if (code == MPI_SUCCESS) return;
        char text[MPI_MAX_ERROR_STRING];
        int length = 0;
        MPI_Error_string(code, text, &length);
        std::fprintf(stderr, "dist: MPI error in %s on rank %d of %d: %.*s; stopping all ranks\n", what, rank_, size_,
                     length, text);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }

    double timeout_s_;
    int rank_ = 0, size_ = 1;
    std::vector<float> scratch_;
};

}  // namespace

std::unique_ptr<Communicator> connect_mpi(double timeout_s) {
    SPLATLM_CHECK(started_by_mpirun(), "--dist mpi: not started by mpirun (run: mpirun -np N bin/splatlm train --dist mpi ...)");
    return std::make_unique<Mpi>(timeout_s);
}

}  // namespace splatlm::dist
