// mpi_stub.cpp — compiled instead of mpi.cpp when the build found no MPI (`mpicxx`): --dist mpi
// and --dist nccl say so in one line.
#include "dist/connect.h"
#include "tensor/error.h"

namespace splatlm::dist {

bool mpi_built() { return false; }

std::unique_ptr<Communicator> connect_mpi(double) {
    fail("--dist mpi: this build has no MPI (install openmpi-bin and libopenmpi-dev, then rebuild with make)");
}

}  // namespace splatlm::dist
