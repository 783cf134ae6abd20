// elementwise_math.h — per-element math, written once. Marked __host__ __device__ under nvcc so
// the CUDA kernels and the OpenMP loops evaluate exactly the same expressions.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/hd.h"

namespace splatlm {

// Every op appears once in these lists; the enums, the op names and each dispatch from a runtime op
// to its template instance (CPU loops and CUDA kernels alike) are generated from them.
#define SPLATLM_UNARY_OPS(X) \
    X(Neg) X(Exp) X(Log) X(Sqrt) X(Tanh) X(Sigmoid) X(Relu) X(Gelu) X(Square) X(Reciprocal) X(Abs) X(EluPlusOne) X(LogSigmoid)
#define SPLATLM_BINARY_OPS(X)                                                   \
    X(Add) X(Sub) X(Mul) X(Div) X(Maximum) X(Minimum)                           \
    X(Equal)          /* 1 where a == b, else 0 (a mask; not differentiable) */ \
    X(GreaterEqual)   /* 1 where a >= b, else 0 */                              \
    /* Backward helpers: (x or y, upstream gradient g) -> g * f'(.) */          \
    X(GeluGrad)       /* (x, g) */                                              \
    X(ReluGrad)       /* (x, g) */                                              \
    X(EluPlusOneGrad) /* (x, g) */                                              \
    X(LogSigmoidGrad) /* (x, g) */                                              \
    X(TanhGrad)       /* (y = tanh x, g) */                                     \
    X(SigmoidGrad)    /* (y = sigmoid x, g) */

#define SPLATLM_ENUM_ENTRY(name) name,
enum class Unary { SPLATLM_UNARY_OPS(SPLATLM_ENUM_ENTRY) };
enum class Binary { SPLATLM_BINARY_OPS(SPLATLM_ENUM_ENTRY) };
#undef SPLATLM_ENUM_ENTRY

// exp(x) in plain arithmetic, so loops that call it vectorise (libm's expf is a scalar call):
// x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), e^r by its degree-6 Taylor polynomial
// (relative error < 2.5e-7 on that interval), and 2^n built directly in the float's exponent bits.
// Below −87 (where float exp is denormal or 0) it returns exactly 0, so exp(−∞) masks stay masked.
SPLATLM_HD inline float exp_poly(float x_in) {
    const float x = x_in < -87.f ? -87.f : (x_in > 88.f ? 88.f : x_in);
    const float n = (x * 1.44269504f + 12582912.f) - 12582912.f;  // round to nearest: 1.5·2^23 trick
    const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;  // ln2 = 0.693145752 + 1.42860677e-6
    float p = 1.f / 720.f;
    p = p * r + 1.f / 120.f;
    p = p * r + 1.f / 24.f;
    p = p * r + 1.f / 6.f;
    p = p * r + 0.5f;
    p = p * r + 1.f;
    p = p * r + 1.f;
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n
#ifdef __CUDA_ARCH__
    const float two_n = __int_as_float(bits);
#else
    float two_n;
    __builtin_memcpy(&two_n, &bits, sizeof two_n);
#endif
    return x_in < -87.f ? 0.f : p * two_n;
}

// tanh(u) = 1 − 2/(e^{2u} + 1): accurate to ~1e-7 absolute, which is what GELU needs (it adds 1).
SPLATLM_HD inline float tanh_poly(float u) { return 1.f - 2.f / (exp_poly(2.f * u) + 1.f); }

// GELU, tanh approximation (as in GPT-2): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
SPLATLM_HD inline float gelu(float x) {
    const float c = 0.7978845608028654f;  // √(2/π)
    return 0.5f * x * (1.f + tanh_poly(c * (x + 0.044715f * x * x * x)));
}
// d/dx GELU = 0.5(1+t) + 0.5·x·(1−t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(√(2/π)(x + 0.044715x³)).
SPLATLM_HD inline float gelu_grad(float x) {
    const float c = 0.7978845608028654f;
    float t = tanh_poly(c * (x + 0.044715f * x * x * x));
    return 0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * c * (1.f + 3.f * 0.044715f * x * x);
}
SPLATLM_HD inline float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }
// log σ(x) = min(x, 0) − log(1 + e^{−|x|}): finite for any finite x (log(sigmoid(x)) is −∞ below −88).
SPLATLM_HD inline float log_sigmoid(float x) { return (x < 0.f ? x : 0.f) - log1pf(expf(-fabsf(x))); }

template <Unary op>
SPLATLM_HD inline float apply_unary(float x) {
    if constexpr (op == Unary::Neg) return -x;
    if constexpr (op == Unary::Exp) return expf(x);
    if constexpr (op == Unary::Log) return logf(x);
    if constexpr (op == Unary::Sqrt) return sqrtf(x);
    if constexpr (op == Unary::Tanh) return tanhf(x);
    if constexpr (op == Unary::Sigmoid) return sigmoid(x);
    if constexpr (op == Unary::Relu) return x > 0.f ? x : 0.f;
    if constexpr (op == Unary::Gelu) return gelu(x);
    if constexpr (op == Unary::Square) return x * x;
    if constexpr (op == Unary::Reciprocal) return 1.f / x;
    if constexpr (op == Unary::Abs) return fabsf(x);
    if constexpr (op == Unary::EluPlusOne) return x > 0.f ? x + 1.f : expf(x);  // elu(x) + 1 > 0
    if constexpr (op == Unary::LogSigmoid) return log_sigmoid(x);
}

template <Binary op>
SPLATLM_HD inline float apply_binary(float a, float b) {
    if constexpr (op == Binary::Add) return a + b;
    if constexpr (op == Binary::Sub) return a - b;
    if constexpr (op == Binary::Mul) return a * b;
    if constexpr (op == Binary::Div) return a / b;
    if constexpr (op == Binary::Maximum) return a > b ? a : b;
    if constexpr (op == Binary::Minimum) return a < b ? a : b;
    if constexpr (op == Binary::Equal) return a == b ? 1.f : 0.f;
    if constexpr (op == Binary::GreaterEqual) return a >= b ? 1.f : 0.f;
    if constexpr (op == Binary::GeluGrad) return b * gelu_grad(a);
    if constexpr (op == Binary::ReluGrad) return a > 0.f ? b : 0.f;
    if constexpr (op == Binary::EluPlusOneGrad) return a > 0.f ? b : b * expf(a);
    if constexpr (op == Binary::LogSigmoidGrad) return b * sigmoid(-a);  // d log σ(x)/dx = σ(−x)
    if constexpr (op == Binary::TanhGrad) return b * (1.f - a * a);
    if constexpr (op == Binary::SigmoidGrad) return b * a * (1.f - a);
}

}  // namespace splatlm
