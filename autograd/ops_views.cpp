// ops_views.cpp — differentiable views. Their backwards undo the view on the gradient: reshape
// back, permute by the inverse, add a slice's gradient into its window of the input's gradient
// (record_window), and sum over broadcast axes.
#include "autograd/ops.h"
#include "tensor/ops.h"

namespace splatlm {

Tensor reshape(const Tensor& x, const Shape& shape) {
    Shape in_shape = x.shape();
    return record(raw::reshape(x, shape), "reshape", {x},
                  [in_shape](const Tensor& g) -> std::vector<Tensor> { return {raw::reshape(g, in_shape)}; });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& axes) {
    Tensor out = raw::permute(x, axes);
    std::vector<int64_t> inverse(axes.size());
    for (size_t i = 0; i < axes.size(); ++i) inverse[normalize_axis(axes[i], x.dim(), "permute")] = static_cast<int64_t>(i);
    return record(out, "permute", {x}, [inverse](const Tensor& g) -> std::vector<Tensor> {
        return {raw::permute(g, inverse)};
    });
}

Tensor transpose(const Tensor& x, int64_t a, int64_t b) {
    std::vector<int64_t> axes(x.dim());
    for (int64_t i = 0; i < x.dim(); ++i) axes[i] = i;
    std::swap(axes[normalize_axis(a, x.dim(), "transpose")], axes[normalize_axis(b, x.dim(), "transpose")]);
    return permute(x, axes);
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end) {
    return record_window(raw::slice(x, axis, start, end), "slice", x,
                         [axis, start, end](const Tensor& t) { return raw::slice(t, axis, start, end); });
}

Tensor select(const Tensor& x, int64_t axis, int64_t index) {
    return record_window(raw::select(x, axis, index), "select", x,
                         [axis, index](const Tensor& t) { return raw::select(t, axis, index); });
}

Tensor expand(const Tensor& x, const Shape& shape) {
    Shape in_shape = x.shape();
    return record(raw::expand(x, shape), "expand", {x},
                  [in_shape](const Tensor& g) -> std::vector<Tensor> { return {raw::sum_to(g, in_shape)}; });
}

Tensor contiguous(const Tensor& x) {
    return record(raw::contiguous(x), "contiguous", {x}, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

}  // namespace splatlm
