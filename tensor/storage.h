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

// Bytes of tensor storage alive on the CPU now, and the most alive at once since the last reset:
// how benchmarks measure the memory an operation really needs (activations, saved tensors).
struct MemoryStats {
    int64_t live_bytes, peak_bytes;
};
MemoryStats cpu_memory_stats();
void reset_cpu_peak_memory();  // peak := live

}  // namespace splatlm
