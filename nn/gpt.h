// gpt.h — a GPT-style decoder: token + learned position embeddings (none with positions = none: then
// order reaches the model only through its causal mixers), pre-LayerNorm blocks
//   x = x + Attn(LN1(x));  x = x + MLP(LN2(x))
// a final LayerNorm and an output projection tied to the token embedding (logits = x·Wteᵀ).
#pragma once
#include <memory>
#include <vector>

#include "nn/attention.h"
#include "nn/layers.h"

namespace splatlm {

class Block : public Module {
  public:
    Block(const GPTConfig& config, int64_t layer, Rng& rng);
    Tensor forward(const Tensor& x, float dropout_p, Rng& dropout_rng);
    Tensor step(const Tensor& x_t, AttentionCache& cache);
    // x: [B, C], row r with its own cache: norms and MLP on all rows at once, attention row by row.
    Tensor step_rows(const Tensor& x, const std::vector<AttentionCache*>& caches);
    Attention& attention() { return attn_; }
    Tensor attention_input(const Tensor& x) const { return ln1_.forward(x); }  // what attn_ reads

  private:
    LayerNorm& ln1_;
    Attention& attn_;
    LayerNorm& ln2_;
    MLP& mlp_;
};

class GPT : public Module {
  public:
    GPT(const GPTConfig& config, uint64_t seed);
    const GPTConfig& config() const { return config_; }

    // ids: [B, T] token ids, T ≤ context → logits [B, T, vocab].
    Tensor forward(const Indices& ids);
    Tensor loss(const Indices& ids, const Indices& targets) { return cross_entropy(forward(ids), targets); }

    // Generation: feed one token per batch row at a time; returns logits [B, vocab] for the next one.
    struct Cache {
        std::vector<std::unique_ptr<AttentionCache>> layers;
        int64_t position = 0;
    };
    Cache new_cache(int64_t batch) const;
    Tensor step(const std::vector<int32_t>& tokens, Cache& cache);
    // Batched decoding of separate streams: tokens[r] fed through caches[r] (batch 1, each at its own
    // position) in one pass; returns logits [B, vocab], row r as step({tokens[r]}, *caches[r]) gives.
    Tensor step_rows(const std::vector<int32_t>& tokens, const std::vector<Cache*>& caches);

    // What block `layer`'s attention reads for ids [B, T]: the residual stream after the earlier
    // blocks, through that block's first LayerNorm, dropout off. For pictures and inspection.
    Tensor attention_input(const Indices& ids, int64_t layer);

    Rng& dropout_rng() { return dropout_rng_; }  // part of the training state (checkpointed)
    Block& block(int64_t i) { return *blocks_[i]; }

  private:
    Tensor embed(const Indices& ids, int64_t first_position);
    Tensor embed_at(const Indices& ids, const Indices& positions);  // tokens [..., C] plus their positions' rows
    GPTConfig config_;
    Rng dropout_rng_;
    Embedding& wte_;
    Embedding* wpe_ = nullptr;  // positions = learned
    std::vector<Block*> blocks_;
    LayerNorm* ln_f_ = nullptr;
};

}  // namespace splatlm
