// sampler.h — text generation: the model is fed one token at a time through its recurrent step
// (a KV cache for softmax attention), and each next token is drawn from the logits with
// temperature, top-k and top-p (nucleus) filtering. Temperature 0 is greedy.
#pragma once
#include <functional>
#include <string>

#include "nn/gpt.h"
#include "train/tokenizer.h"

namespace splatlm {

struct SampleOptions {
    int64_t tokens = 200;
    float temperature = 1.f;  // 0: always the most likely token
    int64_t top_k = 0;        // 0: no limit
    float top_p = 1.f;        // keep the smallest set of tokens whose probability reaches top_p
    uint64_t seed = 0;
};

// Draws one token id from `vocab` logits (modifies nothing); rng advances by one draw unless greedy.
int32_t sample_token(const float* logits, int64_t vocab, const SampleOptions& options, Rng& rng);

// Continues `prompt` (an empty prompt starts from a newline) by options.tokens tokens, calling
// on_text with each new token's bytes as soon as it exists. Returns the continuation. When the
// context is full, the cache is rebuilt from the last half-context of tokens.
std::string generate_text(GPT& model, const Tokenizer& tokenizer, const std::string& prompt,
                          const SampleOptions& options, const std::function<void(const std::string&)>& on_text = {});

}  // namespace splatlm
