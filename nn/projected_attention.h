// projected_attention.h — the frame every attention kind here shares:
//
//   q, k, v = split_heads(conv(x·W_qkvᵀ + b))  one fused projection, heads side by side; conv is the
//                                               short causal convolution of nn/short_conv.h with
//                                               short_conv = K > 0, else the identity
//   y       = merge_heads(mix(q, k, v))·W_projᵀ + b
//
// A kind only says how it mixes the heads (mix; it may also read the layer input x, as splat
// gating does) and how it mixes one position's heads in its cache (step_mix). The projections of a
// step are here, so batched decoding (step_rows) runs them once on all rows; with the conv, its
// window rides beside the kind's cache (new_cache wraps new_mix_cache).
// W_proj sits on the residual path, so it starts at std 0.02/√(2·layers) (GPT-2).
#pragma once
#include "nn/attention.h"
#include "nn/layers.h"
#include "nn/short_conv.h"

namespace splatlm {

// Splits a fused [..., T, 3·C] projection into q, k, v views of shape [B, H, T, D] (no copies).
struct QKV {
    Tensor q, k, v;
};
QKV split_heads(const Tensor& qkv, int64_t heads);
// [B, H, T, D] → [B, T, H·D]
Tensor merge_heads(const Tensor& y);

class ProjectedAttention : public Attention {
  public:
    Tensor forward(const Tensor& x) override { return proj_.forward(merge_heads(mix(head_views(x), x))); }
    // The per-head q, k, v this layer mixes for its input x, each [B, H, T, D] (also for inspection;
    // a kind may move q and k, as splat_flow does).
    virtual QKV head_views(const Tensor& x) const {
        return split_heads(conv_ ? conv_->forward(qkv_.forward(x)) : qkv_.forward(x), heads_);
    }
    // The kind's cache (new_mix_cache), with the conv's window beside it when the conv is on.
    std::unique_ptr<AttentionCache> new_cache(int64_t batch, int64_t max_len) const final;
    // proj(step_mix(the heads of x_t)); the rows of step_rows share both projections.
    Tensor step(const Tensor& x_t, AttentionCache& cache) final;
    Tensor step_rows(const Tensor& x, const std::vector<AttentionCache*>& caches) final;

  protected:
    ProjectedAttention(const GPTConfig& config, Rng& rng);  // draws qkv, then proj, then the conv from rng
    // [B, H, T, D] each → [B, H, T, D]; x: the layer input [B, T, C] the heads were projected from.
    virtual Tensor mix(const QKV& heads, const Tensor& x) = 0;
    // The kind's own generation cache.
    virtual std::unique_ptr<AttentionCache> new_mix_cache(int64_t batch, int64_t max_len) const = 0;
    // One position of the kind's recurrence: q, k, v [B, H, D] each of the layer input x_t [B, C],
    // advancing `cache` → the mixed heads [B, H·D] (before proj). Runs without autograd.
    virtual Tensor step_mix(const QKV& heads_t, const Tensor& x_t, AttentionCache& cache) = 0;
    // The kind's own part (new_mix_cache's) of a cache new_cache made.
    AttentionCache& mix_cache(AttentionCache& cache) const;

    int64_t heads_, head_dim_;
    Linear& qkv_;
    Linear& proj_;
    ShortConv* conv_ = nullptr;  // with short_conv > 0

  private:
    Tensor step_qkv(const Tensor& qkv_t, AttentionCache*& cache) const;
};

}  // namespace splatlm
