// The caching allocator's logic over a counting fake of malloc/free (runs on any machine), and a
// device round trip through it that runs only where a GPU is present (skipped visibly otherwise).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "cuda/caching_allocator.h"
#include "cuda/runtime.h"
#include "tests/helpers.h"

using namespace splatlm;
using splatlm::cuda::CachingAllocator;
using Catch::Contains;

namespace {

// malloc/free with counters and an optional capacity: past it, allocation fails (null or throw).
struct FakeRaw {
    std::atomic<int64_t> allocations{0}, frees{0}, live_bytes{0};
    size_t capacity = SIZE_MAX;
    bool fail_by_throwing = false;
    std::mutex mutex;
    std::unordered_map<void*, size_t> sizes;

    CachingAllocator make() {
        return CachingAllocator(
            [this](size_t bytes) -> void* {
                if (size_t(live_bytes.load()) + bytes > capacity) {
                    if (fail_by_throwing) fail("fake device: out of memory");
                    return nullptr;
                }
                void* p = std::malloc(bytes);
                std::lock_guard<std::mutex> lock(mutex);
                sizes[p] = bytes;
                ++allocations, live_bytes += int64_t(bytes);
                return p;
            },
            [this](void* p, size_t bytes) {
                std::lock_guard<std::mutex> lock(mutex);
                REQUIRE(bytes == sizes.at(p));  // the size the block was allocated with
                live_bytes -= int64_t(sizes.at(p));
                sizes.erase(p);
                ++frees;
                std::free(p);
            });
    }
};

}  // namespace

TEST_CASE("caching allocator: a repeated training step makes no raw allocation after the first", "[cuda]") {
    FakeRaw raw;
    {
        CachingAllocator alloc = raw.make();
        // One "step": parameters-sized and activation-sized buffers of small and large classes,
        // several alive at once, released in an order unlike the allocation order.
        auto step = [&] {
            std::vector<void*> live;
            for (size_t bytes : {size_t(4), size_t(3000), size_t(3000), size_t(700000), size_t(5u << 20), size_t(33u << 20)})
                live.push_back(alloc.allocate(bytes));
            for (size_t i = 0; i < live.size(); i += 2) alloc.release(live[i]);
            for (size_t i = 1; i < live.size(); i += 2) alloc.release(live[i]);
        };
        step();
        const int64_t after_first = raw.allocations.load();
        REQUIRE(after_first == 6);
        for (int i = 0; i < 20; ++i) step();
        REQUIRE(raw.allocations.load() == after_first);
        REQUIRE(raw.frees.load() == 0);
        const CachingAllocator::Stats s = alloc.stats();
        REQUIRE(s.raw_allocations == 6);
        REQUIRE(s.bytes_in_use == 0);
        REQUIRE(s.bytes_cached == size_t(raw.live_bytes.load()));
    }
    REQUIRE(raw.frees.load() == 6);  // the destructor hands the cache back
    REQUIRE(raw.live_bytes.load() == 0);
}

TEST_CASE("caching allocator: sizes round up to their class, and classes never share a block", "[cuda]") {
    REQUIRE(CachingAllocator::size_class(0) == 512);
    REQUIRE(CachingAllocator::size_class(1) == 512);
    REQUIRE(CachingAllocator::size_class(500) == 512);
    REQUIRE(CachingAllocator::size_class(512) == 512);
    REQUIRE(CachingAllocator::size_class(600) == 1024);
    REQUIRE(CachingAllocator::size_class(1 << 20) == (1 << 20));
    REQUIRE(CachingAllocator::size_class((1 << 20) + 1) == (2 << 20));
    REQUIRE(CachingAllocator::size_class((4 << 20) + 1) == (6 << 20));
    REQUIRE_THROWS_WITH(CachingAllocator::size_class(SIZE_MAX), Contains("too large"));

    FakeRaw raw;
    CachingAllocator alloc = raw.make();
    void* one = alloc.allocate(1);
    alloc.release(one);
    REQUIRE(alloc.allocate(500) == one);  // same class: the cached block comes back
    REQUIRE(raw.allocations.load() == 1);
    alloc.release(one);
    void* bigger = alloc.allocate(600);  // another class: a new block, the 512 B one stays cached
    REQUIRE(bigger != one);
    REQUIRE(raw.allocations.load() == 2);
    REQUIRE(alloc.stats().bytes_cached == 512);
    REQUIRE(alloc.stats().bytes_in_use == 1024);
    alloc.release(bigger);
    void* large = alloc.allocate(3 << 20);  // nothing cached of 4 MiB: neither cached block fits the class
    REQUIRE(large != one);
    REQUIRE(large != bigger);
    REQUIRE(raw.allocations.load() == 3);
    alloc.release(large);
}

TEST_CASE("caching allocator: the peak of bytes in use, and its reset", "[cuda]") {
    FakeRaw raw;
    CachingAllocator alloc = raw.make();
    void* a = alloc.allocate(3000);  // class 3072
    void* b = alloc.allocate(1000);  // class 1024
    alloc.release(a);
    REQUIRE(alloc.stats().bytes_in_use == 1024);
    REQUIRE(alloc.stats().peak_bytes_in_use == 4096);
    alloc.reset_peak();
    REQUIRE(alloc.stats().peak_bytes_in_use == 1024);
    void* c = alloc.allocate(3000);  // the cached block counts again as it is handed out
    REQUIRE(alloc.stats().peak_bytes_in_use == 4096);
    alloc.release(b);
    alloc.release(c);
    REQUIRE(alloc.stats().peak_bytes_in_use == 4096);
}

TEST_CASE("caching allocator: empty_cache frees what is cached and nothing in use", "[cuda]") {
    FakeRaw raw;
    CachingAllocator alloc = raw.make();
    void* kept = alloc.allocate(1000);
    void* a = alloc.allocate(1000);
    void* b = alloc.allocate(2 << 20);
    alloc.release(a);
    alloc.release(b);
    alloc.empty_cache();
    REQUIRE(raw.frees.load() == 2);
    const CachingAllocator::Stats s = alloc.stats();
    REQUIRE(s.raw_frees == 2);
    REQUIRE(s.bytes_cached == 0);
    REQUIRE(s.bytes_in_use == 1024);
    REQUIRE(size_t(raw.live_bytes.load()) == 1024);
    std::memset(kept, 7, 1000);  // still ours (ASan would object otherwise)
    alloc.release(kept);
    REQUIRE(alloc.allocate(1000) == kept);
    REQUIRE(raw.allocations.load() == 3);
    alloc.release(kept);
}

TEST_CASE("caching allocator: unknown and double releases throw a clear error", "[cuda]") {
    FakeRaw raw;
    CachingAllocator alloc = raw.make();
    int local = 0;
    REQUIRE_THROWS_WITH(alloc.release(&local), Contains("did not hand out"));
    void* p = alloc.allocate(64);
    alloc.release(p);
    REQUIRE_THROWS_AS(alloc.release(p), Error);
    REQUIRE_THROWS_WITH(alloc.release(p), Contains("released twice"));
    REQUIRE(alloc.stats().bytes_cached == 512);  // the failed releases changed nothing
    alloc.empty_cache();
    REQUIRE_THROWS_WITH(alloc.release(p), Contains("did not hand out"));  // handed back: unknown again
}

TEST_CASE("caching allocator: a raw failure empties the cache and retries once", "[cuda]") {
    for (bool throwing : {false, true}) {
        INFO((throwing ? "raw allocator throws" : "raw allocator returns null"));
        FakeRaw raw;
        raw.capacity = 6 << 20;
        raw.fail_by_throwing = throwing;
        CachingAllocator alloc = raw.make();
        void* a = alloc.allocate(4 << 20);
        alloc.release(a);  // 4 MiB cached, so 4 MiB more does not fit beside it
        void* b = alloc.allocate(5 << 20);  // class 6 MiB: fails, cache emptied, retry succeeds
        REQUIRE(b);
        REQUIRE(raw.frees.load() == 1);
        REQUIRE(alloc.stats().bytes_cached == 0);
        REQUIRE(alloc.stats().bytes_in_use == size_t(6 << 20));
        // Nothing cached left to give back: the failure is reported, naming the size and the reason.
        REQUIRE_THROWS_WITH(alloc.allocate(100), Contains("cannot allocate 100 bytes") &&
                                                     Contains(throwing ? "out of memory" : "returned null"));
        REQUIRE(raw.allocations.load() == 2);
        alloc.release(b);
    }
}

TEST_CASE("caching allocator: concurrent allocate/release keeps the stats consistent", "[cuda]") {
    FakeRaw raw;
    CachingAllocator alloc = raw.make();
    constexpr int kThreads = 4, kRounds = 2000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            std::vector<void*> held;
            for (int i = 0; i < kRounds; ++i) {
                const size_t bytes = size_t(1 + (i * 7 + t) % 5) * 700;  // five classes, shared by threads
                void* p = alloc.allocate(bytes);
                std::memset(p, t, bytes);  // a block handed to two threads at once would corrupt this
                held.push_back(p);
                if (held.size() == 3 || i == kRounds - 1) {
                    for (void* q : held) alloc.release(q);
                    held.clear();
                }
            }
        });
    for (auto& th : threads) th.join();
    const CachingAllocator::Stats s = alloc.stats();
    REQUIRE(s.bytes_in_use == 0);
    REQUIRE(s.raw_allocations == raw.allocations.load());
    REQUIRE(s.raw_frees == 0);
    REQUIRE(s.bytes_cached == size_t(raw.live_bytes.load()));
    REQUIRE(s.raw_allocations <= kThreads * 3 * 5);  // at most 3 blocks held per thread, in each of 5 classes
    alloc.empty_cache();
    REQUIRE(raw.live_bytes.load() == 0);
    REQUIRE(alloc.stats().raw_frees == s.raw_allocations);
}

TEST_CASE("CUDA device memory: a tensor round trip reuses the allocator's blocks", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    Tensor host = test::random({257, 129}, 7);
    Tensor back = host.to(Device::CUDA).to(Device::CPU);  // the device copy is released here
    test::require_close(back, host, 0, 0);
    const CachingAllocator::Stats before = cuda::allocator_stats();
    Tensor again = host.to(Device::CUDA);  // same size: served from the cache
    REQUIRE(cuda::allocator_stats().raw_allocations == before.raw_allocations);
    test::require_close(again.to(Device::CPU), host, 0, 0);
}
