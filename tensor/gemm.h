// gemm.h — single-precision matrix multiply on the CPU, the hot spot of training.
//
//   C = alpha · A·B + beta · C        A: M×K, B: K×N, C: M×N
//
// Every matrix is given by a pointer and a (row stride, column stride) pair in elements, so a
// transposed operand is just swapped strides and no caller ever copies to transpose.
// beta == 0 means C is write-only (its old contents, even NaN, are ignored).
#pragma once
#include <cstdint>
#include <string>

namespace splatlm {

void gemm(int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t rsa, int64_t csa,
          const float* B, int64_t rsb, int64_t csb,
          float beta, float* C, int64_t rsc, int64_t csc);

// `batch` independent products of the same shape and strides; pointer arrays give each operand.
// Parallelises across the batch when the matrices are small, inside each product when large.
void gemm_batched(int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* const* A, int64_t rsa, int64_t csa,
                  const float* const* B, int64_t rsb, int64_t csb,
                  float beta, float* const* C, int64_t rsc, int64_t csc);

// The plain triple loop (double accumulation): the test oracle for gemm().
void gemm_reference(int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t rsa, int64_t csa,
                    const float* B, int64_t rsb, int64_t csb,
                    float beta, float* C, int64_t rsc, int64_t csc);

// The micro-kernel this build runs and its register tile, e.g. "NEON 8x12" (`splatlm doctor` prints it).
std::string gemm_micro_kernel();

}  // namespace splatlm
