// runtime.cu — device queries, memory and copies through the CUDA runtime. Every call is checked
// and a failure names the file, line and call.
#include <cstdio>
#include <exception>

#include "cuda/check.h"
#include "cuda/runtime.h"

namespace splatlm::cuda {

bool built_with_cuda() { return true; }

bool available(std::string* why_not) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {  // e.g. no driver, or a driver older than the runtime
        if (why_not) *why_not = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err);
        return false;
    }
    if (count == 0) {
        if (why_not) *why_not = "no CUDA device found";
        return false;
    }
    return true;
}

std::vector<DeviceInfo> devices(std::string* why_not) {
    std::vector<DeviceInfo> found;
    if (!available(why_not)) return found;
    int count = 0, current = 0;
    CUDA_CHECK(cudaGetDeviceCount(&count));
    CUDA_CHECK(cudaGetDevice(&current));
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop;
        CUDA_CHECK(cudaGetDeviceProperties(&prop, i));
        DeviceInfo info{prop.name, 0, 0, prop.major, prop.minor};
        CUDA_CHECK(cudaSetDevice(i));  // cudaMemGetInfo reports on the current device
        CUDA_CHECK(cudaMemGetInfo(&info.free_bytes, &info.total_bytes));
        found.push_back(info);
    }
    CUDA_CHECK(cudaSetDevice(current));
    return found;
}

void set_device(int index) { CUDA_CHECK(cudaSetDevice(index)); }

namespace {
CachingAllocator& allocator() {
    // Never destroyed: at exit the CUDA runtime may already be torn down, and the driver reclaims
    // the process's memory anyway.
    static CachingAllocator* instance = new CachingAllocator(
        [](size_t bytes) {
            std::string why;
            SPLATLM_CHECK(available(&why), "CUDA: cannot allocate ", bytes, " bytes: no usable GPU: ", why);
            void* ptr = nullptr;
            CUDA_CHECK(cudaMalloc(&ptr, bytes));
            return ptr;
        },
        [](void* ptr, size_t) { CUDA_CHECK(cudaFree(ptr)); });
    return *instance;
}
}  // namespace

void* device_malloc(size_t bytes) { return allocator().allocate(bytes); }

// Storage's destructor calls this, so it must not throw. release() makes no CUDA call (the block
// only moves to the cache); its one failure is a pointer the allocator does not know or already
// took back — a bug above, reported on stderr (the block is leaked, nothing else is touched).
void device_free(void* ptr) {
    if (!ptr) return;
    try {
        allocator().release(ptr);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "splatlm: device_free: %s\n", e.what());
    }
}

CachingAllocator::Stats allocator_stats() { return allocator().stats(); }
void empty_cache() { allocator().empty_cache(); }
void reset_peak_memory() { allocator().reset_peak(); }
void synchronize() { CUDA_CHECK(cudaDeviceSynchronize()); }

void copy_to_device(void* dst, const void* src, size_t bytes) {
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes) {
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}

}  // namespace splatlm::cuda
