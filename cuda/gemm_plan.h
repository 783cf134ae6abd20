// gemm_plan.h — how a row-major batched matmul C = A·B becomes cuBLAS calls. Pure index
// arithmetic, no CUDA: cuda/gemm.cu executes a plan, and the host tests execute the same plan with
// a naive column-major sgemm, so the mapping below is checked on any machine.
//
// cuBLAS is column-major. A row-major R×C matrix with row stride ld (column stride 1), read
// column-major, is its transpose: a C×R matrix with leading dimension ld. So the row-major
//     C = A·B        (M×N = M×K · K×N)
// is, read column-major, Cᵀ = Bᵀ·Aᵀ (N×M = N×K · K×M): cuBLAS gets our B as its first operand and
// our A as its second (the operand swap), with m = N, n = M, k = K and ldc = N (C is contiguous).
// An operand stored transposed (row stride 1, column stride ld) is, read column-major, the matrix
// itself: cuBLAS transposes it (CUBLAS_OP_T) instead of anyone copying it. Any other layout (a
// column stride that is neither 1 nor a leading dimension, overlapping rows) must be copied.
//
// Batch axes: those that every operand walks with one stride merge (coalesce); the innermost
// merged axis becomes cublasSgemmStridedBatched's batch (stride 0 for a broadcast operand), and
// any remaining outer axes are looped over, one strided-batched call per outer index.
#pragma once
#include <array>
#include <climits>
#include <cstdint>

#include "tensor/error.h"
#include "tensor/shape.h"
#include "tensor/strided.h"

namespace splatlm::cuda {

// One row-major operand (rows × cols, strides in elements) as cuBLAS reads it: transposed or not,
// with a leading dimension. `fits` is false when cuBLAS cannot read it in place.
struct ColumnMajorOperand {
    bool fits = false;
    bool transpose = false;  // CUBLAS_OP_T
    int64_t ld = 0;
};

// A size-1 axis has no meaningful stride, so it constrains nothing; cuBLAS still wants ld >= 1
// and >= the stored matrix's row count.
inline ColumnMajorOperand column_major(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
    auto fits_int = [](int64_t v) { return v >= 1 && v <= INT_MAX; };
    // Row-major with leading dimension row_stride, read as its transpose (cols × rows): OP_N.
    if ((cols == 1 || col_stride == 1) && (rows == 1 || row_stride >= cols)) {
        const int64_t ld = rows == 1 ? cols : row_stride;
        if (fits_int(ld)) return {true, false, ld};
    }
    // Stored transposed: column-major rows × cols with leading dimension col_stride: OP_T.
    if ((rows == 1 || row_stride == 1) && (cols == 1 || col_stride >= rows)) {
        const int64_t ld = cols == 1 ? rows : col_stride;
        if (fits_int(ld)) return {true, true, ld};
    }
    return {};
}

struct GemmPlan {
    bool copy_a = false, copy_b = false;  // that operand must be made contiguous first, then replanned
    // cublasSgemmStridedBatched arguments. cuBLAS's first operand is our B, its second our A.
    bool transa = false, transb = false;  // op of cuBLAS's A (= our B) and B (= our A)
    int64_t m = 0, n = 0, k = 0;          // N, M (all rows, when folded), K
    int64_t lda = 0, ldb = 0, ldc = 0;
    int64_t stride_a = 0, stride_b = 0, stride_c = 0;  // batch strides of our B, our A, C
    int64_t batch = 1;
    // Outer batch axes, looped over on the host; strides per operand: 0 = C, 1 = our A, 2 = our B.
    Shape outer;
    std::array<Strides, 3> outer_strides;
};

// Element offsets (C, our A, our B) of outer call i, 0 <= i < numel(plan.outer).
inline std::array<int64_t, 3> outer_offsets(const GemmPlan& plan, int64_t i) {
    std::array<int64_t, 3> off{};
    for (size_t ax = plan.outer.size(); ax-- > 0;) {
        const int64_t idx = i % plan.outer[ax];
        i /= plan.outer[ax];
        for (int op = 0; op < 3; ++op) off[op] += idx * plan.outer_strides[op][ax];
    }
    return off;
}

// C[batch..., M, N] (contiguous) = A[batch..., M, K] · B[batch..., K, N]; a_strides and b_strides
// cover all axes, batch axes already broadcast (stride 0 where an operand is stretched).
// M, N, K >= 1. When copy_a or copy_b is set the rest of the plan is not meaningful.
inline GemmPlan plan_gemm(const Shape& batch, int64_t M, int64_t N, int64_t K, const Strides& a_strides,
                          const Strides& b_strides) {
    const size_t nb = batch.size();
    SPLATLM_CHECK(a_strides.size() == nb + 2 && b_strides.size() == nb + 2, "matmul (CUDA): plan needs ", nb + 2,
                  " strides per operand");
    GemmPlan plan;
    const int64_t rsa = a_strides[nb], csa = a_strides[nb + 1], rsb = b_strides[nb], csb = b_strides[nb + 1];
    const Strides a_batch_strides(a_strides.begin(), a_strides.begin() + nb),
        b_batch_strides(b_strides.begin(), b_strides.begin() + nb);
    Shape c_shape = batch;
    c_shape.insert(c_shape.end(), {M, N});
    const Strides c_strides = contiguous_strides(c_shape);
    const Strides c_batch_strides(c_strides.begin(), c_strides.begin() + nb);

    // As on the CPU: when B is the same for every batch element and A's batch axes fold into its
    // rows ([B, T, C] @ [C, N]), the whole product is one GEMM with numel(batch)·M rows.
    int64_t rows = M, a_row_stride = rsa;
    bool folded = false;
    if (nb > 0) {
        bool b_shared = true;
        for (int64_t s : b_batch_strides) b_shared = b_shared && s == 0;
        Shape row_shape = batch;
        row_shape.push_back(M);
        Strides row_strides = a_batch_strides;
        row_strides.push_back(rsa);
        const StridedLayout<1> L = coalesce<1>(row_shape, {row_strides});
        const int64_t fold_rows = numel(row_shape), fold_stride = L.shape.empty() ? rsa : L.strides[0][0];
        // Not when the folded rows overlap (a stride-0 batch of one row): unfolded, no copy is needed.
        if (b_shared && L.shape.size() <= 1 && fold_rows <= INT_MAX && column_major(fold_rows, K, fold_stride, csa).fits) {
            rows = fold_rows, a_row_stride = fold_stride;
            folded = true;
        }
    }
    SPLATLM_CHECK(rows <= INT_MAX && N <= INT_MAX && K <= INT_MAX, "matmul (CUDA): M×N×K = ", rows, "×", N, "×", K,
                  " exceeds cuBLAS's 32-bit sizes");

    const ColumnMajorOperand b_op = column_major(K, N, rsb, csb), a_op = column_major(rows, K, a_row_stride, csa);
    plan.copy_a = !a_op.fits;
    plan.copy_b = !b_op.fits;
    if (plan.copy_a || plan.copy_b) return plan;
    plan.transa = b_op.transpose, plan.lda = b_op.ld;
    plan.transb = a_op.transpose, plan.ldb = a_op.ld;
    plan.m = N, plan.n = rows, plan.k = K, plan.ldc = N;
    if (folded) return plan;

    const StridedLayout<3> L = coalesce<3>(batch, {c_batch_strides, a_batch_strides, b_batch_strides});
    if (!L.shape.empty()) {
        const size_t last = L.shape.size() - 1;
        SPLATLM_CHECK(L.shape[last] <= INT_MAX, "matmul (CUDA): batch of ", L.shape[last], " exceeds cuBLAS's 32-bit count");
        plan.batch = L.shape[last];
        plan.stride_c = L.strides[0][last], plan.stride_b = L.strides[1][last], plan.stride_a = L.strides[2][last];
        plan.outer.assign(L.shape.begin(), L.shape.end() - 1);
        for (int op = 0; op < 3; ++op) plan.outer_strides[op].assign(L.strides[op].begin(), L.strides[op].end() - 1);
    }
    return plan;
}

}  // namespace splatlm::cuda
