// splat_attention.h — the `splat` attention kind: multi-head attention in which tokens talk only
// through K learned Gaussian splats per head (splat/splat_op.h has the op and its math).
//
//   q, k, v = split(x·W_qkvᵀ + b);  y = merge_heads(splat_attention(q, k, v, μ, log s, log a, options(x)))·W_projᵀ + b
//
// The config's splat variants become the op's options (docs/SPLAT.md §9):
//   splat_decay  → log_decay [H, K], a learned forgetting rate per splat (half-lives 2 … 4·context at init);
//   splat_gate   → send_bias = log σ(x_t·g_j + c_j): a Linear "send_gate" C → H·K scales what token t
//                  writes into splat j (bias +2 at init, so every gate starts ≈ 0.88 open);
//   splat_levels → L levels of K/L splats; level l starts with scale √D·2^{l − (L−1)/2} (coarser levels
//                  see more tokens) and adds a learned level_weight [H, L] to every read of its splats;
//   splat_top    → top: each token writes to and reads from only its top splats (sparse routing, no
//                  parameters; the selection is recomputed from the affinities at every call);
//   splat_token_decay → token_decay = r_j·softplus(x_t·w_j + b_j) in place of the constant r_j (Mamba's
//                  Δ_t·A): a Linear "decay_gate" C → H·K, weights 0 and bias ln(e − 1) at init, so every
//                  Δ starts at 1 and the model starts as with splat_decay alone; with splat_decay off it does nothing
//                  (like splat_decay for the non-splat kinds, it is on by default in training configs).
//   splat_flow   → on a `splat` layer above another: q and k move by `flow` [H, K, D] (init 0) times the
//                  read weights π of the splat layer below (splat/splat_flow.h); the layer below keeps its
//                  last π (forward: reads_; generation: its cache) for the one above.
//
// Slots: the parameters hold GPTConfig::splat_slots() splats per head (max_splats, or splats). A slot
// is *empty* (retired, or not born yet) when its log amplitude is kRetiredLogAmp: every affinity
// lk = log a − … ≈ −1e4 then gives e^{lk − m} = 0 exactly in float, so nothing writes to it, nothing
// reads from it (its read term carries its m ≈ −1e4 too), and its gradients are exactly 0. The op
// needs no mask of its own; docs/SPLAT.md §16 says why a capacity is the better trade here than a
// ragged K per head. Adaptation (splat/splat_lifecycle.h) empties and fills slots between steps.
//
// Generation keeps, per layer, the O(H·K·D) splat state instead of a KV cache: step() costs
// O(K·D) per head and token whatever the position.
#pragma once
#include "nn/projected_attention.h"
#include "splat/splat_op.h"

namespace splatlm {

// Where a head's splats start (also splat_delta's): centres [H, K, D] ~ N(0, std²); log scales [H, K]
// log √D, one octave per level of L; log amplitudes [H, K] 0 for the first `live` splats, empty slots after.
Tensor initial_centres(int64_t heads, int64_t splats, int64_t dim, Rng& rng, float std = 0.5f);
Tensor initial_log_scale(int64_t heads, int64_t splats, int64_t dim, int64_t levels);
Tensor initial_log_amp(int64_t heads, int64_t slots, int64_t live);
// The log decay rates a model with splat_decay starts from ([H, K], half-lives 2 … 4·context).
Tensor initial_log_decay(int64_t heads, int64_t splats, int64_t context);

inline constexpr float kRetiredLogAmp = -1e4f;  // the log amplitude of an empty slot
bool is_live(float log_amp);                    // log_amp > kRetiredLogAmp / 2

class SplatAttention : public ProjectedAttention {
  public:
    SplatAttention(const GPTConfig& config, int64_t layer, Rng& rng);  // qkv, proj, centres, then the gate draw

    int64_t splats() const { return centres.size(1); }  // slots per head, live or empty
    // Per slot [H·K], whether it holds a live splat (log a above kRetiredLogAmp / 2); any device.
    std::vector<bool> live_mask() const;
    int64_t live_splats(int64_t head) const;
    int64_t levels() const { return level_weight ? level_weight->size(1) : 1; }
    // The op's options for the layer input x: [B, T, C] (send bias [B, H, T, K]) or one position
    // [B, C] (send bias [B, H, K]). Differentiable in the parameters; empty when no variant is on.
    SplatOptions options(const Tensor& x) const;
    // q, k, v of the input x, q and k moved by the flow (splat_flow) from the last forward of the layer below.
    QKV head_views(const Tensor& x) const override;
    void link_layers(const std::vector<Attention*>& below) override;
    // The `flow` [H, K, D] of the splat layer above that reads this layer's π (splat_flow), or null:
    // its row (h, j) belongs to this layer's slot j of head h (splat_lifecycle.h's slot_parameters).
    Tensor* flow_above() const { return above_ ? above_->flow : nullptr; }
    void link_cache(AttentionCache& own, const std::vector<AttentionCache*>& below) const override;

  protected:
    Tensor mix(const QKV& h, const Tensor& x) override;
    std::unique_ptr<AttentionCache> new_mix_cache(int64_t batch, int64_t max_len) const override;
    Tensor step_mix(const QKV& h, const Tensor& x_t, AttentionCache& cache) override;
    // One position of the splat path: [B, H, D] → [B, H, D], advancing `state` (no autograd).
    Tensor splat_step_heads(const QKV& h, const Tensor& x_t, SplatState& state) const;

  public:  // per-head splat parameters (no weight decay)
    Tensor& centres;                // [H, K, D], init N(0, 0.5²)
    Tensor& log_scale;              // [H, K], init log √D (times the level factor)
    Tensor& log_amp;                // [H, K], init 0
    Tensor* log_decay = nullptr;    // [H, K] with splat_decay
    Tensor* level_weight = nullptr; // [H, L] with splat_levels = L > 1, init 0
    Linear* send_gate = nullptr;    // C → H·K with splat_gate
    Linear* decay_gate = nullptr;   // C → H·K with splat_token_decay
    Tensor* flow = nullptr;         // [H, K, D] with splat_flow above another splat layer, init 0

  private:
    int64_t top_;  // splat_top
    int64_t flow_source_;                  // splat_flow: the layer whose π moves this one's q, k (−1: none)
    const SplatAttention* below_ = nullptr;  // that layer
    const SplatAttention* above_ = nullptr;  // the layer whose q, k this one's π moves (splat_flow)
    Tensor reads_;                           // π [B, H, T, K] of this layer's last forward, when above_
};

}  // namespace splatlm
