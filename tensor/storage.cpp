#include "tensor/storage.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

#include "cuda/runtime.h"
#include "tensor/error.h"

namespace splatlm {

Device parse_device(const std::string& name) {
    if (name == "cpu") return Device::CPU;
    if (name == "cuda") return Device::CUDA;
    fail("unknown device '", name, "' (expected cpu or cuda)");
}

namespace {
// Training allocates and frees the same large activations every step. By default glibc serves
// big blocks with fresh mmap()s and returns them on free, so every step page-faults (and zeroes)
// all its activation memory again; keeping them in the heap makes reuse free.
const bool kReuseLargeBlocks = [] {
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    return true;
}();
}  // namespace

Storage::Storage(int64_t size, Device device) : size_(size), device_(device) {
    SPLATLM_CHECK(size >= 0, "storage: negative size ", size);
    size_t bytes = static_cast<size_t>(size > 0 ? size : 1) * sizeof(float);
    if (device == Device::CPU) {
        bytes = (bytes + 63) / 64 * 64;  // aligned_alloc wants a multiple of the alignment
        data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
        if (!data_) throw std::bad_alloc();
    } else {
        data_ = static_cast<float*>(cuda::device_malloc(bytes));
    }
}

Storage::~Storage() {
    if (device_ == Device::CPU)
        std::free(data_);
    else
        cuda::device_free(data_);
}

}  // namespace splatlm
