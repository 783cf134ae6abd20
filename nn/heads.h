// heads.h — the geometry every fused attention op shares: a [B, H, T, D] operand with any strides
// (the q, k, v views split_heads makes, transposes, outputs stored as [B, T, H, D]), and the one
// check that q, k and v agree on that shape.
#pragma once
#include <cstdint>

#include "cuda/head_view.h"
#include "tensor/error.h"
#include "tensor/tensor.h"

namespace splatlm {

// Element (b, h, t, d) sits at base + b·sb + h·sh + t·st + d·sd.
struct Heads {
    float* base;
    int64_t sb, sh, st, sd;
    explicit Heads(const Tensor& x)
        : base(const_cast<float*>(x.data())), sb(x.strides()[0]), sh(x.strides()[1]), st(x.strides()[2]),
          sd(x.strides()[3]) {}
    float* at(int64_t b, int64_t h, int64_t t) const { return base + b * sb + h * sh + t * st; }
    float operator()(int64_t b, int64_t h, int64_t t, int64_t d) const { return at(b, h, t)[d * sd]; }
};

// The same geometry as the CUDA kernels take it (a device pointer, or a host one in the tests).
inline cuda::HeadView head_view(const Tensor& x) {
    return {const_cast<float*>(x.data()), x.strides()[0], x.strides()[1], x.strides()[2], x.strides()[3]};
}

// A [B, H, T] (or [B, H, T, 1]) operand, one value per position (the delta rule's β), as the kernels
// take it: the value at row(b, h, t)[0], any strides.
inline cuda::HeadView scalar_view(const Tensor& x) {
    return {const_cast<float*>(x.data()), x.strides()[0], x.strides()[1], x.strides()[2], 0};
}

// q, k, v on one device; otherwise one error line naming `op` and each operand's shape and device.
inline Device common_device(const char* op, const Tensor& q, const Tensor& k, const Tensor& v) {
    for (const Tensor* t : {&q, &k, &v}) SPLATLM_CHECK(t->defined(), op, ": undefined tensor");
    SPLATLM_CHECK(q.device() == k.device() && q.device() == v.device(), op, ": q, k, v on different devices: ",
                  shape_str(q.shape()), " on ", device_name(q.device()), ", ", shape_str(k.shape()), " on ",
                  device_name(k.device()), ", ", shape_str(v.shape()), " on ", device_name(v.device()));
    return q.device();
}

// q, k, v on device `where` (the CPU unless said) and sharing one [B, H, T, D] shape (rank 3,
// [B, H, D], for one-token steps); otherwise one error line naming `op` and the three shapes.
inline void check_heads(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, int64_t rank = 4,
                        Device where = Device::CPU) {
    for (const Tensor* t : {&q, &k, &v}) check_device(op, *t, where);
    SPLATLM_CHECK(q.dim() == rank && q.shape() == k.shape() && q.shape() == v.shape(), op,
                  ": q, k, v must share one ", rank == 4 ? "[B, H, T, D]" : "[B, H, D]", " shape, got ",
                  shape_str(q.shape()), ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
}

}  // namespace splatlm
