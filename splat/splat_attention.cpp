#include "splat/splat_attention.h"

#include <algorithm>
#include <cmath>

#include "splat/splat_flow.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

Tensor initial_centres(int64_t H, int64_t K, int64_t D, Rng& rng, float std) { return Tensor::randn({H, K, D}, rng, std); }

// log s = log √D + (l − (L−1)/2)·log 2 for the splats of level l = j / (K/L): one octave per level.
Tensor initial_log_scale(int64_t H, int64_t K, int64_t D, int64_t L) {
    Tensor t = Tensor::empty({H, K});
    for (int64_t h = 0; h < H; ++h)
        for (int64_t j = 0; j < K; ++j) {
            const double level = double(j / (K / L)) - 0.5 * double(L - 1);
            t.data()[h * K + j] = float(0.5 * std::log(double(D)) + level * std::log(2.0));
        }
    return t;
}

// log a = 0 for the first `live` splats of each head, kRetiredLogAmp (an empty slot) for the rest.
Tensor initial_log_amp(int64_t H, int64_t slots, int64_t live) {
    Tensor t = Tensor::zeros({H, slots});
    for (int64_t h = 0; h < H; ++h) std::fill(t.data() + h * slots + live, t.data() + (h + 1) * slots, kRetiredLogAmp);
    return t;
}

bool is_live(float log_amp) { return log_amp > 0.5f * kRetiredLogAmp; }

std::vector<bool> SplatAttention::live_mask() const {
    std::vector<bool> out;
    for (float a : log_amp.to_vector()) out.push_back(is_live(a));
    return out;
}

int64_t SplatAttention::live_splats(int64_t head) const {
    const std::vector<bool> live = live_mask();
    return std::count(live.begin() + head * splats(), live.begin() + (head + 1) * splats(), true);
}

// Half-lives spread geometrically from 2 tokens to 4·context over the splats of a head (splat j of
// K has half-life 2·(2·context)^{j/(K−1)}), so some splats track the last few tokens and some the
// whole window; r = ln 2 / half-life. With levels, the later (coarser) levels get the longer memories.
Tensor initial_log_decay(int64_t H, int64_t K, int64_t context) {
    Tensor t = Tensor::empty({H, K});
    for (int64_t h = 0; h < H; ++h)
        for (int64_t j = 0; j < K; ++j) {
            const double f = K > 1 ? double(j) / double(K - 1) : 0.5;
            const double half_life = 2.0 * std::pow(2.0 * double(context), f);
            t.data()[h * K + j] = float(std::log(std::log(2.0) / half_life));
        }
    return t;
}

// qkv and proj draw from the layer's rng exactly as in every ProjectedAttention, then the centres,
// then (with splat_gate) the gate — so configs without the variants initialise as before.
SplatAttention::SplatAttention(const GPTConfig& c, int64_t layer, Rng& rng)
    : ProjectedAttention(c, rng),
      centres(add_parameter("centres", initial_centres(c.heads, c.splat_slots(), c.head_dim(), rng))),
      log_scale(add_parameter("log_scale", initial_log_scale(c.heads, c.splat_slots(), c.head_dim(), c.splat_levels))),
      log_amp(add_parameter("log_amp", initial_log_amp(c.heads, c.splat_slots(), c.splats))), top_(c.splat_top),
      flow_source_(c.flow_source(layer)) {
    SPLATLM_CHECK(c.splats > 0, "splat attention: the number of splats must be positive, got ", c.splats);
    SPLATLM_CHECK(c.splat_levels > 0 && c.splat_slots() % c.splat_levels == 0, "splat attention: splat_levels (",
                  c.splat_levels, ") must divide the splat slots (", c.splat_slots(), ")");
    if (c.splat_decay) log_decay = &add_parameter("log_decay", initial_log_decay(c.heads, c.splat_slots(), c.context));
    if (c.splat_levels > 1) level_weight = &add_parameter("level_weight", Tensor::zeros({c.heads, c.splat_levels}));
    if (c.splat_gate) {
        send_gate = &add_module("send_gate", std::make_unique<Linear>(c.width, c.heads * c.splat_slots(), true, rng));
        std::fill_n(send_gate->bias->data(), send_gate->bias->numel(), 2.f);
    }
    if (c.splat_token_decay && log_decay) {  // (it modulates splat_decay's rates: without them, nothing to do)
        // (its weights start at 0, so it draws from a stream of its own: the layer's rng — and the MLP
        // initialised after this module — stay as without the option, and so does the whole model)
        Rng own(0);
        decay_gate = &add_module("decay_gate", std::make_unique<Linear>(c.width, c.heads * c.splat_slots(), true, own));
        std::fill_n(decay_gate->weight.data(), decay_gate->weight.numel(), 0.f);
        std::fill_n(decay_gate->bias->data(), decay_gate->bias->numel(), float(std::log(std::exp(1.0) - 1.0)));
    }
    if (flow_source_ >= 0) flow = &add_parameter("flow", Tensor::zeros({c.heads, c.splat_slots(), c.head_dim()}));
}

void SplatAttention::link_layers(const std::vector<Attention*>& below) {
    if (flow_source_ < 0) return;
    auto* source = dynamic_cast<SplatAttention*>(below.at(size_t(flow_source_)));
    SPLATLM_CHECK(source, "splat_flow: layer ", flow_source_, " is not a splat layer");
    source->above_ = this;
    below_ = source;
}

QKV SplatAttention::head_views(const Tensor& x) const {
    QKV h = ProjectedAttention::head_views(x);
    if (!flow) return h;
    SPLATLM_CHECK(below_->reads_.defined() && below_->reads_.size(0) == x.size(0) && below_->reads_.size(2) == x.size(1),
                  "splat_flow: layer ", flow_source_, " has not run on this input (its read weights are ",
                  below_->reads_.defined() ? shape_str(below_->reads_.shape()) : std::string("missing"), ")");
    return moved_by_flow(h, below_->reads_, *flow);
}

SplatOptions SplatAttention::options(const Tensor& x) const {
    const int64_t H = heads_, K = splats();
    const bool sequence = x.dim() == 3;
    // [B, T, H·K] (or one position's [B, H·K]) as the op's per-token [B, H, T, K] (or [B, H, K])
    auto per_token = [&](const Tensor& g) {
        return sequence ? permute(reshape(g, {x.size(0), x.size(1), H, K}), {0, 2, 1, 3})
                        : reshape(g, {x.size(0), H, K});
    };
    SplatOptions o;
    o.top = top_;
    if (decay_gate) {  // r_j·Δ_tj, Δ = softplus(a) = −log σ(−a)
        const Tensor rate = exp(*log_decay);
        o.token_decay = mul(per_token(neg(log_sigmoid(neg(decay_gate->forward(x))))),
                            sequence ? reshape(rate, {H, 1, K}) : rate);
    } else if (log_decay) {
        o.log_decay = *log_decay;
    }
    if (level_weight) {  // read_bias[h, j] = level_weight[h, level of j]
        const int64_t L = levels();
        o.read_bias = reshape(contiguous(expand(reshape(*level_weight, {H, L, 1}), {H, L, K / L})), {H, K});
    }
    if (send_gate) o.send_bias = per_token(log_sigmoid(send_gate->forward(x)));
    return o;
}

Tensor SplatAttention::mix(const QKV& h, const Tensor& x) {
    return splat_attention(h.q, h.k, h.v, centres, log_scale, log_amp, options(x), above_ ? &reads_ : nullptr);
}

Tensor SplatAttention::splat_step_heads(const QKV& h, const Tensor& x_t, SplatState& state) const {
    NoGradGuard no_grad;
    return splat_step(h.q, h.k, h.v, centres, log_scale, log_amp, state, options(x_t));
}

namespace {
struct SplatCache : AttentionCache {
    SplatState state;
    int64_t max_len = 0;
    Tensor reads;                      // π [B, H, K] of the last step, when a layer above reads it (splat_flow)
    const SplatCache* below = nullptr; // the cache of the layer whose π moves this one's q, k (splat_flow)
    NamedTensors contents() const override {
        NamedTensors out;
        state.save_to(out);
        return out;
    }
    void restore(const NamedTensors& saved, int64_t length) override {
        SPLATLM_CHECK(length <= max_len, "saved splat cache: length ", length, " over the context ", max_len);
        state.restore(saved, length);
    }
};
}  // namespace

std::unique_ptr<AttentionCache> SplatAttention::new_mix_cache(int64_t batch, int64_t max_len) const {
    auto cache = std::make_unique<SplatCache>();
    cache->state = SplatState(batch, heads_, splats(), head_dim_, centres.device());  // where the model is
    cache->max_len = max_len;
    return cache;
}

void SplatAttention::link_cache(AttentionCache& own, const std::vector<AttentionCache*>& below) const {
    if (below_)
        dynamic_cast<SplatCache&>(mix_cache(own)).below =
            &dynamic_cast<SplatCache&>(below_->mix_cache(*below.at(size_t(flow_source_))));
}

// One position: O(H·K·D) work and state, independent of how many positions came before. With the
// flow, q and k move as in head_views, by the π the layer below's step left in its cache.
Tensor SplatAttention::step_mix(const QKV& h, const Tensor& x_t, AttentionCache& base) {
    SplatCache& cache = dynamic_cast<SplatCache&>(base);
    SPLATLM_CHECK(cache.state.length < cache.max_len, "splat attention: cache full at ", cache.max_len,
                  " positions");
    NoGradGuard no_grad;
    QKV moved = h;
    if (flow) {
        SPLATLM_CHECK(cache.below && cache.below->state.length == cache.state.length + 1,
                      "splat_flow: the cache of layer ", flow_source_, " has not stepped to this position");
        moved = moved_by_flow(h, cache.below->reads, *flow);
    }
    Tensor y = splat_step(moved.q, moved.k, moved.v, centres, log_scale, log_amp, cache.state, options(x_t),
                          above_ ? &cache.reads : nullptr);
    return raw::reshape(y, {x_t.size(0), heads_ * head_dim_});
}

}  // namespace splatlm
