// optimizer.h — the optimiser's kernels over the flat parameter buffers on the GPU (train/adamw.cpp
// calls them for CUDA parameters). Implemented in optimizer.cu, or optimizer_stub.cpp without nvcc.
#pragma once
#include <cstdint>

#include "tensor/optimizer_math.h"

namespace splatlm::cuda {

// One fused AdamW step over n elements: adamw_update with shrink = decay_mask[i] ? decay_shrink : 1.
void adamw_step(float* p, const float* g, float* m, float* v, const float* decay_mask, int64_t n,
                const AdamWConstants& k, float decay_shrink);
// partial[b] = Σ g[i]² over block b of kNormBlock elements, in double; waits for the result.
void squared_norm_partials(const float* g, int64_t n, double* partial);

}  // namespace splatlm::cuda
