// storage.cpp — Storage on the CPU (aligned_alloc) and on CUDA (cuda/runtime.h), the CPU memory
// counters behind cpu_memory_stats(), device names, and tune_allocator_for_reuse().
#include "tensor/storage.h"

#include <malloc.h>

#include <atomic>
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

void tune_allocator_for_reuse() {
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

namespace {
// What a CPU buffer of `size` floats occupies: aligned_alloc wants a multiple of the alignment.
size_t cpu_bytes(int64_t size) { return (static_cast<size_t>(size > 0 ? size : 1) * sizeof(float) + 63) / 64 * 64; }

std::atomic<int64_t> g_live_bytes{0}, g_peak_bytes{0};

void count_allocation(int64_t bytes) {
    const int64_t live = g_live_bytes.fetch_add(bytes) + bytes;
    int64_t peak = g_peak_bytes.load();
    while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
    }
}
}  // namespace

MemoryStats cpu_memory_stats() { return {g_live_bytes.load(), g_peak_bytes.load()}; }
void reset_cpu_peak_memory() { g_peak_bytes.store(g_live_bytes.load()); }

Storage::Storage(int64_t size, Device device) : size_(size), device_(device) {
    SPLATLM_CHECK(size >= 0, "storage: negative size ", size);
    if (device == Device::CPU) {
        data_ = static_cast<float*>(std::aligned_alloc(64, cpu_bytes(size)));
        if (!data_) throw std::bad_alloc();
        count_allocation(static_cast<int64_t>(cpu_bytes(size)));
    } else {
        data_ = static_cast<float*>(cuda::device_malloc(static_cast<size_t>(size > 0 ? size : 1) * sizeof(float)));
    }
}

Storage::~Storage() {
    if (device_ == Device::CPU) {
        std::free(data_);
        count_allocation(-static_cast<int64_t>(cpu_bytes(size_)));
    } else
        cuda::device_free(data_);
}

}  // namespace splatlm
