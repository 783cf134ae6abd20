// views.cpp — reshape, permute, slice and expand only rewrite (shape, strides, offset); the storage
// is shared. contiguous(), copy_into() and fill() are the only places that write data here.
#include <algorithm>
#include <cstring>

#include "cuda/map.h"
#include "tensor/broadcast_index.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/strided.h"

namespace splatlm::raw {

Tensor reshape(const Tensor& x, Shape shape) {
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            SPLATLM_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(shape));
            infer = static_cast<int64_t>(i);
        } else {
            SPLATLM_CHECK(shape[i] >= 0, "reshape: negative dimension in ", shape_str(shape));
            known *= shape[i];
        }
    }
    if (infer >= 0) {
        SPLATLM_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot reshape ", shape_str(x.shape()), " into ",
                      shape_str(shape));
        shape[infer] = x.numel() / known;
    }
    SPLATLM_CHECK(numel(shape) == x.numel(), "reshape: cannot reshape ", shape_str(x.shape()), " (", x.numel(),
                  " elements) into ", shape_str(shape));
    Tensor src = contiguous(x);
    return Tensor::view_of(src.storage(), shape, contiguous_strides(shape), src.offset());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& axes) {
    const int64_t nd = x.dim();
    SPLATLM_CHECK(static_cast<int64_t>(axes.size()) == nd, "permute: ", axes.size(), " axes for a tensor of shape ",
                  shape_str(x.shape()));
    Shape shape(nd);
    Strides strides(nd);
    std::vector<bool> used(nd, false);
    for (int64_t i = 0; i < nd; ++i) {
        int64_t a = normalize_axis(axes[i], nd, "permute");
        SPLATLM_CHECK(!used[a], "permute: axis ", a, " repeated for shape ", shape_str(x.shape()));
        used[a] = true;
        shape[i] = x.shape()[a];
        strides[i] = x.strides()[a];
    }
    return Tensor::view_of(x.storage(), shape, strides, x.offset());
}

Tensor transpose(const Tensor& x, int64_t a, int64_t b) {
    std::vector<int64_t> axes(x.dim());
    for (int64_t i = 0; i < x.dim(); ++i) axes[i] = i;
    std::swap(axes[normalize_axis(a, x.dim(), "transpose")], axes[normalize_axis(b, x.dim(), "transpose")]);
    return permute(x, axes);
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end) {
    int64_t a = normalize_axis(axis, x.dim(), "slice");
    SPLATLM_CHECK(0 <= start && start <= end && end <= x.shape()[a], "slice: range [", start, ", ", end,
                  ") out of bounds for axis ", a, " of shape ", shape_str(x.shape()));
    Shape shape = x.shape();
    shape[a] = end - start;
    return Tensor::view_of(x.storage(), shape, x.strides(), x.offset() + start * x.strides()[a]);
}

Tensor select(const Tensor& x, int64_t axis, int64_t index) {
    const int64_t a = normalize_axis(axis, x.dim(), "select");
    SPLATLM_CHECK(index >= 0 && index < x.shape()[a], "select: index ", index, " out of range for axis ", a,
                  " of shape ", shape_str(x.shape()));
    Shape shape = x.shape();
    Strides strides = x.strides();
    shape.erase(shape.begin() + a);
    strides.erase(strides.begin() + a);
    return Tensor::view_of(x.storage(), shape, strides, x.offset() + index * x.strides()[a]);
}

Tensor expand(const Tensor& x, const Shape& shape) {
    const int64_t nd = static_cast<int64_t>(shape.size()), lead = nd - x.dim();
    SPLATLM_CHECK(lead >= 0, "expand: cannot expand ", shape_str(x.shape()), " to fewer axes ", shape_str(shape));
    Strides strides(nd, 0);
    for (int64_t i = 0; i < x.dim(); ++i) {
        int64_t from = x.shape()[i], to = shape[lead + i];
        SPLATLM_CHECK(from == to || from == 1, "expand: cannot expand ", shape_str(x.shape()), " to ",
                      shape_str(shape));
        strides[lead + i] = from == to ? x.strides()[i] : 0;
    }
    return Tensor::view_of(x.storage(), shape, strides, x.offset());
}

void copy_into(Tensor& dst, const Tensor& src) {
    SPLATLM_CHECK(dst.shape() == src.shape(), "copy: shapes ", shape_str(dst.shape()), " and ", shape_str(src.shape()),
                  " differ");
    SPLATLM_CHECK(dst.defined() && src.defined(), "copy: undefined tensor");
    SPLATLM_CHECK(dst.device() == src.device(), "copy: destination ", shape_str(dst.shape()), " on ",
                  device_name(dst.device()), ", source ", shape_str(src.shape()), " on ", device_name(src.device()),
                  " (Tensor::to moves between devices)");
    if (dst.device() == Device::CUDA) {
        cuda::copy(make_broadcast_index<2>(dst.shape(), {dst.strides(), src.strides()}, "copy"), dst.data(), src.data());
        return;
    }
    float* d = dst.data();
    const float* s = src.data();
    for_each_row<2>(dst.shape(), {dst.strides(), src.strides()}, [&](auto off, int64_t n, auto st) {
        float* dp = d + off[0];
        const float* sp = s + off[1];
        if (st[0] == 1 && st[1] == 1)
            std::memcpy(dp, sp, n * sizeof(float));
        else
            for (int64_t i = 0; i < n; ++i) dp[i * st[0]] = sp[i * st[1]];
    });
}

void fill(Tensor& dst, float value) {
    SPLATLM_CHECK(dst.defined() && dst.is_contiguous(), "fill: the destination must be a defined, contiguous tensor");
    if (dst.device() == Device::CUDA) return cuda::fill(dst.data(), dst.numel(), value);
    float* d = dst.data();
    for_each_row<1>(dst.shape(), {dst.strides()}, [&](auto off, int64_t n, auto) { std::fill_n(d + off[0], n, value); });
}

Tensor contiguous(const Tensor& x) {
    if (x.is_contiguous()) return x;
    Tensor out = Tensor::empty(x.shape(), x.device());
    copy_into(out, x);
    return out;
}

}  // namespace splatlm::raw
