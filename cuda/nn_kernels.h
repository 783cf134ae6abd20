// nn_kernels.h — the fused row kernels on device memory: rows of length C, contiguous, on the last
// axis (the per-row math is tensor/nn_math.h). Implemented in nn_kernels.cu when nvcc is present, by
// nn_kernels_stub.cpp when it is not; tensor/nn_kernels.cpp calls these for CUDA tensors.
// Pointers are device pointers except where named host_; ids and targets are already range-checked.
// Launches go on the default stream, checked. All results are deterministic (no float atomics).
#pragma once
#include <cstdint>

namespace splatlm::cuda {

// out = softmax(x) or, with log, log_softmax(x), row by row.
void softmax(int64_t rows, int64_t C, bool log, float* out, const float* x);
// dx from y (the forward output) and g: y ⊙ (g − Σ g⊙y), or with log, g − e^y Σ g.
void softmax_backward(int64_t rows, int64_t C, bool log, float* dx, const float* y, const float* g);

void layernorm(int64_t rows, int64_t C, float eps, float* y, float* mean, float* rstd, const float* x, const float* w,
               const float* b);
void layernorm_backward(int64_t rows, int64_t C, float* dx, float* dweight, float* dbias, const float* x,
                        const float* w, const float* mean, const float* rstd, const float* g);

// out[r] = table[ids[r]] for n rows of C; the ids come from the host.
void embedding(int64_t n, int64_t C, float* out, const float* table, const int32_t* host_ids);
// dtable (already zero, [V, C]) gets, per id, the sum of its rows of g ([n, C]).
void embedding_backward(int64_t n, int64_t C, float* dtable, const float* g, const int32_t* host_ids);

// lse[r] = log Σ exp(logits[r]); returns Σ over rows not ignored of lse[r] − logits[r, t_r], in double.
double cross_entropy(int64_t N, int64_t V, float* lse, const float* logits, const int32_t* host_targets,
                     int32_t ignore_index);
// dx = (softmax(logits) − onehot(t)) · scale per row; ignored rows get 0.
void cross_entropy_backward(int64_t N, int64_t V, float* dx, const float* logits, const float* lse,
                            const int32_t* host_targets, int32_t ignore_index, float scale);

}  // namespace splatlm::cuda
