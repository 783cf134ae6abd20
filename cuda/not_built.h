// not_built.h — what the *_stub.cpp stand-ins say in a build without CUDA.
#pragma once
#include "tensor/error.h"

namespace splatlm::cuda {

inline constexpr const char* kNotBuilt = "this build has no CUDA support (rebuild with nvcc on PATH)";
[[noreturn]] inline void not_built() { fail("CUDA: ", kNotBuilt); }

}  // namespace splatlm::cuda
