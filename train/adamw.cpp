#include "train/adamw.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda/optimizer.h"
#include "tensor/error.h"
#include "tensor/optimizer_math.h"

namespace splatlm {

namespace {

// 1 where AdamW decays the parameter, 0 where not, per element of the flat buffer: the CUDA kernel
// reads it instead of looking up each element's slot.
Tensor decay_mask(const FlatParameters& params, const AdamWOptions& opt) {
    Tensor mask = Tensor::zeros({params.size()});
    for (const FlatParameters::Slot& slot : params.slots())
        std::fill_n(mask.data() + slot.offset, slot.tensor.numel(), (slot.weight_decay || opt.decay_everything) ? 1.f : 0.f);
    return mask.to(params.device());
}

}  // namespace

AdamW::AdamW(FlatParameters& params, AdamWOptions options)
    : params_(params),
      opt_(options),
      m_(Tensor::zeros({params.size()}, params.device())),
      v_(Tensor::zeros({params.size()}, params.device())) {
    if (params.device() == Device::CUDA) decay_mask_ = decay_mask(params, opt_);
}

void AdamW::step(float lr, float grad_scale) {
    ++t_;
    const AdamWConstants k{opt_.beta1, opt_.beta2, opt_.eps, lr, 1.f / (1.f - std::pow(opt_.beta1, float(t_))),
                           1.f / (1.f - std::pow(opt_.beta2, float(t_))), grad_scale};
    float *p = params_.values(), *g = params_.grads(), *m = m_.data(), *v = v_.data();
    if (params_.device() == Device::CUDA) {
        cuda::adamw_step(p, g, m, v, decay_mask_.data(), params_.size(), k, 1.f - lr * opt_.weight_decay);
        return;
    }
    // One parallel pass over the flat buffers in blocks of kStepBlock elements, however small the
    // parameters are; a block that spans several slots gives each element its own slot's decay.
    // The slots tile the buffer in order.
    constexpr int64_t kStepBlock = 4096;
    const std::vector<FlatParameters::Slot>& slots = params_.slots();
    const int64_t n = params_.size(), blocks = (n + kStepBlock - 1) / kStepBlock;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t lo = b * kStepBlock, hi = std::min(n, lo + kStepBlock);
        auto slot = std::upper_bound(slots.begin(), slots.end(), lo,
                                     [](int64_t i, const FlatParameters::Slot& s) { return i < s.offset; }) - 1;
        for (; slot != slots.end() && slot->offset < hi; ++slot) {
            const float shrink = (slot->weight_decay || opt_.decay_everything) ? 1.f - lr * opt_.weight_decay : 1.f;
            const int64_t end = std::min(hi, slot->offset + slot->tensor.numel());
            for (int64_t i = std::max(lo, slot->offset); i < end; ++i) adamw_update(p[i], m[i], v[i], g[i], shrink, k);
        }
    }
}

GradClip gradient_clip(const FlatParameters& params, double max_norm) {
    const int64_t n = params.size(), blocks = (n + kNormBlock - 1) / kNormBlock;
    const bool on_gpu = params.device() == Device::CUDA;
    const float* g = params.grads();
    std::vector<double> partial(blocks, 0.0);
    if (on_gpu) {
        cuda::squared_norm_partials(g, n, partial.data());
    } else {
        // Each block sums in kNormLanes independent lanes (a vector register of doubles): one running
        // sum would be a chain of dependent adds, one per element.
        constexpr int64_t kNormLanes = 8;
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t b = 0; b < blocks; ++b) {
            double lane[kNormLanes] = {};
            const int64_t lo = b * kNormBlock, hi = std::min(n, lo + kNormBlock);
            int64_t i = lo;
            for (; i + kNormLanes <= hi; i += kNormLanes)
#pragma omp simd
                for (int64_t l = 0; l < kNormLanes; ++l) lane[l] += double(g[i + l]) * g[i + l];
            for (; i < hi; ++i) lane[0] += double(g[i]) * g[i];
            for (int64_t l = 0; l < kNormLanes; ++l) partial[b] += lane[l];
        }
    }
    double sq = 0;
    for (double s : partial) sq += s;  // fixed order: the same norm for any thread count
    const double norm = std::sqrt(sq);
    const bool clip = std::isfinite(norm) && norm > max_norm;
    return {norm, clip ? static_cast<float>(max_norm / (norm + 1e-6)) : 1.f};
}

float learning_rate(int64_t step, int64_t warmup, int64_t total, float peak, float floor) {
    if (step < warmup) return peak * float(step + 1) / float(warmup);
    if (step >= total) return floor;
    const double progress = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
    return floor + 0.5f * (peak - floor) * float(1.0 + std::cos(M_PI * progress));
}

}  // namespace splatlm
