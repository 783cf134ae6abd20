// ops_reduce.cpp — reductions. The backward of a sum broadcasts the gradient back over the reduced
// axis; max sends it to the arg-max positions (split equally between ties).
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {
using Grads = std::vector<Tensor>;

// Gradient of a reduction output, with the reduced axis restored as size 1 so it broadcasts.
Tensor with_kept_axis(const Tensor& g, const Tensor& x, int64_t axis, bool keepdim) {
    if (keepdim) return g;
    Shape kept = x.shape();
    kept[normalize_axis(axis, x.dim(), "reduce")] = 1;
    return raw::reshape(g, kept);
}
}  // namespace

Tensor sum(const Tensor& x, int64_t axis, bool keepdim) {
    return record(raw::sum(x, axis, keepdim), "sum", {x}, [x, axis, keepdim](const Tensor& g) -> Grads {
        return {raw::contiguous(raw::expand(with_kept_axis(g, x, axis, keepdim), x.shape()))};
    });
}

Tensor sum(const Tensor& x) {
    return record(raw::sum_all(x), "sum", {x},
                  [x](const Tensor& g) -> Grads { return {Tensor::full(x.shape(), g.item(), x.device())}; });
}

Tensor mean(const Tensor& x, int64_t axis, bool keepdim) {
    return mul_scalar(sum(x, axis, keepdim), 1.f / static_cast<float>(x.size(axis)));
}

Tensor mean(const Tensor& x) { return mul_scalar(sum(x), 1.f / static_cast<float>(x.numel())); }

Tensor max(const Tensor& x, int64_t axis, bool keepdim) {
    const int64_t a = normalize_axis(axis, x.dim(), "max");
    Tensor kept = raw::max(x, a, true);
    Tensor m = kept.detach();  // an alias without history: safe to capture
    Shape out_shape = x.shape();
    out_shape.erase(out_shape.begin() + a);
    Tensor out = keepdim ? kept : raw::reshape(kept, out_shape);
    return record(out, "max", {x}, [x, m, a, keepdim](const Tensor& g) -> Grads {
        Tensor winners = raw::binary(Binary::Equal, x, m);  // 1 at each maximum
        Tensor share = raw::binary(Binary::Div, winners, raw::sum(winners, a, true));
        return {raw::binary(Binary::Mul, share, with_kept_axis(g, x, a, keepdim))};
    });
}

Tensor max(const Tensor& x) { return max(reshape(x, {-1}), 0, false); }

}  // namespace splatlm
