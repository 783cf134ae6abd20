// splat_kernels.cpp — the splat constants and the affinities of the CPU kernels (splat_kernels.h).
#include "splat/splat_kernels.h"

#include <cmath>

#include "tensor/gemm.h"
#include "tensor/ops.h"

namespace splatlm {

Splats::Splats(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o)
    : H(centres.size(0)), K(centres.size(1)), D(centres.size(2)), mu_t(raw::contiguous(centres)),
      sb_t(o.send_bias.defined() ? raw::contiguous(o.send_bias) : Tensor()),
      td_t(o.token_decay.defined() ? raw::contiguous(o.token_decay) : Tensor()), mu(mu_t.data()),
      sb(sb_t.defined() ? sb_t.data() : nullptr), td(td_t.defined() ? td_t.data() : nullptr), c(H * K), mu2(H * K),
      la(H * K), rate(H * K, 0.f), rb(H * K, 0.f) {
    for (int64_t h = 0; h < H; ++h)
        for (int64_t j = 0; j < K; ++j) {
            const int64_t i = h * K + j;
            c[i] = float(0.5 * std::exp(-2.0 * double(log_scale.at({h, j}))));
            la[i] = log_amp.at({h, j});
            if (o.log_decay.defined()) rate[i] = std::exp(o.log_decay.at({h, j}));
            if (o.read_bias.defined()) rb[i] = o.read_bias.at({h, j});
            double n2 = 0;
            for (int64_t d = 0; d < D; ++d) n2 += double(mu[i * D + d]) * mu[i * D + d];
            mu2[i] = float(n2);
        }
}

void affinities(const float* x, int64_t rs, int64_t cs, int64_t rows, const Splats& sp, int64_t h, bool key,
                const float* send_bias, float* out) {
    const int64_t K = sp.K, D = sp.D;
    gemm(rows, K, D, 1.f, x, rs, cs, sp.centres(h), 1, D, 0.f, out, K, 1);
    const float *c = sp.c.data() + h * K, *mu2 = sp.mu2.data() + h * K, *la = sp.la.data() + h * K,
                *rb = sp.rb.data() + h * K;
    for (int64_t r = 0; r < rows; ++r) {
        double x2 = 0;
        for (int64_t d = 0; d < D; ++d) x2 += double(x[r * rs + d * cs]) * x[r * rs + d * cs];
        float* o = out + r * K;
        for (int64_t j = 0; j < K; ++j) {
            const float d2 = std::max(0.f, float(x2) - 2.f * o[j] + mu2[j]);
            const float bias = key ? la[j] + (send_bias ? send_bias[r * K + j] : 0.f) : rb[j];
            o[j] = bias - c[j] * d2;
        }
    }
}

}  // namespace splatlm
