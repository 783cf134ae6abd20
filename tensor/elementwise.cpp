// elementwise.cpp — unary and broadcasting binary ops. The per-element math is in
// elementwise_math.h; here is only the iteration: a dispatch picks a template instance, whose inner
// loop the compiler vectorises for unit strides. CUDA tensors go to cuda/elementwise.cu, which
// indexes through a BroadcastIndex built from the same coalesced layout.
#include <cmath>

#include "cuda/elementwise.h"
#include "cuda/map.h"
#include "tensor/broadcast_index.h"
#include "tensor/elementwise_dispatch.h"
#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/strided.h"

namespace splatlm::raw {

namespace {

template <class F>
Tensor map_unary(const Tensor& x, F f) {
    check_device("unary op", x, Device::CPU);
    Tensor out = Tensor::empty(x.shape());
    float* o = out.data();
    const float* s = x.data();
    for_each_row<2>(x.shape(), {out.strides(), x.strides()}, [&](auto off, int64_t n, auto st) {
        float* op = o + off[0];
        const float* sp = s + off[1];
        if (st[1] == 1)
            for (int64_t i = 0; i < n; ++i) op[i] = f(sp[i]);
        else
            for (int64_t i = 0; i < n; ++i) op[i] = f(sp[i * st[1]]);
    });
    return out;
}

// out = kind(ea, eb) on the CPU; ea and eb already expanded to out's shape.
template <Binary kind>
void map_binary(Tensor& out, const Tensor& ea, const Tensor& eb) {
    float* o = out.data();
    const float *pa = ea.data(), *pb = eb.data();
    for_each_row<3>(out.shape(), {out.strides(), ea.strides(), eb.strides()}, [&](auto off, int64_t n, auto st) {
        float* op = o + off[0];
        const float *ap = pa + off[1], *bp = pb + off[2];
        if (st[1] == 1 && st[2] == 1)
            for (int64_t i = 0; i < n; ++i) op[i] = apply_binary<kind>(ap[i], bp[i]);
        else if (st[1] == 1 && st[2] == 0)
            for (int64_t i = 0; i < n; ++i) op[i] = apply_binary<kind>(ap[i], bp[0]);
        else if (st[1] == 0 && st[2] == 1)
            for (int64_t i = 0; i < n; ++i) op[i] = apply_binary<kind>(ap[0], bp[i]);
        else
            for (int64_t i = 0; i < n; ++i) op[i] = apply_binary<kind>(ap[i * st[1]], bp[i * st[2]]);
    });
}

// Both operands on one device, named in the error when not.
Device common_device(const char* op, const Tensor& a, const Tensor& b) {
    SPLATLM_CHECK(a.defined() && b.defined(), op, ": undefined tensor");
    SPLATLM_CHECK(a.device() == b.device(), op, ": operands on different devices: ", shape_str(a.shape()), " on ",
                  device_name(a.device()), ", ", shape_str(b.shape()), " on ", device_name(b.device()));
    return a.device();
}

}  // namespace

Tensor unary(Unary op, const Tensor& x) {
    SPLATLM_CHECK(x.defined(), op_name(op), ": undefined tensor");
    if (x.device() == Device::CUDA) {
        Tensor out = Tensor::empty(x.shape(), Device::CUDA);
        cuda::unary(op, make_broadcast_index<2>(x.shape(), {out.strides(), x.strides()}, op_name(op)), out.data(), x.data());
        return out;
    }
    return dispatch_unary(op, [&](auto k) {
        return map_unary(x, [](float v) { return apply_unary<decltype(k)::value>(v); });
    });
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
    const char* name = op_name(op);
    const Device device = common_device(name, a, b);
    const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
    const Tensor ea = expand(a, shape), eb = expand(b, shape);  // stretched axes get stride 0
    Tensor out = Tensor::empty(shape, device);
    if (device == Device::CUDA)
        cuda::binary(op, make_broadcast_index<3>(shape, {out.strides(), ea.strides(), eb.strides()}, name), out.data(),
                     ea.data(), eb.data());
    else
        dispatch_binary(op, [&](auto k) { map_binary<decltype(k)::value>(out, ea, eb); });
    return out;
}

// x·scale + shift and x^p: CUDA tensors through cuda/map.cu, CPU ones through map_unary.
Tensor affine(const Tensor& x, float scale, float shift) {
    SPLATLM_CHECK(x.defined(), "affine: undefined tensor");
    if (x.device() == Device::CUDA) {
        Tensor out = Tensor::empty(x.shape(), Device::CUDA);
        cuda::affine(make_broadcast_index<2>(x.shape(), {out.strides(), x.strides()}, "affine"), out.data(), x.data(),
                     scale, shift);
        return out;
    }
    return map_unary(x, [scale, shift](float v) { return v * scale + shift; });
}

Tensor pow_scalar(const Tensor& x, float p) {
    SPLATLM_CHECK(x.defined(), "pow_scalar: undefined tensor");
    if (x.device() == Device::CUDA) {
        Tensor out = Tensor::empty(x.shape(), Device::CUDA);
        cuda::pow_scalar(make_broadcast_index<2>(x.shape(), {out.strides(), x.strides()}, "pow_scalar"), out.data(),
                         x.data(), p);
        return out;
    }
    return map_unary(x, [p](float v) { return std::pow(v, p); });
}

void add_inplace(Tensor& dst, const Tensor& src) {
    const Device device = common_device("add_inplace", dst, src);
    SPLATLM_CHECK(dst.shape() == src.shape(), "add_inplace: shapes ", shape_str(dst.shape()), " and ",
                  shape_str(src.shape()), " differ");
    for (int64_t a = 0; a < dst.dim(); ++a)  // a window (slice, select) of a buffer is fine; a broadcast is not
        SPLATLM_CHECK(dst.size(a) <= 1 || dst.strides()[a] != 0, "add_inplace: destination ", shape_str(dst.shape()),
                      " repeats elements (a broadcast view)");
    if (device == Device::CUDA) {
        cuda::add_into(make_broadcast_index<2>(dst.shape(), {dst.strides(), src.strides()}, "add_inplace"), dst.data(),
                       src.data());
        return;
    }
    float* d = dst.data();
    const float* s = src.data();
    for_each_row<2>(dst.shape(), {dst.strides(), src.strides()}, [&](auto off, int64_t n, auto st) {
        float* dp = d + off[0];
        const float* sp = s + off[1];
        for (int64_t i = 0; i < n; ++i) dp[i * st[0]] += sp[i * st[1]];
    });
}

}  // namespace splatlm::raw
