// storage.h — a flat float32 buffer owned by one device. Tensors are views into a Storage
// (shape + strides + offset), so reshape/transpose/slice never copy.
#pragma once
#include <cstdint>
#include <memory>

#include "tensor/device.h"

namespace splatlm {

class Storage {
  public:
    Storage(int64_t size, Device device);  // uninitialised; CPU buffers are 64-byte aligned
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    float* data() { return data_; }
    const float* data() const { return data_; }
    int64_t size() const { return size_; }
    Device device() const { return device_; }

  private:
    float* data_ = nullptr;
    int64_t size_ = 0;
    Device device_;
};

using StoragePtr = std::shared_ptr<Storage>;

}  // namespace splatlm
