// sampler.h — text generation: the model is fed one token at a time through its recurrent step
// (a KV cache for softmax attention, the O(K·D) state for splat attention), and each next token is
// drawn from the logits with temperature, top-k and top-p (nucleus) filtering. Temperature 0 is
// greedy. Decoder holds one stream's generation state; generate_text and serve/'s sessions use it.
#pragma once
#include <functional>
#include <optional>
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

// Throws naming the setting unless temperature >= 0, top_k >= 0 and 0 < top_p <= 1.
void check_sample_options(const SampleOptions& options);

// Draws one token id from `vocab` logits (modifies nothing); rng advances by one draw unless greedy.
int32_t sample_token(const float* logits, int64_t vocab, const SampleOptions& options, Rng& rng);

// One stream of tokens through a model: its cache, every token so far and the logits that predict
// the next. Pushed tokens are fed to the model only when a prediction is asked for, so nothing is
// read twice — except when the context is full: the cache is then rebuilt from the last
// half-context of tokens (and a first feed longer than the context keeps only its last `context`).
class Decoder {
  public:
    explicit Decoder(GPT& model) : model_(&model), cache_(model.new_cache(1)) {}
    void push(int32_t token) { history_.push_back(token); }
    void push(const std::vector<int32_t>& tokens) { history_.insert(history_.end(), tokens.begin(), tokens.end()); }
    // Feeds what was pushed since the last prediction; [1, vocab] logits for the next token.
    const Tensor& logits();
    // Draws the next token from logits() and pushes it.
    int32_t sample(const SampleOptions& options, Rng& rng);
    void clear();  // forget everything: a fresh cache, no history

    const std::vector<int32_t>& history() const { return history_; }

    // For a caller that steps many decoders in one pass (GPT::step_rows, serve/engine.h): the oldest
    // pushed token a plain step can take now (none when nothing is pending, or when logits() would
    // first drop or rebuild: a full cache, or more pending than the context), the cache it goes
    // through, and fed() to hand back that step's logits [1, vocab]. pending(): tokens not yet fed.
    std::optional<int32_t> next_to_feed() const;
    GPT::Cache& cache() { return cache_; }
    void fed(const Tensor& logits);
    size_t pending() const { return history_.size() - fed_; }

    // Everything above, to store a stream and continue it bitwise later (serve/session.h).
    struct Snapshot {
        std::vector<int32_t> history;
        int64_t fed = 0, position = 0;
        std::vector<NamedTensors> layers;  // AttentionCache::contents() of each block
        Tensor logits;                     // undefined before the first prediction
    };
    Snapshot snapshot() const;
    void restore(const Snapshot& snapshot);

  private:
    void feed_next();  // one pushed token into the cache
    GPT* model_;
    GPT::Cache cache_;
    std::vector<int32_t> history_;
    size_t fed_ = 0;
    Tensor logits_;
};

// Continues `prompt` (an empty prompt starts from a newline) by options.tokens tokens, calling
// on_text with each new token's bytes as soon as it exists. Returns the continuation. When the
// context is full, the cache is rebuilt from the last half-context of tokens.
std::string generate_text(GPT& model, const Tokenizer& tokenizer, const std::string& prompt,
                          const SampleOptions& options, const std::function<void(const std::string&)>& on_text = {});

}  // namespace splatlm
