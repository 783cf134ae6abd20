// ops.h — the differentiable operations: what models are written in. Each forward runs raw::
// kernels (tensor/ops.h); each backward sits beside its forward in autograd/ops_*.cpp.
#pragma once
#include <vector>

#include "autograd/graph.h"
#include "tensor/index.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

namespace splatlm {

// ---- views (ops_views.cpp) ----
Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 allowed
Tensor permute(const Tensor& x, const std::vector<int64_t>& axes);
Tensor transpose(const Tensor& x, int64_t a, int64_t b);
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end);
Tensor select(const Tensor& x, int64_t axis, int64_t index);  // drops the axis
Tensor expand(const Tensor& x, const Shape& shape);
Tensor contiguous(const Tensor& x);

// ---- elementwise, numpy broadcasting (ops_elementwise.cpp) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // ties send the gradient to a
Tensor add_scalar(const Tensor& x, float s);
Tensor mul_scalar(const Tensor& x, float s);
Tensor pow(const Tensor& x, float p);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // tanh approximation
Tensor square(const Tensor& x);
Tensor elu_plus_one(const Tensor& x);  // elu(x) + 1: the positive feature map of linear attention
Tensor log_sigmoid(const Tensor& x);   // log σ(x), stable for large |x|: the log of a gate

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, float s) { return add_scalar(x, s); }
inline Tensor operator-(const Tensor& x, float s) { return add_scalar(x, -s); }
inline Tensor operator*(const Tensor& x, float s) { return mul_scalar(x, s); }
inline Tensor operator*(float s, const Tensor& x) { return mul_scalar(x, s); }
inline Tensor operator/(const Tensor& x, float s) { return mul_scalar(x, 1.f / s); }

// ---- reductions (ops_reduce.cpp) ----
Tensor sum(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor sum(const Tensor& x);  // everything → shape []
Tensor mean(const Tensor& x, int64_t axis, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor max(const Tensor& x, int64_t axis, bool keepdim = false);  // ties share the gradient equally
Tensor max(const Tensor& x);

// ---- matrix products (ops_matmul.cpp) ----
Tensor matmul(const Tensor& a, const Tensor& b);  // [..., M, K] @ [..., K, N], broadcast batch axes
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);  // x·wᵀ + b, w: [out, in]; b may be undefined

// ---- neural-network ops (ops_nn.cpp), along the last axis ----
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
Tensor layernorm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);
Tensor embedding(const Tensor& table, const Indices& ids);  // [V, C] gathered by ids → [ids..., C]
// Mean token loss; logits [..., V] with one target per row (ignore_index rows excluded).
Tensor cross_entropy(const Tensor& logits, const Indices& targets, int32_t ignore_index = -1);
// Inverted dropout: zero with probability p, scale survivors by 1/(1−p). Identity when p == 0.
Tensor dropout(const Tensor& x, float p, Rng& rng);

}  // namespace splatlm
