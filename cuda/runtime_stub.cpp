// runtime_stub.cpp — CPU-only stand-in for runtime.cu, compiled only when nvcc is absent (or CUDA=0).
#include "cuda/runtime.h"

#include "tensor/error.h"

namespace splatlm::cuda {

namespace {
[[noreturn]] void not_built() { fail("CUDA: this build has no CUDA support (rebuild with nvcc on PATH)"); }
}  // namespace

bool built_with_cuda() { return false; }
bool available(std::string* why_not) {
    if (why_not) *why_not = "this build has no CUDA support (rebuild with nvcc on PATH)";
    return false;
}
void* device_malloc(size_t) { not_built(); }
void device_free(void* ptr) {
    if (ptr) not_built();
}
void copy_to_device(void*, const void*, size_t) { not_built(); }
void copy_to_host(void*, const void*, size_t) { not_built(); }
void copy_device_to_device(void*, const void*, size_t) { not_built(); }

}  // namespace splatlm::cuda
