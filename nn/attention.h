// attention.h — the attention slot of a transformer block and the registry that fills it by name.
//
// Every attention kind maps x: [B, T, C] → [B, T, C] causally (position t sees only ≤ t), and offers a
// recurrent step for generation that consumes one position at a time with a per-layer cache.
// Kinds register a factory under a name; the model never names a concrete class.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/config.h"
#include "nn/module.h"

namespace splatlm {

// Whatever an attention kind keeps between generation steps (a KV cache, a recurrent state...).
// A saved conversation (serve/session.h) stores it through contents() and restores it bitwise.
struct AttentionCache {
    virtual ~AttentionCache() = default;
    // The cache's information as named CPU tensors: the positions it holds, not its empty slots.
    virtual NamedTensors contents() const = 0;
    // The reverse, into a fresh cache of the same shape that is to have absorbed `length` positions.
    virtual void restore(const NamedTensors& saved, int64_t length) = 0;
};

// A CPU copy of `t` that later steps of the cache do not change, for contents().
Tensor saved_copy(const Tensor& t);
// Copies the tensor named `name` in `saved` into `into` (same shape, any device), or says which
// tensor is missing or misshapen.
void restore_tensor(Tensor& into, const NamedTensors& saved, const std::string& name);

class Attention : public Module {
  public:
    virtual Tensor forward(const Tensor& x) = 0;  // [B, T, C] → [B, T, C]
    virtual std::unique_ptr<AttentionCache> new_cache(int64_t batch, int64_t max_len) const = 0;
    // x_t: [B, C] at the next position → [B, C]. Runs without autograd.
    virtual Tensor step(const Tensor& x_t, AttentionCache& cache) = 0;
    // Batched decoding: row r of x: [R, C] is the next position of the sequence in caches[r] (each a
    // batch-1 cache) → [R, C], row r bitwise what step() gives for it alone. Runs without autograd.
    virtual Tensor step_rows(const Tensor& x, const std::vector<AttentionCache*>& caches) = 0;

    // For a kind that reads what a lower layer computed (splat_flow, splat/splat_flow.h); by default
    // nothing. GPT calls link_layers once, after every block is built, with the attentions of the
    // blocks below this one (index = layer); and link_cache on every new generation cache, with the
    // caches of the layers below (`own` is this layer's, made by new_cache).
    virtual void link_layers(const std::vector<Attention*>& /*below*/) {}
    virtual void link_cache(AttentionCache& /*own*/, const std::vector<AttentionCache*>& /*below*/) const {}
};

using AttentionFactory = std::function<std::unique_ptr<Attention>(const GPTConfig& config, int64_t layer, Rng& rng)>;

void register_attention(const std::string& kind, AttentionFactory factory);
std::unique_ptr<Attention> make_attention(const GPTConfig& config, int64_t layer, Rng& rng);
std::vector<std::string> attention_kinds();  // registered names, sorted

}  // namespace splatlm
