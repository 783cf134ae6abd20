// gemm.cpp — PLACEHOLDER (to be replaced by the blocked, packed, register-tiled kernel).
#include "tensor/gemm.h"

namespace splatlm {

void gemm_reference(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t rsa, int64_t csa,
                    const float* B, int64_t rsb, int64_t csb, float beta, float* C, int64_t rsc, int64_t csc) {
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            double acc = 0;
            for (int64_t p = 0; p < K; ++p) acc += double(A[i * rsa + p * csa]) * B[p * rsb + j * csb];
            float& c = C[i * rsc + j * csc];
            c = float(alpha * acc + (beta == 0.f ? 0.0 : double(beta) * c));
        }
}

void gemm(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t rsa, int64_t csa, const float* B,
          int64_t rsb, int64_t csb, float beta, float* C, int64_t rsc, int64_t csc) {
    gemm_reference(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc);
}

void gemm_batched(int64_t batch, int64_t M, int64_t N, int64_t K, float alpha, const float* const* A, int64_t rsa,
                  int64_t csa, const float* const* B, int64_t rsb, int64_t csb, float beta, float* const* C,
                  int64_t rsc, int64_t csc) {
    for (int64_t b = 0; b < batch; ++b) gemm(M, N, K, alpha, A[b], rsa, csa, B[b], rsb, csb, beta, C[b], rsc, csc);
}

}  // namespace splatlm
