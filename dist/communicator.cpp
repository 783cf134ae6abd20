// communicator.cpp — the single-process communicator, the shared helpers, and connect() by name.
// The MPI and NCCL kinds live in mpi.cpp and nccl.cpp (or their *_stub.cpp in builds without them).
#include "dist/communicator.h"

#include "dist/connect.h"
#include "tensor/error.h"

namespace splatlm::dist {

void Communicator::all_reduce_mean_device(float*, int64_t) {
    fail("dist: the '", kind(), "' communicator reduces host buffers only (GPU training across ranks needs --dist nccl)");
}

float Communicator::mean(float value) {
    all_reduce_sum(&value, 1);
    return value / float(size());
}

namespace {

class SingleProcess final : public Communicator {
  public:
    int rank() const override { return 0; }
    int size() const override { return 1; }
    std::string kind() const override { return "none"; }
    void all_reduce_sum(float*, int64_t) override {}
    void all_reduce_mean_device(float*, int64_t) override {}
    void broadcast(void*, int64_t, int) override {}
    void barrier() override {}
};

}  // namespace

std::unique_ptr<Communicator> single_process() { return std::make_unique<SingleProcess>(); }

std::unique_ptr<Communicator> connect(const std::string& kind, double timeout_s) {
    SPLATLM_CHECK(timeout_s > 0, "--dist_timeout must be positive, got ", timeout_s);
    if (kind == "none") return single_process();
    if (kind == "mpi") return connect_mpi(timeout_s);
    if (kind == "nccl") return connect_nccl(timeout_s);
    fail("--dist: unknown kind '", kind, "' (expected none, mpi or nccl)");
}

}  // namespace splatlm::dist
