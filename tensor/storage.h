// storage.h — a flat float32 buffer owned by one device. Tensors are views into a Storage
// (shape + strides + offset), so reshape/transpose/slice never copy.
#pragma once
#include <cstddef>
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

// CPU storage of this many bytes or more comes from a cache of mmap'd blocks reused by size class
// (storage.cpp says why), smaller storage from malloc.
inline constexpr size_t kBigCpuBuffer = size_t(16) << 20;
// That cache's bytes: handed out now, held idle, and the most handed out at once.
struct BigBufferStats {
    size_t in_use, cached, peak_in_use;
};
BigBufferStats big_cpu_buffer_stats();

// Tunes glibc's malloc for a program that allocates and frees the same large buffers over and
// over (training: every step's activations). By default glibc serves big blocks with fresh
// mmap()s and returns them on free, so every step page-faults (and zeroes) all its activation
// memory again; this keeps blocks up to 512 MiB in the heap and trims it only past 1 GiB, which
// makes reuse free. It changes the whole process, so the library never calls it: a program's
// main calls it once at start-up (bin/splatlm does), and a test that measures reuse calls it
// itself. Calling it again is harmless; without glibc it does nothing.
void tune_allocator_for_reuse();

}  // namespace splatlm
