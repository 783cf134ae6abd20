// Tensor storage, views (no copies), factories and the counter-based RNG.
#include "cuda/runtime.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

TEST_CASE("views share storage and index correctly", "[tensor]") {
    Tensor x = Tensor::from_vector({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
    SECTION("transpose") {
        Tensor t = raw::transpose(x, 0, 1);
        REQUIRE(t.same_storage(x));
        REQUIRE(t.shape() == Shape{4, 3});
        REQUIRE_FALSE(t.is_contiguous());
        REQUIRE(t.at({3, 1}) == 7.f);
        REQUIRE(raw::contiguous(t).to_vector() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
    }
    SECTION("slice") {
        Tensor s = raw::slice(x, 1, 1, 3);
        REQUIRE(s.same_storage(x));
        REQUIRE(s.to_vector() == std::vector<float>{1, 2, 5, 6, 9, 10});
        Tensor r = raw::slice(x, 0, 2, 3);
        REQUIRE(r.is_contiguous());
        REQUIRE(r.to_vector() == std::vector<float>{8, 9, 10, 11});
    }
    SECTION("reshape of a contiguous tensor is a view; of a transposed one a copy") {
        Tensor r = raw::reshape(x, {2, -1});
        REQUIRE(r.same_storage(x));
        REQUIRE(r.shape() == Shape{2, 6});
        Tensor c = raw::reshape(raw::transpose(x, 0, 1), {12});
        REQUIRE_FALSE(c.same_storage(x));
        REQUIRE(c.at({1}) == 4.f);
    }
    SECTION("expand broadcasts with stride 0") {
        Tensor row = raw::slice(x, 0, 1, 2);  // [1, 4]
        Tensor e = raw::expand(row, {2, 3, 4});
        REQUIRE(e.strides()[0] == 0);
        REQUIRE(e.strides()[1] == 0);
        REQUIRE(e.at({1, 2, 3}) == 7.f);
    }
    SECTION("permute") {
        Tensor p = raw::permute(raw::reshape(x, {2, 3, 2}), {2, 0, 1});
        REQUIRE(p.shape() == Shape{2, 2, 3});
        REQUIRE(p.at({1, 0, 2}) == 5.f);
    }
    SECTION("writes through a view reach the base") {
        Tensor t = raw::transpose(x, 0, 1);
        Tensor col = raw::slice(t, 0, 2, 3);
        raw::copy_into(col, Tensor::from_vector({-1, -2, -3}, {1, 3}));
        REQUIRE(x.at({0, 2}) == -1.f);
        REQUIRE(x.at({2, 2}) == -3.f);
    }
}

TEST_CASE("factories", "[tensor]") {
    REQUIRE(Tensor::zeros({2, 2}).to_vector() == std::vector<float>(4, 0.f));
    REQUIRE(Tensor::full({3}, 2.5f).to_vector() == std::vector<float>(3, 2.5f));
    REQUIRE(Tensor::scalar(4.f).item() == 4.f);
    REQUIRE(Tensor::scalar(4.f).dim() == 0);
    Tensor e = Tensor::empty({0, 3});
    REQUIRE(e.numel() == 0);
    REQUIRE(reinterpret_cast<uintptr_t>(Tensor::empty({7}).data()) % 64 == 0);
}

TEST_CASE("RNG is reproducible, well distributed and independent of thread count", "[tensor][rng]") {
    Rng a(42), b(42), c(43);
    std::vector<float> va(1 << 17), vb(1 << 17), vc(1 << 17);
    a.normal(va.data(), va.size());
    b.normal(vb.data(), vb.size());
    c.normal(vc.data(), vc.size());
    REQUIRE(va == vb);
    REQUIRE(va != vc);
    double mean = 0, var = 0;
    for (float v : va) mean += v;
    mean /= va.size();
    for (float v : va) var += (v - mean) * (v - mean);
    var /= va.size();
    REQUIRE(std::abs(mean) < 0.01);
    REQUIRE(std::abs(var - 1.0) < 0.02);
    // Drawing in two pieces gives the same stream as one draw.
    Rng d(42);
    std::vector<float> first(1000), rest(va.size() - 1000);
    d.normal(first.data(), first.size());
    d.normal(rest.data(), rest.size());
    REQUIRE(std::equal(first.begin(), first.end(), va.begin()));
    REQUIRE(std::equal(rest.begin(), rest.end(), va.begin() + 1000));
    // Thread count does not change a draw.
    auto draw = [] {
        Rng r(7);
        std::vector<float> v(200000);
        r.uniform(v.data(), v.size(), -1.f, 1.f);
        return v;
    };
    std::vector<float> one = with_threads(1, draw), two = with_threads(2, draw);
    REQUIRE(one == two);
    REQUIRE(std::all_of(one.begin(), one.end(), [](float v) { return v >= -1.f && v < 1.f; }));
    // State save/restore resumes the stream exactly.
    Rng e(5);
    e.next_u64();
    Rng f(0);
    f.set_state(e.seed(), e.counter());
    REQUIRE(e.next_u64() == f.next_u64());
}

TEST_CASE("CUDA tensors fail with one clear line when CUDA is unavailable", "[tensor][cuda]") {
    std::string why;
    if (cuda::available(&why)) {
        WARN("a GPU is present; the CPU-only error path is not exercised here");
        return;
    }
    REQUIRE_THROWS_AS(Tensor::zeros({2}, Device::CUDA), Error);
    REQUIRE_THROWS_WITH(parse_device("tpu"), Catch::Contains("unknown device 'tpu'"));
}

TEST_CASE("big CPU buffers come from a cache that reuses each block, and are counted like small ones", "[tensor][memory]") {
    const int64_t n = int64_t(kBigCpuBuffer / sizeof(float)) + 1000;  // just past the threshold
    const MemoryStats before = cpu_memory_stats();
    const float* first;
    {
        Tensor a = Tensor::full({n}, 1.5f);
        first = a.data();
        REQUIRE(reinterpret_cast<uintptr_t>(first) % 64 == 0);
        REQUIRE(a.data()[0] == 1.5f);
        REQUIRE(a.data()[n - 1] == 1.5f);
        REQUIRE(cpu_memory_stats().live_bytes - before.live_bytes >= n * int64_t(sizeof(float)));
    }
    REQUIRE(cpu_memory_stats().live_bytes == before.live_bytes);
    Tensor b = Tensor::empty({n});  // the same size class: the block just released
    REQUIRE(b.data() == first);
    Tensor c = Tensor::full({n}, -2.f);  // while b holds it, a block of its own
    REQUIRE(c.data() != b.data());
    b.data()[n - 1] = 3.f;
    REQUIRE(c.data()[n - 1] == -2.f);
}

TEST_CASE("the big-buffer cache gives idle blocks back when sizes keep changing", "[tensor][memory]") {
    // Eight sizes one after another, each freed before the next (evaluation at one length after
    // another): kept, their blocks would add up to 36 units against a peak of 8.
    const int64_t unit = int64_t(kBigCpuBuffer / sizeof(float));
    for (int64_t m = 1; m <= 8; ++m) {
        Tensor t = Tensor::full({m * unit}, float(m));
        REQUIRE(t.data()[m * unit - 1] == float(m));
    }
    const BigBufferStats s = big_cpu_buffer_stats();
    REQUIRE(s.peak_in_use >= size_t(8 * unit) * sizeof(float));
    REQUIRE(s.in_use + s.cached <= 2 * s.peak_in_use);
}
