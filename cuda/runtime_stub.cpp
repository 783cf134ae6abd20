// runtime_stub.cpp — CPU-only stand-in for runtime.cu, compiled only when nvcc is absent (or CUDA=0).
#include "cuda/runtime.h"

#include "cuda/not_built.h"

namespace splatlm::cuda {

bool built_with_cuda() { return false; }
bool available(std::string* why_not) {
    if (why_not) *why_not = kNotBuilt;
    return false;
}
std::vector<DeviceInfo> devices(std::string* why_not) {
    available(why_not);
    return {};
}
void set_device(int) { not_built(); }
void* device_malloc(size_t) { not_built(); }
void device_free(void*) {}  // device_malloc never succeeds here: nothing can need freeing
CachingAllocator::Stats allocator_stats() { return {}; }
void empty_cache() {}
void reset_peak_memory() {}
void synchronize() { not_built(); }
void copy_to_device(void*, const void*, size_t) { not_built(); }
void copy_to_host(void*, const void*, size_t) { not_built(); }
void copy_device_to_device(void*, const void*, size_t) { not_built(); }

}  // namespace splatlm::cuda
