// gemm.cu — executes a GemmPlan with cublasSgemmStridedBatched: one call per outer batch index
// (usually exactly one call). The row-major → column-major mapping is in gemm_plan.h.
#include <mutex>
#include <vector>

#include "cuda/check.h"
#include "cuda/gemm.h"
#include "cuda/library_check.h"

namespace splatlm::cuda {

namespace {

// One cuBLAS handle per device, created on first use and kept for the process (like the
// allocator, never destroyed: at exit the driver reclaims it). Default math mode: FP32 products
// and sums, no TF32 tensor cores, so results match the CPU within float rounding.
cublasHandle_t handle_for_current_device() {
    static std::mutex mutex;
    static std::vector<cublasHandle_t> handles;
    int device = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    std::lock_guard<std::mutex> lock(mutex);
    if (handles.size() <= size_t(device)) handles.resize(size_t(device) + 1, nullptr);
    if (!handles[device]) {
        CUBLAS_CHECK(cublasCreate(&handles[device]));
        CUBLAS_CHECK(cublasSetMathMode(handles[device], CUBLAS_DEFAULT_MATH));
    }
    return handles[device];
}

cublasOperation_t op(bool transpose) { return transpose ? CUBLAS_OP_T : CUBLAS_OP_N; }

}  // namespace

void gemm(const GemmPlan& plan, const float* a, const float* b, float* c) {
    SPLATLM_CHECK(!plan.copy_a && !plan.copy_b, "matmul (CUDA): plan still asks for a contiguous copy");
    cublasHandle_t handle = handle_for_current_device();
    const float alpha = 1.f, beta = 0.f;
    const int64_t calls = numel(plan.outer);
    for (int64_t i = 0; i < calls; ++i) {
        const std::array<int64_t, 3> off = outer_offsets(plan, i);
        // Operand swap: cuBLAS's A is our b, its B is our a (Cᵀ = Bᵀ·Aᵀ).
        CUBLAS_CHECK(cublasSgemmStridedBatched(
            handle, op(plan.transa), op(plan.transb), int(plan.m), int(plan.n), int(plan.k), &alpha, b + off[2],
            int(plan.lda), plan.stride_a, a + off[1], int(plan.ldb), plan.stride_b, &beta, c + off[0], int(plan.ldc),
            plan.stride_c, int(plan.batch)));
    }
}

}  // namespace splatlm::cuda
