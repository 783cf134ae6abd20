// completion_request.h — the body of POST /v1/completions, read strictly: a JSON object with only
// the known fields, each of its type and in its range, resolved against the server's defaults.
// Every problem is a RequestError carrying the HTTP status (400, or 413 for a too-long prompt) and
// one line naming the field. Test: ./bin/tests "[serve]"
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "serve/session.h"

namespace splatlm {

struct RequestError : std::runtime_error {
    RequestError(int status_, const std::string& message) : std::runtime_error(message), status(status_) {}
    int status;
};

struct RequestLimits {
    int64_t max_prompt_tokens = 2048;
    int64_t max_reply_tokens = 512;
    int64_t max_stops = 4;
    int64_t max_stop_bytes = 64;
};

struct CompletionRequest {
    std::vector<int32_t> prompt;  // tokens
    SampleOptions sampling;       // .tokens unused: limits.max_tokens says how many
    bool seeded = false;          // "seed" given: the session's RNG restarts from it
    TurnLimits limits;
    bool stream = false;
    std::string session;          // empty: a one-off conversation
};

// Fields: prompt (string, required), max_tokens, temperature, top_p, top_k, seed, stop (string or
// array of strings), stream (bool), session (string), model (string, ignored).
CompletionRequest parse_completion_request(const std::string& body, const Tokenizer& tokenizer,
                                           const SampleOptions& defaults, const RequestLimits& limits);

}  // namespace splatlm
