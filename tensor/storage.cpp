#include "tensor/storage.h"

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
