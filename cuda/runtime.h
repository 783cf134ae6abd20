// runtime.h — the only CUDA entry points the layers above see. Implemented in runtime.cu when
// nvcc is present, and by runtime_stub.cpp (clear "built without CUDA" errors) when it is not,
// so a CPU-only build links and `--device cuda` fails with one readable line.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "cuda/caching_allocator.h"
#include "tensor/error.h"

namespace splatlm::cuda {

bool built_with_cuda();
// True when a usable GPU is present; otherwise false with the reason (no driver, no device, ...),
// phrased to follow "no GPU: ".
bool available(std::string* why_not = nullptr);

struct DeviceInfo {
    std::string name;
    size_t free_bytes, total_bytes;
    int major, minor;  // compute capability
};
// Every GPU found; empty with the reason in *why_not when there is no usable one.
std::vector<DeviceInfo> devices(std::string* why_not = nullptr);
// Fails with one line, "<who>: no GPU: <reason>", unless a usable GPU is present.
inline void require_gpu(const std::string& who) {
    std::string why;
    if (!available(&why)) fail(who, ": no GPU: ", why);
}
void set_device(int index);  // the device later allocations and copies use (default 0)

// Device memory comes from one process-wide CachingAllocator over cudaMalloc/cudaFree. It serves
// the current device: switch devices only with nothing cached (empty_cache()), as doctor does.
void* device_malloc(size_t bytes);
void device_free(void* ptr);  // never throws: it runs from destructors (see runtime.cu)
CachingAllocator::Stats allocator_stats();
void empty_cache();  // hand the cached blocks back to cudaFree
void reset_peak_memory();  // allocator_stats().peak_bytes_in_use starts again from what is in use
void synchronize();        // waits until every queued kernel and copy has run (timings end with it)

void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void copy_device_to_device(void* dst, const void* src, size_t bytes);

}  // namespace splatlm::cuda
