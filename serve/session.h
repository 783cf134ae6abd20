// session.h — one conversation with a model, fed turn by turn: the model's generation cache (the
// O(K·D) splat state per layer and head for splat attention, a KV cache for softmax/local), every
// token so far, the sampling settings and the RNG. A turn pushes the new text and continues from
// the cache: the history is never read again. save()/load() keep all of it in one safetensors file,
// so the reply after a load is bitwise the one without the save.
// Test: ./bin/tests "[serve]"
#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "train/sampler.h"

namespace splatlm {

// How one reply ends: after `max_tokens` tokens, or at the first of `stop` (not included in the
// reply text, though the model has read it), or when cancelled.
struct TurnLimits {
    int64_t max_tokens = 200;
    std::vector<std::string> stop;
};

struct Reply {
    std::string text;
    int64_t tokens = 0;          // tokens made, the stop string's included
    std::string finish;          // "length" | "stop" | "cancelled"; empty while running
    int64_t prompt_tokens = 0;
};

class Session {
  public:
    // settings.seed seeds the RNG; settings.tokens is the reply length a chat turn asks for.
    Session(GPT& model, const Tokenizer& tokenizer, const SampleOptions& settings);

    SampleOptions settings;  // for the next turns; changing the seed takes reset() or reseed()
    void reseed(uint64_t seed) { settings.seed = seed, rng_.set_state(seed, 0); }
    void reset();  // forget the conversation, restart the RNG from settings.seed

    // One reply to `prompt`, streamed through on_text; cancelled() is asked before every token.
    Reply reply(const std::string& prompt, const TurnLimits& limits, const std::function<void(const std::string&)>& on_text,
                const std::function<bool()>& cancelled = {});

    void save(const std::string& path) const;
    void load(const std::string& path);  // any error leaves the session as it was

    int64_t tokens() const { return int64_t(decoder_.history().size()); }
    Decoder& decoder() { return decoder_; }  // for batched steps across sessions (serve/engine.h)
    int64_t state_bytes() const;  // bytes of the cache's contents (what a saved session stores)
    int64_t generated_tokens() const { return generated_; }
    double generation_seconds() const { return seconds_; }

  private:
    friend class Turn;
    GPT* model_;
    const Tokenizer* tokenizer_;
    Decoder decoder_;
    Rng rng_;
    int64_t generated_ = 0;
    double seconds_ = 0;
};

// One reply in progress, a token at a time, so a server can interleave many (Session::reply loops
// over one). Text that might be the start of a stop string is held back until it is not.
class Turn {
  public:
    // An empty prompt to an empty conversation is a newline, as `generate` starts.
    Turn(Session& session, const std::vector<int32_t>& prompt, TurnLimits limits, SampleOptions sampling);
    std::string next();      // makes one token; returns the text now safe to show
    std::string cancel();    // ends the turn; returns what was held back
    bool done() const { return !reply_.finish.empty(); }
    const Reply& reply() const { return reply_; }

  private:
    std::string finish(const char* why);
    Session& session_;
    TurnLimits limits_;
    SampleOptions sampling_;
    std::string held_;  // made but not yet shown
    Reply reply_;
};

}  // namespace splatlm
