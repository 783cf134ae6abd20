// splat_inspect.h — what one layer's splats see on one text sample, as plain numbers for pictures.
//
// This is the only viz/ file that knows about models: it runs a splat GPT on a sample up to the
// chosen layer and copies out, per head, the keys and queries the splats actually meet, the splat
// parameters, and — with every option of the layer applied (decay, send gates, level weights, top-p
// routing) — the implied T×T token-to-token weights (splat_weights_reference), the write shares
// (splat_write_shares_reference) and the read-out weights π (splat_read_weights), plus the op's own
// output y, so a test can check Σ_u w[t,u]·v_u = y_t. Every picture draws from these numbers alone
// (splat_pictures.h recomputes none of them), so they can be tested without a model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nn/gpt.h"

namespace splatlm::viz {

struct SplatHead {
    int64_t tokens = 0, dim = 0, splats = 0;
    std::vector<float> q, k, v;             // [tokens, dim]: the head's queries, keys and values
    std::vector<float> y;                   // [tokens, dim]: the splat op's output (splat_attention)
    std::vector<float> centres;             // [splats, dim]
    std::vector<float> log_scale, log_amp;  // [splats]
    std::vector<float> weights;             // [tokens, tokens], lower-triangular, rows sum to ≤ 1
    std::vector<float> send;                // [tokens, splats]: where t's write goes (send gates, routing)
    std::vector<float> read;                // [tokens, splats]: π, the op's read-out weights (splat_read_weights)
    std::vector<float> log_decay;           // [splats] with splat_decay, else empty: rate r = exp(log_decay)
    int64_t top = 0;                        // splat_top (0 = every token uses every splat)
    bool gated = false;                     // splat_gate: send gates shape `send` and `weights`
};

struct SplatSample {
    int64_t layer = 0;
    std::vector<std::string> labels;  // one per token, readable in the bitmap font (token_label)
    std::vector<SplatHead> heads;
};

// A token's text as a short label for the pictures: space → "_", newline → "\", other control
// bytes → "?", so every token leaves a visible mark.
std::string token_label(const std::string& text);

// Runs `model` on ids (1 ≤ count ≤ context) with no dropout and no gradients and reads layer
// `layer`. Throws splatlm::Error if the layer is out of range, ids are empty or too long, or the
// layer's attention is not splat attention. labels: one per id.
SplatSample inspect_splats(GPT& model, const std::vector<int32_t>& ids, std::vector<std::string> labels,
                           int64_t layer);

// A softmax model's actual attention weights on a sample: per head, the T×T causal
// softmax_u(q_t·k_u / √D) of layer `layer`, computed in float64 from that layer's q and k.
struct AttentionSample {
    int64_t layer = 0, tokens = 0;
    std::vector<std::string> labels;
    std::vector<std::vector<float>> heads;  // [tokens, tokens] each, zero above the diagonal
};

// Throws splatlm::Error (as inspect_splats does) for bad ids or layer, and when the layer's
// attention is not plain softmax attention (attention=softmax).
AttentionSample inspect_softmax(GPT& model, const std::vector<int32_t>& ids, std::vector<std::string> labels,
                                int64_t layer);

}  // namespace splatlm::viz
