// ops_matmul.cpp — C = A·B:  dA = dC·Bᵀ,  dB = Aᵀ·dC, each summed over broadcast batch axes.
// Transposes are views; the GEMM reads them through strides.
// linear: y = x·Wᵀ + b (W: [out, in]):  dx = dy·W,  dW = dyᵀ·x (in W's own layout, so the leaf
// accumulates it contiguously),  db = dy summed over rows. When W is a CPU leaf whose .grad already
// exists (a model's parameters in their flat buffer), dW is summed straight into it by the GEMM and
// no gradient is returned for W: on a 124M-parameter model that saves writing a 0.5 GB product and
// an add pass over it and the buffer. The sum is the same either way (.grad + dW).
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {

// W's .grad when the linear backward may sum into it in place: a CPU leaf whose gradient buffer
// exists, has W's shape and is contiguous. Otherwise undefined (the engine accumulates as usual).
Tensor leaf_gradient_buffer(const Tensor& w) {
    const TensorImpl* impl = w.impl();
    if (impl->grad_fn || !impl->grad || w.device() != Device::CPU) return Tensor();
    Tensor grad(impl->grad);
    return grad.shape() == w.shape() && grad.is_contiguous() ? grad : Tensor();
}

}  // namespace

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

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
    std::vector<Tensor> inputs{x, w};
    if (b.defined()) inputs.push_back(b);
    return record(raw::linear(x, w, b), "linear", std::move(inputs), [x, w, b](const Tensor& g) -> std::vector<Tensor> {
        const int64_t out = w.size(0), in = w.size(1), rows = out ? g.numel() / out : 0;
        const Tensor g2 = raw::reshape(g, {rows, out});
        Tensor dx, dw, db;
        if (x.requires_grad()) dx = raw::reshape(raw::matmul(g2, w), x.shape());
        if (w.requires_grad()) {
            const Tensor gt = raw::transpose(g2, 0, 1), x2 = raw::reshape(x, {rows, in});
            if (Tensor into = leaf_gradient_buffer(w); into.defined())
                raw::matmul_add_into(into, gt, x2);
            else
                dw = raw::matmul(gt, x2);
        }
        if (b.defined() && b.requires_grad()) db = raw::sum(g2, 0, false);
        std::vector<Tensor> grads{dx, dw};
        if (b.defined()) grads.push_back(db);
        return grads;
    });
}

}  // namespace splatlm
