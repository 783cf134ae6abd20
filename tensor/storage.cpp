// storage.cpp — Storage on the CPU (aligned_alloc, and a cache of mmap'd blocks for big buffers) and
// on CUDA (cuda/runtime.h), the CPU memory counters behind cpu_memory_stats(), device names, and
// tune_allocator_for_reuse().
#include "tensor/storage.h"

#include <malloc.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "cuda/caching_allocator.h"
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

// CPU buffers of kBigCpuBuffer bytes and more (a large vocabulary's logits and their gradients, big
// activations) come from a size-class cache over anonymous mmap, not from malloc's heap. In the heap
// such a block, freed and re-allocated every step among many small ones, left holes the heap never
// gave back: on the GPT-2-small shape the resident set was 3.0–3.1 GiB for 2.4 GiB of tensors, 2.7
// GiB with this cache. Handed back to the kernel at every free instead, they would be faulted in
// afresh each step (13% of that step). Cached, a step reuses last step's blocks exactly
// (cuda/caching_allocator.h: a block serves its own size class only).

// Never destroyed: a tensor released during static destruction still finds it (the OS takes the
// blocks back at exit).
cuda::CachingAllocator& big_buffers() {
    static cuda::CachingAllocator* cache = new cuda::CachingAllocator(
        [](size_t bytes) -> void* {
            void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            return p == MAP_FAILED ? nullptr : p;
        },
        [](void* p, size_t bytes) { munmap(p, bytes); });
    return *cache;
}

// A block only serves its own size class, so a run whose sizes change (evaluation at one length
// after another) would keep every class it ever used. When the blocks held pass twice the most
// ever in use at once, the idle ones go back to the kernel: the mapped total stays within 2× that peak.
void release_big_buffer(void* p) {
    cuda::CachingAllocator& cache = big_buffers();
    cache.release(p);
    const cuda::CachingAllocator::Stats s = cache.stats();
    if (s.bytes_in_use + s.bytes_cached > 2 * s.peak_bytes_in_use) cache.empty_cache();
}

std::atomic<int64_t> g_live_bytes{0}, g_peak_bytes{0};

void count_allocation(int64_t bytes) {
    const int64_t live = g_live_bytes.fetch_add(bytes) + bytes;
    int64_t peak = g_peak_bytes.load();
    while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
    }
}
}  // namespace

BigBufferStats big_cpu_buffer_stats() {
    const cuda::CachingAllocator::Stats s = big_buffers().stats();
    return {s.bytes_in_use, s.bytes_cached, s.peak_bytes_in_use};
}

MemoryStats cpu_memory_stats() { return {g_live_bytes.load(), g_peak_bytes.load()}; }
void reset_cpu_peak_memory() { g_peak_bytes.store(g_live_bytes.load()); }

Storage::Storage(int64_t size, Device device) : size_(size), device_(device) {
    SPLATLM_CHECK(size >= 0, "storage: negative size ", size);
    if (device == Device::CPU) {
        const size_t bytes = cpu_bytes(size);
        data_ = static_cast<float*>(bytes >= kBigCpuBuffer ? big_buffers().allocate(bytes) : std::aligned_alloc(64, bytes));
        if (!data_) throw std::bad_alloc();
        count_allocation(static_cast<int64_t>(bytes));
    } else {
        data_ = static_cast<float*>(cuda::device_malloc(static_cast<size_t>(size > 0 ? size : 1) * sizeof(float)));
    }
}

Storage::~Storage() {
    if (device_ == Device::CPU) {
        const size_t bytes = cpu_bytes(size_);
        if (bytes >= kBigCpuBuffer)
            release_big_buffer(data_);
        else
            std::free(data_);
        count_allocation(-static_cast<int64_t>(bytes));
    } else
        cuda::device_free(data_);
}

}  // namespace splatlm
