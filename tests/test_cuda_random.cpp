// Device random numbers (cuRAND Philox) and dropout on CUDA tensors. On any machine ("[cuda]"):
// the per-element math the kernels run (bits → uniform, uniform → dropout mask). On a GPU
// ("[cuda][gpu]", skipped visibly without one): reproducibility, distributions and dropout.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cuda/random.h"
#include "cuda/random_math.h"
#include "cuda/runtime.h"
#include "tests/helpers.h"

using namespace splatlm;
using Catch::Contains;

TEST_CASE("device random math: 32 bits to a uniform in [0, 1)", "[cuda]") {
    REQUIRE(cuda::uniform_from_bits(0u) == 0.f);
    REQUIRE(cuda::uniform_from_bits(0x80000000u) == 0.5f);
    REQUIRE(cuda::uniform_from_bits(0xFFFFFFFFu) == 1.f - 1.f / 16777216.f);  // the largest: below 1
    REQUIRE(cuda::uniform_from_bits(0x000000FFu) == 0.f);                     // the low 8 bits are dropped
    REQUIRE(cuda::uniform_from_bits(0x00000100u) == 1.f / 16777216.f);
    // Monotone in the bits, and every value a multiple of 2⁻²⁴ (exact in a float).
    Rng rng(31);
    for (int i = 0; i < 10000; ++i) {
        const uint32_t x = uint32_t(rng.next_u64()), y = uint32_t(rng.next_u64());
        const float u = cuda::uniform_from_bits(x);
        REQUIRE(u >= 0.f);
        REQUIRE(u < 1.f);
        REQUIRE(double(u) * 16777216.0 == double(x >> 8));
        REQUIRE((x >> 8 < y >> 8) == (u < cuda::uniform_from_bits(y)));
    }
}

TEST_CASE("device random math: dropout keeps u >= p, scaled by 1/(1 - p)", "[cuda]") {
    REQUIRE(cuda::dropout_scale(0.29f, 0.3f) == 0.f);
    REQUIRE(cuda::dropout_scale(0.3f, 0.3f) == 1.f / 0.7f);  // the boundary is kept: P(keep) = 1 − p exactly
    REQUIRE(cuda::dropout_scale(0.99f, 0.3f) == 1.f / 0.7f);
    REQUIRE(cuda::dropout_scale(0.f, 0.f) == 1.f);  // p = 0 keeps everything, unscaled
    // Over the 2²⁴ uniforms the bits can give, exactly the fraction 1 − p is kept (p a multiple of 2⁻²⁴).
    const float p = 0.25f;
    int64_t kept = 0;
    for (uint32_t top = 0; top < (1u << 24); ++top) kept += cuda::dropout_scale(cuda::uniform_from_bits(top << 8), p) > 0.f;
    REQUIRE(kept == (1 << 24) * 3 / 4);
    // Checked before anything is allocated, so on any machine.
    REQUIRE_THROWS_WITH(cuda::dropout_mask({3}, 1.5f, 1), Contains("dropout: probability 1.5"));
}

TEST_CASE("a CPU-only build's random fills say CUDA is absent", "[cuda]") {
    if (cuda::built_with_cuda()) return;  // the stubs are linked only without nvcc or with CUDA=0
    float x[2] = {};
    REQUIRE_THROWS_WITH(cuda::fill_uniform(x, 2, 1), Contains("no CUDA support"));
    REQUIRE_THROWS_WITH(cuda::random_normal({3}, 0.f, 1.f, 1), Contains("no CUDA support"));
}

// ---- on the GPU ----

namespace {

struct Moments {
    double mean, stddev;
};
Moments moments(const std::vector<float>& v) {
    double sum = 0, sq = 0;
    for (float x : v) sum += x, sq += double(x) * x;
    const double mean = sum / double(v.size());
    return {mean, std::sqrt(sq / double(v.size()) - mean * mean)};
}

}  // namespace

TEST_CASE("CUDA random fills: reproducible per seed and offset, distributed as stated", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    // Uniform: an odd count, not a multiple of the 256-thread block.
    const Shape shape = {1001, 999};
    const std::vector<float> u = cuda::random_uniform(shape, 7).to(Device::CPU).to_vector();
    REQUIRE(cuda::random_uniform(shape, 7).to(Device::CPU).to_vector() == u);
    REQUIRE(cuda::random_uniform(shape, 8).to(Device::CPU).to_vector() != u);
    REQUIRE(std::all_of(u.begin(), u.end(), [](float x) { return x >= 0.f && x < 1.f; }));
    // Uniform [0, 1): mean 1/2, standard deviation 1/√12; with 10⁶ draws the sample mean's own
    // standard deviation is 0.29e-3, so 2e-3 is about 7 of them.
    const Moments mu = moments(u);
    REQUIRE(std::abs(mu.mean - 0.5) < 2e-3);
    REQUIRE(std::abs(mu.stddev - 1 / std::sqrt(12.0)) < 2e-3);

    // The offset moves along the seed's stream: another offset, other values; the same, the same.
    Tensor a = Tensor::empty({1000}, Device::CUDA), b = Tensor::empty({1000}, Device::CUDA);
    cuda::fill_uniform(a.data(), 1000, 7, 4096);
    cuda::fill_uniform(b.data(), 1000, 7, 4096);
    REQUIRE(a.to(Device::CPU).to_vector() == b.to(Device::CPU).to_vector());
    cuda::fill_uniform(b.data(), 1000, 7, 0);
    REQUIRE(a.to(Device::CPU).to_vector() != b.to(Device::CPU).to_vector());

    // Normal(2, 3²), 10⁶ + 1 draws (odd: one extra is drawn and hidden). The sample mean and the
    // sample standard deviation within 5 of their own standard deviations (σ/√n and σ/√(2n)).
    const Shape odd = {1000001};
    const Tensor n1 = cuda::random_normal(odd, 2.f, 3.f, 11);
    REQUIRE(n1.shape() == odd);
    const std::vector<float> v = n1.to(Device::CPU).to_vector();
    REQUIRE(cuda::random_normal(odd, 2.f, 3.f, 11).to(Device::CPU).to_vector() == v);
    REQUIRE(cuda::random_normal(odd, 2.f, 3.f, 12).to(Device::CPU).to_vector() != v);
    const Moments mn = moments(v);
    REQUIRE(std::abs(mn.mean - 2.0) < 5 * 3.0 / 1000.0);
    REQUIRE(std::abs(mn.stddev - 3.0) < 5 * 3.0 / std::sqrt(2.0 * 1000001));
    REQUIRE_THROWS_WITH(cuda::fill_normal(a.data(), 999, 0.f, 1.f, 1), Contains("odd count 999"));
}

TEST_CASE("CUDA dropout: keeps about 1 - p, scales survivors by 1/(1 - p), reproducible, p = 0 identity",
          "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const float p = 0.3f;
    Rng values(3);
    const Tensor x_cpu = Tensor::rand({1001, 999}, values, 1.f, 2.f);  // never 0
    const Tensor x = x_cpu.to(Device::CUDA);
    Rng rng(41);
    const Tensor y = dropout(x, p, rng);
    REQUIRE(y.device() == Device::CUDA);
    REQUIRE(rng.counter() == 1);  // one 64-bit seed drawn from the CPU Rng per call
    const std::vector<float> xs = x_cpu.to_vector(), ys = y.to(Device::CPU).to_vector();
    int64_t kept = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
        if (ys[i] == 0.f) continue;
        ++kept;
        if (ys[i] != xs[i] * (1.f / (1.f - p))) FAIL("element " << i << ": " << ys[i] << " from " << xs[i]);
    }
    // The kept fraction's standard deviation is √(p(1−p)/n) ≈ 0.46e-3 for n ≈ 10⁶: within 5 of them.
    const double n = double(xs.size());
    REQUIRE(std::abs(double(kept) / n - (1 - p)) < 5 * std::sqrt(p * (1 - p) / n));

    // Same Rng state, same mask; the next call draws another.
    Rng again(41);
    REQUIRE(dropout(x, p, again).to(Device::CPU).to_vector() == ys);
    REQUIRE(dropout(x, p, again).to(Device::CPU).to_vector() != ys);

    // p = 0: the input itself, no draw.
    Rng untouched(41);
    REQUIRE(dropout(x, 0.f, untouched).same_storage(x));
    REQUIRE(untouched.counter() == 0);
}
