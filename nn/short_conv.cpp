#include "nn/short_conv.h"

#include <cmath>

#include "autograd/graph.h"
#include "cuda/short_conv.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {

cuda::ShortConvShape checked_shape(const Tensor& x, const Tensor& w) {
    SPLATLM_CHECK(x.dim() == 3 && w.dim() == 2 && w.size(0) == x.size(2) && w.size(1) >= 1,
                  "causal_short_conv: x must be [B, T, N] and weight [N, K], got ", shape_str(x.shape()), " and ",
                  shape_str(w.shape()));
    SPLATLM_CHECK(x.device() == w.device(), "causal_short_conv: x on ", device_name(x.device()), ", weight on ",
                  device_name(w.device()));
    return {x.size(0), x.size(1), x.size(2), w.size(1)};
}

// Every output of `count` elements from one of short_conv_math.h's sums, on the CPU.
template <class F>
void fill_cpu(Tensor& out, int64_t count, F&& value_at) {
    float* o = out.data();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i) o[i] = value_at(i);
}

}  // namespace

Tensor causal_short_conv(const Tensor& x_any, const Tensor& w_any) {
    const cuda::ShortConvShape s = checked_shape(x_any, w_any);
    const Tensor x = raw::contiguous(x_any), w = raw::contiguous(w_any);
    const Device device = x.device();
    Tensor y = Tensor::empty(x.shape(), device);
    if (device == Device::CUDA)
        cuda::short_conv_forward(x.data(), w.data(), y.data(), s);
    else
        fill_cpu(y, s.B * s.T * s.N, [&](int64_t i) {
            return cuda::short_conv_output(x.data(), w.data(), s, i / (s.N * s.T), (i / s.N) % s.T, i % s.N);
        });
    return record(y, "causal_short_conv", {x_any, w_any}, [x, w, s, device](const Tensor& grad) {
        const Tensor dy = raw::contiguous(grad);
        Tensor dx = Tensor::empty(x.shape(), device), dw = Tensor::empty(w.shape(), device);
        if (device == Device::CUDA) {
            cuda::short_conv_backward(x.data(), w.data(), dy.data(), dx.data(), dw.data(), s);
        } else {
            fill_cpu(dx, s.B * s.T * s.N, [&](int64_t i) {
                return cuda::short_conv_input_grad(dy.data(), w.data(), s, i / (s.N * s.T), (i / s.N) % s.T, i % s.N);
            });
            fill_cpu(dw, s.N * s.K,
                     [&](int64_t i) { return cuda::short_conv_weight_grad(dy.data(), x.data(), s, i / s.K, i % s.K); });
        }
        return std::vector<Tensor>{dx, dw};
    });
}

ShortConv::ShortConv(int64_t channels, int64_t taps, Rng& rng)
    : weight(add_parameter("weight", Tensor::rand({channels, taps}, rng, -1.f / std::sqrt(float(taps)),
                                                  1.f / std::sqrt(float(taps))))) {}

Tensor ShortConv::new_window(int64_t batch, Device device) const {
    return Tensor::zeros({batch, taps() - 1, weight.size(0)}, device);
}

// The window and x_t side by side are a sequence of K positions whose last output is forward()'s row
// t: the same sum in the same order (the zeros before the start add exact zeros).
Tensor ShortConv::step(const Tensor& x_t, Tensor& window) const {
    NoGradGuard no_grad;
    const int64_t B = x_t.size(0), K = taps(), N = weight.size(0);
    SPLATLM_CHECK(x_t.dim() == 2 && x_t.size(1) == N && window.dim() == 3 && window.size(0) == B &&
                      window.size(1) == K - 1,
                  "short conv step: x_t must be [B, ", N, "] with a window [B, ", K - 1, ", ", N, "], got ",
                  shape_str(x_t.shape()), " and ", shape_str(window.shape()));
    Tensor seq = Tensor::empty({B, K, N}, x_t.device());
    Tensor earlier = raw::slice(seq, 1, 0, K - 1), now = raw::select(seq, 1, K - 1);
    raw::copy_into(earlier, window);
    raw::copy_into(now, x_t);
    const Tensor y = causal_short_conv(seq, weight);
    raw::copy_into(window, raw::slice(seq, 1, 1, K));
    return raw::contiguous(raw::select(y, 1, K - 1));
}

}  // namespace splatlm
