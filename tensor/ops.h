// ops.h — raw tensor math: shape checks, output allocation and the CPU kernels. Nothing here records
// an autograd graph; autograd/ops.h wraps these into differentiable operations. Every function
// checks its inputs and throws splatlm::Error naming the op and the shapes on bad input.
//
// Device dispatch: each op checks the device of its inputs in one place (the CUDA backend hooks in
// there). Every op here except matmul also runs on CUDA tensors (cuda/elementwise.cu, map.cu,
// reduce.cu, nn_kernels.cu), giving a new CUDA tensor; inputs on different devices are an error
// naming the op. Ops not ported refuse a CUDA tensor with an error naming the op.
#pragma once
#include <vector>

#include "tensor/elementwise_math.h"
#include "tensor/index.h"
#include "tensor/tensor.h"

namespace splatlm::raw {

// ---- views (no copy; views.cpp) ----
Tensor reshape(const Tensor& x, Shape shape);  // one -1 allowed; a view when strides allow, else a copy
Tensor permute(const Tensor& x, const std::vector<int64_t>& axes);
Tensor transpose(const Tensor& x, int64_t a, int64_t b);
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end);  // [start, end) along axis
Tensor select(const Tensor& x, int64_t axis, int64_t index);  // drops the axis: x[..., index, ...]
Tensor expand(const Tensor& x, const Shape& shape);  // broadcast view: stretched axes get stride 0
Tensor contiguous(const Tensor& x);                  // x itself when already contiguous
void copy_into(Tensor& dst, const Tensor& src);      // elementwise copy, same shape, any strides
void fill(Tensor& dst, float value);                 // every element of a contiguous dst = value

// ---- elementwise (elementwise.cpp) ----
Tensor unary(Unary op, const Tensor& x);
Tensor binary(Binary op, const Tensor& a, const Tensor& b);  // numpy broadcasting
Tensor affine(const Tensor& x, float scale, float shift);   // x·scale + shift
Tensor pow_scalar(const Tensor& x, float p);
void add_inplace(Tensor& dst, const Tensor& src);            // dst += src, same shape; dst any non-broadcast view

// ---- reductions (reduce.cpp); double accumulation, independent of thread count ----
Tensor sum(const Tensor& x, int64_t axis, bool keepdim);
Tensor sum_all(const Tensor& x);                  // shape []
Tensor max(const Tensor& x, int64_t axis, bool keepdim);
Tensor max_all(const Tensor& x);                  // shape []
Tensor sum_to(const Tensor& x, const Shape& shape);  // undo broadcasting: sum over stretched axes

// ---- matrix products (matmul.cpp) ----
// a: [..., M, K], b: [..., K, N] with broadcast batch axes → [..., M, N]. Transposed views are free.
Tensor matmul(const Tensor& a, const Tensor& b);
// c += a·b for CPU matrices: a [M, K], b [K, N] (any strides), c [M, N] contiguous. One GEMM with
// beta = 1: a gradient summed straight into its buffer, with no product tensor and no add pass.
void matmul_add_into(Tensor& c, const Tensor& a, const Tensor& b);
// A Linear layer's forward: x: [..., in], w: [out, in], b: [out] or undefined → x·wᵀ + b, [..., out].
// On the CPU the bias rows are written first and the GEMM adds the product onto them (beta = 1):
// one pass over the output instead of a product pass and a broadcast-add pass.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

// ---- neural-network kernels (nn_kernels.cpp), all along the last axis ----
Tensor softmax(const Tensor& x);
Tensor softmax_backward(const Tensor& y, const Tensor& grad_y);      // y = softmax(x)
Tensor log_softmax(const Tensor& x);
Tensor log_softmax_backward(const Tensor& y, const Tensor& grad_y);  // y = log_softmax(x)

struct LayerNormResult {
    Tensor y, mean, rstd;  // mean and rstd: one per row, kept for the backward
};
LayerNormResult layernorm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps);
struct LayerNormGrads {
    Tensor dx, dweight, dbias;
};
LayerNormGrads layernorm_backward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& rstd,
                                  const Tensor& grad_y);

// table: [V, C]; ids: any shape → [ids..., C]. Out-of-range ids throw.
Tensor embedding(const Tensor& table, const Indices& ids);
Tensor embedding_backward(const Indices& ids, const Tensor& grad_out, int64_t vocab);  // scatter-add → [V, C]

// Mean over rows of −log softmax(logits)[target]. logits: [N, V]; targets: N ids in [0, V), or
// ignore_index (excluded from the mean). Returns the loss (shape []) and per-row log-sum-exp.
struct CrossEntropyResult {
    Tensor loss, logsumexp;
    int64_t counted = 0;  // rows that were not ignored
};
CrossEntropyResult cross_entropy(const Tensor& logits, const Indices& targets, int32_t ignore_index = -1);
Tensor cross_entropy_backward(const Tensor& logits, const Indices& targets, const Tensor& logsumexp,
                              int64_t counted, float grad_loss, int32_t ignore_index = -1);

}  // namespace splatlm::raw
