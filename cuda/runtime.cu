// runtime.cu — device memory and copies through the CUDA runtime. Every call is checked and a
// failure names the file, line and call. (A caching allocator replaces raw cudaMalloc in the
// CUDA-backend issue.)
#include <cuda_runtime.h>

#include "cuda/runtime.h"
#include "tensor/error.h"

namespace splatlm::cuda {

#define CUDA_CHECK(call)                                                                          \
    do {                                                                                          \
        cudaError_t err_ = (call);                                                                \
        if (err_ != cudaSuccess)                                                                  \
            ::splatlm::fail("CUDA: ", #call, " failed at ", __FILE__, ":", __LINE__, ": ",        \
                            cudaGetErrorString(err_));                                            \
    } while (0)

bool built_with_cuda() { return true; }

bool available(std::string* why_not) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        if (why_not) *why_not = std::string("no usable GPU: ") + cudaGetErrorString(err);
        return false;
    }
    if (count == 0) {
        if (why_not) *why_not = "no usable GPU: no CUDA device found";
        return false;
    }
    return true;
}

void* device_malloc(size_t bytes) {
    std::string why;
    SPLATLM_CHECK(available(&why), "CUDA: cannot allocate ", bytes, " bytes: ", why);
    void* ptr = nullptr;
    CUDA_CHECK(cudaMalloc(&ptr, bytes));
    return ptr;
}

void device_free(void* ptr) {
    if (ptr) cudaFree(ptr);  // never throws from a destructor path
}

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
