// nccl_stub.cpp — compiled instead of nccl.cpp unless the build has both CUDA (nvcc) and MPI:
// --dist nccl says so in one line.
#include "dist/connect.h"
#include "tensor/error.h"

namespace splatlm::dist {

std::unique_ptr<Communicator> connect_nccl(double) {
    fail("--dist nccl: this build has no NCCL (it needs both nvcc with NCCL and MPI; see the ✓/✗ lines of make)");
}

}  // namespace splatlm::dist
