// helpers.h — shared test utilities: random (never all-zero) tensors, non-contiguous variants,
// element-wise comparison, and the gradient-check assertion.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "tensor/error.h"

#include "autograd/gradcheck.h"
#include "cuda/runtime.h"
#include "autograd/ops.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace splatlm::test {

// Normal(0, scale) values; a fresh leaf.
inline Tensor random(const Shape& shape, uint64_t seed, float scale = 1.f) {
    Rng rng(seed);
    return Tensor::randn(shape, rng, scale);
}

// B×T token ids, uniform in [0, vocab).
inline Indices random_ids(int64_t B, int64_t T, int64_t vocab, uint64_t seed) {
    Rng rng(seed);
    Indices ids{{B, T}, std::vector<int32_t>(B * T)};
    for (auto& id : ids.ids) id = static_cast<int32_t>(rng.next_u64() % vocab);
    return ids;
}

// Redraws every parameter from N(0, stddev²): trained-looking weights, larger than the 0.02 init,
// so every path of a model carries signal in a test.
inline void spread_parameters(const std::vector<Tensor>& params, uint64_t seed, float stddev = 0.3f) {
    NoGradGuard no_grad;
    Rng rng(seed);
    for (Tensor p : params) rng.normal(p.data(), p.numel(), 0.f, stddev);
}

// The same values as random(shape, seed) but stored transposed: a non-contiguous leaf view.
// Requires rank >= 2; the last two axes are swapped in memory.
inline Tensor random_transposed(const Shape& shape, uint64_t seed, float scale = 1.f) {
    Shape swapped = shape;
    std::swap(swapped[shape.size() - 1], swapped[shape.size() - 2]);
    Tensor base = random(swapped, seed, scale);
    return raw::transpose(base, -1, -2).detach();
}

// A leaf that views every other column of a wider buffer (non-unit inner stride).
inline Tensor random_strided(const Shape& shape, uint64_t seed, float scale = 1.f) {
    Shape wide = shape;
    wide.back() *= 2;
    Tensor base = random(wide, seed, scale);
    Strides strides = base.strides();
    strides.back() = 2;
    return Tensor::view_of(base.storage(), shape, strides, 1);
}

// |a − b| ≤ atol + rtol·|b| for every element (same shape required).
inline void require_close(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-6) {
    REQUIRE(a.shape() == b.shape());
    std::vector<float> va = a.to_vector(), vb = b.to_vector();
    for (size_t i = 0; i < va.size(); ++i) {
        INFO("element " << i << ": " << va[i] << " vs " << vb[i]);
        REQUIRE(std::isfinite(va[i]));
        REQUIRE(std::abs(double(va[i]) - vb[i]) <= atol + rtol * std::abs(double(vb[i])));
    }
}

inline void require_gradcheck(const GradCheckFn& f, std::vector<Tensor> inputs, GradCheckOptions options = {}) {
    GradCheckResult r = gradcheck(f, std::move(inputs), options);
    INFO("worst " << r.worst << ": " << r.message);
    REQUIRE(r.ok);
}

// Runs body() with the given OpenMP thread count, restoring the previous one.
template <class F>
auto with_threads(int n, F&& body) {
#ifdef _OPENMP
    int previous = omp_get_max_threads();
    omp_set_num_threads(n);
    auto result = body();
    omp_set_num_threads(previous);
    return result;
#else
    (void)n;
    return body();
#endif
}

}  // namespace splatlm::test

// First line of every "[gpu]" test: without a usable GPU the test passes with a visible warning
// ("skipped: no GPU: <reason>") instead of failing; on a GPU machine it runs.
#define SKIP_WITHOUT_GPU()                         \
    do {                                           \
        std::string why_no_gpu_;                   \
        if (!::splatlm::cuda::available(&why_no_gpu_)) { \
            WARN("skipped: no GPU: " << why_no_gpu_); \
            return;                                \
        }                                          \
    } while (0)
