#include "cuda/caching_allocator.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <string>

#include "tensor/error.h"

namespace splatlm::cuda {

CachingAllocator::CachingAllocator(RawAllocate raw_allocate, RawFree raw_free)
    : raw_allocate_(std::move(raw_allocate)), raw_free_(std::move(raw_free)) {}

CachingAllocator::~CachingAllocator() {
    try {
        empty_cache();
    } catch (...) {  // a destructor must not throw; the blocks are lost either way
    }
}

size_t CachingAllocator::size_class(size_t bytes) {
    const size_t step = bytes <= kSmallLimit ? kSmallStep : kLargeStep;
    SPLATLM_CHECK(bytes <= std::numeric_limits<size_t>::max() - step, "CachingAllocator: request of ", bytes,
                  " bytes is too large");
    return bytes == 0 ? kSmallStep : (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(size_t bytes) {
    const size_t size = size_class(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    auto cached = free_.find(size);
    if (cached != free_.end() && !cached->second.empty()) {
        void* ptr = cached->second.back();
        cached->second.pop_back();
        blocks_[ptr].in_use = true;
        stats_.bytes_cached -= size;
        note_in_use(size);
        return ptr;
    }
    // One raw attempt: the block, or null with `why` saying what went wrong.
    std::string why;
    auto attempt = [&]() -> void* {
        try {
            void* ptr = raw_allocate_(size);
            if (!ptr) why = "the raw allocator returned null";
            return ptr;
        } catch (const std::exception& e) {
            why = e.what();
            return nullptr;
        }
    };
    void* ptr = attempt();
    if (!ptr && stats_.bytes_cached > 0) {  // memory may be sitting in other classes' free lists
        empty_cache_locked();
        ptr = attempt();
    }
    SPLATLM_CHECK(ptr, "CachingAllocator: cannot allocate ", bytes, " bytes (class ", size, " bytes): ", why);
    blocks_[ptr] = {size, true};
    ++stats_.raw_allocations;
    note_in_use(size);
    return ptr;
}

void CachingAllocator::note_in_use(size_t size) {
    stats_.bytes_in_use += size;
    stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
}

void CachingAllocator::reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

void CachingAllocator::release(void* ptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = blocks_.find(ptr);
    SPLATLM_CHECK(it != blocks_.end(), "CachingAllocator: release of pointer ", ptr,
                  " that this allocator did not hand out");
    SPLATLM_CHECK(it->second.in_use, "CachingAllocator: pointer ", ptr, " released twice");
    it->second.in_use = false;
    free_[it->second.size].push_back(ptr);
    stats_.bytes_in_use -= it->second.size;
    stats_.bytes_cached += it->second.size;
}

void CachingAllocator::empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() {
    for (auto& [size, list] : free_) {
        while (!list.empty()) {
            raw_free_(list.back(), size);  // on a throw, this block and the rest stay cached
            blocks_.erase(list.back());
            list.pop_back();
            ++stats_.raw_frees;
            stats_.bytes_cached -= size;
        }
    }
}

CachingAllocator::Stats CachingAllocator::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

}  // namespace splatlm::cuda
