// ops_matmul.cpp — C = A·B:  dA = dC·Bᵀ,  dB = Aᵀ·dC, each summed over broadcast batch axes.
// Transposes are views; the GEMM reads them through strides.
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace splatlm {

Tensor matmul(const Tensor& a, const Tensor& b) {
    return record(raw::matmul(a, b), "matmul", {a, b}, [a, b](const Tensor& g) -> std::vector<Tensor> {
        Tensor da, db;
        if (a.requires_grad()) da = raw::sum_to(raw::matmul(g, raw::transpose(b, -1, -2)), a.shape());
        if (b.requires_grad()) {
            if (b.dim() == 2) {  // shared weight: fold every batch row into one product [K, rows]·[rows, N]
                Tensor a2 = raw::reshape(a, {-1, a.size(-1)}), g2 = raw::reshape(g, {-1, g.size(-1)});
                db = raw::matmul(raw::transpose(a2, 0, 1), g2);
            } else {
                db = raw::sum_to(raw::matmul(raw::transpose(a, -1, -2), g), b.shape());
            }
        }
        return {da, db};
    });
}

}  // namespace splatlm
