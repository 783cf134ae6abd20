// caching_allocator.h — a size-class caching allocator over any raw allocate/free pair. runtime.cu
// gives it checked cudaMalloc/cudaFree, so a training step, which frees and re-allocates the same
// activation sizes every step, makes no cudaMalloc after the first; tests give it malloc/free with
// counters. Plain C++ (no CUDA headers), compiled into every build.
//
// Size classes: a request is rounded up to a multiple of 512 B (at least 512 B) while it is at most
// 1 MiB, and to a multiple of 2 MiB above that. A freed block goes to its class's free list and is
// handed out again only for a request of the same class, so large blocks waste at most 2 MiB.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace splatlm::cuda {

class CachingAllocator {
  public:
    // raw_allocate(bytes) returns a block or signals failure by throwing or returning null;
    // raw_free(ptr, bytes) gives back a block raw_allocate(bytes) made (it may throw; see empty_cache()).
    using RawAllocate = std::function<void*(size_t)>;
    using RawFree = std::function<void(void*, size_t)>;

    struct Stats {
        int64_t raw_allocations = 0;  // successful raw_allocate calls so far
        int64_t raw_frees = 0;        // successful raw_free calls so far
        size_t bytes_in_use = 0;      // class sizes of the blocks handed out and not yet released
        size_t bytes_cached = 0;      // class sizes of the released blocks kept for reuse
        size_t peak_bytes_in_use = 0; // the most bytes_in_use has been since creation or reset_peak()
    };

    static constexpr size_t kSmallStep = 512;             // small classes: multiples of 512 B ...
    static constexpr size_t kSmallLimit = size_t(1) << 20;  // ... up to 1 MiB
    static constexpr size_t kLargeStep = size_t(2) << 20;   // then multiples of 2 MiB

    CachingAllocator(RawAllocate raw_allocate, RawFree raw_free);
    ~CachingAllocator();  // frees the cached blocks; blocks still in use belong to their owners
    CachingAllocator(const CachingAllocator&) = delete;
    CachingAllocator& operator=(const CachingAllocator&) = delete;

    static size_t size_class(size_t bytes);  // the block size a request of `bytes` gets

    // A block of at least `bytes`: a cached block of the same class, else a new raw one. When the raw
    // allocator fails while blocks are cached, the cache is emptied and the raw call retried once;
    // a failure after that throws splatlm::Error naming the size and the raw allocator's reason.
    void* allocate(size_t bytes);
    // Returns a block to its class's free list (no raw call). Throws splatlm::Error for a pointer
    // this allocator never handed out or one that was already released.
    void release(void* ptr);
    // Hands every cached block back to raw_free; blocks in use are untouched. If raw_free throws,
    // the exception propagates and the blocks not yet freed stay cached.
    void empty_cache();
    Stats stats() const;
    void reset_peak();  // peak_bytes_in_use starts again from bytes_in_use

  private:
    struct Block {
        size_t size;  // its class size
        bool in_use;
    };
    void empty_cache_locked();
    void note_in_use(size_t size);  // bytes_in_use += size, and the peak

    RawAllocate raw_allocate_;
    RawFree raw_free_;
    mutable std::mutex mutex_;
    std::unordered_map<void*, Block> blocks_;                 // every block we hold, in use or cached
    std::unordered_map<size_t, std::vector<void*>> free_;    // class size -> cached blocks
    Stats stats_;
};

}  // namespace splatlm::cuda
