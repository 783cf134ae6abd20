#include "nn/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda/kv_step.h"
#include "nn/heads.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

KVCache::KVCache(int64_t batch, int64_t heads, int64_t dim, int64_t max_len, int64_t window)
    : max_len_(max_len), window_(window) {
    SPLATLM_CHECK(batch > 0 && heads > 0 && dim > 0 && max_len > 0 && window >= 0,
                  "KV cache: batch, heads, dim and max_len must be positive and window >= 0, got ", batch, ", ",
                  heads, ", ", dim, ", ", max_len, ", ", window);
    const int64_t slots = window > 0 ? std::min(window, max_len) : max_len;
    k_ = Tensor::zeros({batch, heads, slots, dim});
    v_ = Tensor::zeros({batch, heads, slots, dim});
}

// The filled slots are [0, min(length, slots)): the ring fills in order before it wraps.
NamedTensors KVCache::contents() const {
    const int64_t filled = std::min(len_, slots());
    return {{"k", saved_copy(raw::slice(k_, 2, 0, filled))}, {"v", saved_copy(raw::slice(v_, 2, 0, filled))}};
}

void KVCache::restore(const NamedTensors& saved, int64_t length) {
    SPLATLM_CHECK(length >= 0 && length <= max_len_, "saved KV cache: length ", length, " outside [0, ", max_len_, "]");
    const int64_t filled = std::min(length, slots());
    Tensor k = raw::slice(k_, 2, 0, filled), v = raw::slice(v_, 2, 0, filled);
    restore_tensor(k, saved, "k");
    restore_tensor(v, saved, "v");
    len_ = length;
}

Tensor KVCache::attend(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in) {
    const int64_t B = k_.size(0), H = k_.size(1), S = k_.size(2), D = k_.size(3), t = len_;
    for (const Tensor* x : {&q_in, &k_in, &v_in})
        SPLATLM_CHECK(x->shape() == Shape({B, H, D}), "KV cache: expected q, k, v of shape [", B, ", ", H, ", ", D,
                      "], got ", shape_str(x->shape()));
    SPLATLM_CHECK(t < max_len_, "KV cache: full at ", max_len_, " positions");
    if (common_device("KV cache", q_in, k_in, v_in) == Device::CUDA) return attend_cuda(q_in, k_in, v_in);
    check_device("KV cache", k_, Device::CPU);  // a cache that moved to the GPU stays there
    Tensor q = raw::contiguous(q_in), k = raw::contiguous(k_in), v = raw::contiguous(v_in);
    Tensor y = Tensor::empty({B, H, D});
    const float scale = 1.f / std::sqrt(static_cast<float>(D));
    const int64_t first = first_visible(t);
    std::vector<float> w(t - first + 1);
    for (int64_t bh = 0; bh < B * H; ++bh) {
        float* kc = k_.data() + bh * S * D;
        float* vc = v_.data() + bh * S * D;
        std::copy_n(k.data() + bh * D, D, kc + (t % S) * D);
        std::copy_n(v.data() + bh * D, D, vc + (t % S) * D);
        const float* qr = q.data() + bh * D;
        float m = -INFINITY, z = 0.f;
        for (int64_t u = first; u <= t; ++u) {
            float s = 0.f;
            for (int64_t d = 0; d < D; ++d) s += qr[d] * kc[(u % S) * D + d];
            m = std::max(m, w[u - first] = s * scale);
        }
        for (float& wu : w) z += wu = std::exp(wu - m);
        float* out = y.data() + bh * D;
        for (int64_t d = 0; d < D; ++d) {
            float acc = 0.f;
            for (int64_t u = first; u <= t; ++u) acc += w[u - first] * vc[(u % S) * D + d];
            out[d] = acc / z;
        }
    }
    len_ = t + 1;
    return y;
}

// The same step as one thread block per (batch, head) on the GPU. new_cache cannot know the device,
// so the ring is allocated there at the first position.
Tensor KVCache::attend_cuda(const Tensor& q, const Tensor& k, const Tensor& v) {
    if (k_.device() != Device::CUDA) {  // with what it holds: a restored cache (restore()) is filled on the host
        k_ = k_.to(Device::CUDA);
        v_ = v_.to(Device::CUDA);
    }
    const int64_t B = k_.size(0), H = k_.size(1), S = k_.size(2), D = k_.size(3), t = len_, first = first_visible(t);
    SPLATLM_CHECK(t - first + 1 <= cuda::kKVStepMaxPositions, "KV cache: ", t - first + 1,
                  " visible positions exceed the CUDA step's limit of ", cuda::kKVStepMaxPositions);
    // [B, H, D] seen as [B, H, 1, D].
    auto view = [](const Tensor& x) {
        return cuda::HeadView{const_cast<float*>(x.data()), x.strides()[0], x.strides()[1], 0, x.strides()[2]};
    };
    Tensor y = Tensor::empty({B, H, D}, Device::CUDA);
    cuda::kv_step({H, S, D, t, first, 1.f / std::sqrt(static_cast<float>(D)), view(q), view(k), view(v), k_.data(),
                   v_.data(), y.data()},
                  B * H);
    len_ = t + 1;
    return y;
}

}  // namespace splatlm
