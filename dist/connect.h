// connect.h — the constructors behind dist::connect (communicator.h), one per kind, each in its own
// file with a *_stub.cpp twin for builds without the library (mpi.cpp / mpi_stub.cpp,
// nccl.cpp / nccl_stub.cpp). Internal to dist/.
#pragma once
#include <memory>

#include "dist/communicator.h"

namespace splatlm::dist {

std::unique_ptr<Communicator> connect_mpi(double timeout_s);
std::unique_ptr<Communicator> connect_nccl(double timeout_s);

}  // namespace splatlm::dist
