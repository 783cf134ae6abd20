// device_buffer.h — a typed scratch buffer in device memory (ids, targets, partial sums) that the
// kernels need beside float tensors. Host code: allocates through cuda::device_malloc (the caching
// allocator) and frees on destruction. Kernels on the default stream run in launch order, so a
// buffer freed (and reused) after a launch is never overwritten before that kernel has read it.
#pragma once
#include <cstddef>
#include <vector>

#include "cuda/runtime.h"

namespace splatlm::cuda {

template <class T>
class DeviceBuffer {
  public:
    explicit DeviceBuffer(size_t count)
        : count_(count), data_(static_cast<T*>(device_malloc((count ? count : 1) * sizeof(T)))) {}
    explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
        if (count_) copy_to_device(data_, host.data(), count_ * sizeof(T));
    }
    ~DeviceBuffer() { device_free(data_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    T* data() { return data_; }
    const T* data() const { return data_; }
    std::vector<T> to_host() const {  // waits for the kernels before it (a synchronous copy)
        std::vector<T> host(count_);
        if (count_) copy_to_host(host.data(), data_, count_ * sizeof(T));
        return host;
    }

  private:
    size_t count_;
    T* data_;
};

}  // namespace splatlm::cuda
