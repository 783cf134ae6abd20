// config.h — the shape of a GPT model. Serialised into checkpoints as the model keys of TrainConfig
// (train/train_config.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace splatlm {

struct GPTConfig {
    int64_t vocab = 256;      // tokens
    int64_t context = 64;     // longest sequence (the rows of the learned positions)
    std::string positions = "learned";  // learned: absolute position embeddings (wpe); none: order only from the mixers
    int64_t layers = 4;
    int64_t heads = 4;
    int64_t width = 128;      // embedding width; head size = width / heads
    std::string attention = "softmax";  // a name in the attention registry (nn/attention.h)
    std::string layer_kinds = "";  // one kind per layer, comma-separated ("splat,splat,softmax,splat"); empty: `attention` everywhere
    float dropout = 0.f;
    int64_t window = 32;      // sliding-window size for `local` (and the local part of hybrids)
    int64_t short_conv = 0;   // taps of the short causal conv on q/k/v before every kind's mixer (nn/short_conv.h; 0 = off)
    int64_t splats = 16;      // Gaussian splats per head for `splat` (and the splat part of `splat_local`)
    int64_t max_splats = 0;   // splat slots per head (0 = splats): the slots past `splats` start empty, for births and splits
    // Options of splat attention (docs/SPLAT.md); the defaults are the plain formulation.
    bool splat_decay = false;   // learned per-splat recency decay of the splat state
    int64_t splat_levels = 1;   // hierarchical splats: levels of splats/levels each, own initial scales, learned level weights
    int64_t splat_top = 0;      // sparse routing: each token writes to / reads from only its top-p splats (0 = all)
    bool splat_gate = false;    // content gating: what token t writes into splat j is scaled by sigmoid(x_t·g_j)
    bool splat_token_decay = false;  // input-dependent decay: splat_decay's rate r_j at token t becomes r_j·softplus(x_t·w_j + b_j)
    bool splat_flow = false;    // trajectory flow: a splat layer's q and k move by a learned map of the read weights of the splat layer below
    int64_t splat_delta_rank = 8;    // splat_delta: the dimensions P of a key's offset within a splat (state K·P columns per head)
    bool splat_delta_key_route = false;  // splat_delta: a query reads through the splats its own token's key is written into

    int64_t head_dim() const { return width / heads; }
    int64_t splat_slots() const { return max_splats > 0 ? max_splats : splats; }
    std::string layer_kind(int64_t layer) const;  // the attention kind of block `layer`
    bool has_splat_layer() const;                 // some block is `splat` or `splat_local`
    int64_t flow_source(int64_t layer) const;     // splat_flow: the nearest `splat` layer below `layer` (−1: none)
    void validate() const;    // clear errors for impossible shapes
};

// "a,b,c" → {"a", "b", "c"}, empty items kept ("a,,b" has three; "" has one): layer_kinds and lists of flags.
std::vector<std::string> split_commas(const std::string& list);
// `splat` or `splat_local`: the kinds built on SplatAttention, which read its options (splat_decay,
// splat_token_decay, splat_levels, splat_gate, …). `splat_delta` routes keys to splats but is not one.
bool is_splat_kind(const std::string& kind);

}  // namespace splatlm
