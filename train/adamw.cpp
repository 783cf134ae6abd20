#include "train/adamw.h"

#include <cmath>
#include <vector>

#include "tensor/error.h"

namespace splatlm {

AdamW::AdamW(FlatParameters& params, AdamWOptions options)
    : params_(params), opt_(options), m_(Tensor::zeros({params.size()})), v_(Tensor::zeros({params.size()})) {}

void AdamW::step(float lr) {
    ++t_;
    const float b1 = opt_.beta1, b2 = opt_.beta2, eps = opt_.eps;
    const float c1 = 1.f / (1.f - std::pow(b1, float(t_))), c2 = 1.f / (1.f - std::pow(b2, float(t_)));
    float *p = params_.values(), *g = params_.grads(), *m = m_.data(), *v = v_.data();
    for (const FlatParameters::Slot& slot : params_.slots()) {
        const float shrink = (slot.weight_decay || opt_.decay_everything) ? 1.f - lr * opt_.weight_decay : 1.f;
        const int64_t begin = slot.offset, end = slot.offset + slot.tensor.numel();
#pragma omp parallel for schedule(static) if (end - begin > 16384)
        for (int64_t i = begin; i < end; ++i) {
            m[i] = b1 * m[i] + (1.f - b1) * g[i];
            v[i] = b2 * v[i] + (1.f - b2) * g[i] * g[i];
            p[i] = p[i] * shrink - lr * (m[i] * c1) / (std::sqrt(v[i] * c2) + eps);
        }
    }
}

double clip_grad_norm(FlatParameters& params, double max_norm) {
    const int64_t n = params.size(), block = 4096, blocks = (n + block - 1) / block;
    float* g = params.grads();
    std::vector<double> partial(blocks, 0.0);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < blocks; ++b)
        for (int64_t i = b * block; i < std::min(n, (b + 1) * block); ++i) partial[b] += double(g[i]) * g[i];
    double sq = 0;
    for (double s : partial) sq += s;  // fixed order: the same norm for any thread count
    const double norm = std::sqrt(sq);
    if (std::isfinite(norm) && norm > max_norm) {
        const float scale = static_cast<float>(max_norm / (norm + 1e-6));
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; ++i) g[i] *= scale;
    }
    return norm;
}

float learning_rate(int64_t step, int64_t warmup, int64_t total, float peak, float floor) {
    if (step < warmup) return peak * float(step + 1) / float(warmup);
    if (step >= total) return floor;
    const double progress = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
    return floor + 0.5f * (peak - floor) * float(1.0 + std::cos(M_PI * progress));
}

}  // namespace splatlm
