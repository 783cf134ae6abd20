// gemm.h — a planned matmul (cuda/gemm_plan.h) executed by cuBLAS on device memory. Implemented in
// gemm.cu when nvcc is present, by gemm_stub.cpp ("built without CUDA") when it is not.
// raw::matmul (tensor/matmul.cpp) calls it for CUDA tensors.
#pragma once
#include "cuda/gemm_plan.h"

namespace splatlm::cuda {

// C = A·B as `plan` (no copy_a / copy_b left) describes; a, b, c point at each operand's element
// [0, ..., 0]. FP32 math throughout (no TF32), launched on the default stream, not waited for.
void gemm(const GemmPlan& plan, const float* a, const float* b, float* c);

}  // namespace splatlm::cuda
