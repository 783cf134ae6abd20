#include "nn/gpt.h"

#include <cmath>
#include <string>
#include <vector>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

std::vector<std::string> split_commas(const std::string& list) {
    std::vector<std::string> items;
    for (size_t start = 0;;) {
        const size_t comma = list.find(',', start);
        items.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) return items;
        start = comma + 1;
    }
}

bool is_splat_kind(const std::string& kind) { return kind == "splat" || kind == "splat_local"; }

std::string GPTConfig::layer_kind(int64_t layer) const {
    return layer_kinds.empty() ? attention : split_commas(layer_kinds).at(size_t(layer));
}

bool GPTConfig::has_splat_layer() const {
    for (int64_t i = 0; i < layers; ++i)
        if (is_splat_kind(layer_kind(i))) return true;
    return false;
}

int64_t GPTConfig::flow_source(int64_t layer) const {
    if (!splat_flow || layer_kind(layer) != "splat") return -1;
    for (int64_t i = layer - 1; i >= 0; --i)
        if (layer_kind(i) == "splat") return i;
    return -1;
}

void GPTConfig::validate() const {
    SPLATLM_CHECK(vocab > 0 && context > 0 && layers > 0 && heads > 0 && width > 0,
                  "model config: vocab, context, layers, heads and width must be positive (got vocab ", vocab,
                  ", context ", context, ", layers ", layers, ", heads ", heads, ", width ", width, ")");
    SPLATLM_CHECK(width % heads == 0, "model config: width ", width, " is not divisible by heads ", heads);
    SPLATLM_CHECK(dropout >= 0.f && dropout < 1.f, "model config: dropout ", dropout, " outside [0, 1)");
    SPLATLM_CHECK(window > 0, "model config: window must be positive, got ", window);
    SPLATLM_CHECK(short_conv >= 0 && short_conv <= 64, "model config: short_conv must be in [0, 64] taps, got ", short_conv);
    SPLATLM_CHECK(positions == "learned" || positions == "none", "model config: positions must be learned or none, got '",
                  positions, "'");
    SPLATLM_CHECK(splats > 0, "model config: splats must be positive, got ", splats);
    SPLATLM_CHECK(max_splats == 0 || max_splats >= splats, "model config: max_splats (", max_splats,
                  ") must be at least splats (", splats, "), or 0 for no room to grow");
    SPLATLM_CHECK(splat_levels > 0 && splats % splat_levels == 0 && splat_slots() % splat_levels == 0, "model config: splat_levels must be positive and divide splats (",
                  splats, ") and max_splats, got ", splat_levels);
    SPLATLM_CHECK(splat_delta_rank > 0 && splat_delta_rank <= 256, "model config: splat_delta_rank must be in [1, 256], got ",
                  splat_delta_rank);
    SPLATLM_CHECK(splat_top >= 0 && splat_top <= splats, "model config: splat_top must be in [0, splats = ", splats,
                  "], got ", splat_top);
    if (!layer_kinds.empty()) {
        const std::vector<std::string> kinds = split_commas(layer_kinds);
        SPLATLM_CHECK(int64_t(kinds.size()) == layers, "model config: layer_kinds '", layer_kinds, "' names ",
                      kinds.size(), " kinds for ", layers, " layers");
        for (const std::string& kind : kinds)
            SPLATLM_CHECK(!kind.empty(), "model config: layer_kinds '", layer_kinds, "' has an empty entry");
    }
    // (splat_decay is on by default in training configs, so other kinds simply have no splats to decay)
    bool splat_layer = false;   // splat or splat_local (has_splat_layer): splat_levels and splat_gate apply
    bool routed_layer = false;  // those or splat_delta, whose keys are routed to splats: splat_top applies
    int64_t splat_layers = 0;   // layers of kind splat exactly: splat_flow passes between them
    for (int64_t i = 0; i < layers; ++i) {
        const std::string kind = layer_kind(i);
        splat_layer = splat_layer || is_splat_kind(kind);
        routed_layer = routed_layer || is_splat_kind(kind) || kind == "splat_delta";
        splat_layers += kind == "splat";
    }
    const std::string kinds = layer_kinds.empty() ? attention : layer_kinds;
    SPLATLM_CHECK(!splat_flow || splat_layers >= 2, "model config: splat_flow passes read weights from one splat layer "
                  "to the next and needs two or more layers of kind splat; this model has ", splat_layers);
    SPLATLM_CHECK(splat_layer || (splat_levels == 1 && !splat_gate),
                  "model config: splat_levels and splat_gate apply to splat and splat_local attention, not to '", kinds, "'");
    SPLATLM_CHECK(routed_layer || splat_top == 0, "model config: splat_top applies to splat, splat_local and "
                  "splat_delta attention, not to '", kinds, "'");
}

Block::Block(const GPTConfig& c, int64_t layer, Rng& rng)
    : ln1_(add_module("ln1", std::make_unique<LayerNorm>(c.width))),
      attn_(add_module("attn", make_attention(c, layer, rng))),
      ln2_(add_module("ln2", std::make_unique<LayerNorm>(c.width))),
      mlp_(add_module("mlp", std::make_unique<MLP>(c.width, rng, 0.02f / std::sqrt(2.f * c.layers)))) {}

Tensor Block::forward(const Tensor& x, float p, Rng& rng) {
    const float drop = training() ? p : 0.f;
    Tensor h = x + dropout(attn_.forward(ln1_.forward(x)), drop, rng);
    return h + dropout(mlp_.forward(ln2_.forward(h)), drop, rng);
}

Tensor Block::step(const Tensor& x_t, AttentionCache& cache) {
    Tensor h = x_t + attn_.step(ln1_.forward(x_t), cache);
    return h + mlp_.forward(ln2_.forward(h));
}

Tensor Block::step_rows(const Tensor& x, const std::vector<AttentionCache*>& caches) {
    Tensor h = x + attn_.step_rows(ln1_.forward(x), caches);
    return h + mlp_.forward(ln2_.forward(h));
}

GPT::GPT(const GPTConfig& c, uint64_t seed)
    : config_((c.validate(), c)),
      dropout_rng_(seed ^ 0xD50F000000000001ull),
      wte_(add_module("wte", [&] { Rng rng(seed); return std::make_unique<Embedding>(c.vocab, c.width, rng); }())) {
    if (c.positions == "learned") {
        Rng rng(seed + 1);
        wpe_ = &add_module("wpe", std::make_unique<Embedding>(c.context, c.width, rng, 0.01f));
    }
    for (int64_t i = 0; i < c.layers; ++i) {
        Rng rng(seed + 100 + i);  // a stream per block: adding a layer leaves the others' weights alone
        blocks_.push_back(&add_module("blocks." + std::to_string(i), std::make_unique<Block>(c, i, rng)));
    }
    std::vector<Attention*> below;
    for (Block* b : blocks_) {
        b->attention().link_layers(below);
        below.push_back(&b->attention());
    }
    ln_f_ = &add_module("ln_f", std::make_unique<LayerNorm>(c.width));
}

Tensor GPT::embed(const Indices& ids, int64_t first_position) {
    const int64_t T = ids.shape.back();
    SPLATLM_CHECK(first_position + T <= config_.context, "GPT: positions up to ", first_position + T,
                  " exceed the context length ", config_.context);
    Indices positions{{T}, std::vector<int32_t>(T)};
    for (int64_t t = 0; t < T; ++t) positions.ids[t] = static_cast<int32_t>(first_position + t);
    return embed_at(ids, positions);
}

Tensor GPT::embed_at(const Indices& ids, const Indices& positions) {
    return wpe_ ? wte_.forward(ids) + wpe_->forward(positions) : wte_.forward(ids);
}

Tensor GPT::forward(const Indices& ids) {
    SPLATLM_CHECK(ids.shape.size() == 2, "GPT: token ids must be [batch, time], got ", shape_str(ids.shape));
    const float drop = training() ? config_.dropout : 0.f;
    Tensor x = dropout(embed(ids, 0), drop, dropout_rng_);
    for (Block* b : blocks_) x = b->forward(x, config_.dropout, dropout_rng_);
    return linear(ln_f_->forward(x), wte_.weight, Tensor());  // tied head: x·wteᵀ
}

Tensor GPT::attention_input(const Indices& ids, int64_t layer) {
    SPLATLM_CHECK(layer >= 0 && layer < config_.layers, "GPT: layer ", layer, " is out of range (the model has ",
                  config_.layers, " layers, 0..", config_.layers - 1, ")");
    Tensor x = embed(ids, 0);
    for (int64_t i = 0; i < layer; ++i) x = blocks_[i]->forward(x, 0.f, dropout_rng_);  // p = 0: no draws
    return blocks_[layer]->attention_input(x);
}

GPT::Cache GPT::new_cache(int64_t batch) const {
    Cache cache;
    std::vector<AttentionCache*> below;
    for (Block* b : blocks_) {
        cache.layers.push_back(b->attention().new_cache(batch, config_.context));
        b->attention().link_cache(*cache.layers.back(), below);
        below.push_back(cache.layers.back().get());
    }
    return cache;
}

Tensor GPT::step(const std::vector<int32_t>& tokens, Cache& cache) {
    NoGradGuard no_grad;
    const int64_t B = static_cast<int64_t>(tokens.size());
    Tensor x = reshape(embed(Indices{{B, 1}, tokens}, cache.position), {B, config_.width});
    for (size_t i = 0; i < blocks_.size(); ++i) x = blocks_[i]->step(x, *cache.layers[i]);
    ++cache.position;
    return linear(ln_f_->forward(x), wte_.weight, Tensor());  // tied head: x·wteᵀ
}

Tensor GPT::step_rows(const std::vector<int32_t>& tokens, const std::vector<Cache*>& caches) {
    NoGradGuard no_grad;
    const int64_t B = static_cast<int64_t>(tokens.size());
    SPLATLM_CHECK(B > 0 && caches.size() == tokens.size(), "GPT: step_rows needs one cache per token, got ",
                  caches.size(), " for ", B);
    Indices positions{{B}, std::vector<int32_t>(B)};
    for (int64_t r = 0; r < B; ++r) {
        SPLATLM_CHECK(caches[r]->position < config_.context, "GPT: row ", r, "'s cache is full at the context length ",
                      config_.context);
        positions.ids[r] = static_cast<int32_t>(caches[r]->position);
    }
    Tensor x = embed_at(Indices{{B}, tokens}, positions);  // [B, C]
    for (size_t i = 0; i < blocks_.size(); ++i) {
        std::vector<AttentionCache*> layer;
        for (Cache* c : caches) layer.push_back(c->layers[i].get());
        x = blocks_[i]->step_rows(x, layer);
    }
    for (Cache* c : caches) ++c->position;
    return linear(ln_f_->forward(x), wte_.weight, Tensor());  // tied head: x·wteᵀ
}

}  // namespace splatlm
