#include "serve/completion_request.h"

#include <cmath>

#include "train/json.h"

namespace splatlm {

namespace {

[[noreturn]] void bad(const std::string& message) { throw RequestError(400, message); }

const Json& typed(const Json& value, const char* field, Json::Type type, const char* type_name) {
    if (value.type() != type) bad(std::string("'") + field + "' must be " + type_name + ", got " + value.describe());
    return value;
}

int64_t integer_in(const Json& value, const char* field, int64_t lo, int64_t hi) {
    if (!value.is_int()) bad(std::string("'") + field + "' must be an integer, got " + value.describe());
    const int64_t v = value.as_int();
    if (v < lo || v > hi)
        bad(std::string("'") + field + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
            std::to_string(v));
    return v;
}

double number_in(const Json& value, const char* field, double lo, double hi, bool open_lo) {
    const double v = typed(value, field, Json::Type::Number, "a number").as_double();
    if ((open_lo ? v <= lo : v < lo) || v > hi)
        bad(std::string("'") + field + "' must be in " + (open_lo ? "(" : "[") + Json(lo).dump() + ", " + Json(hi).dump() +
            "], got " + value.dump());
    return v;
}

std::vector<std::string> stops(const Json& value, const RequestLimits& limits) {
    std::vector<std::string> out;
    if (value.is_string()) {
        out.push_back(value.as_string());
    } else if (value.is_array()) {
        for (const Json& s : value.as_array()) out.push_back(typed(s, "stop", Json::Type::String, "a string or an array of strings").as_string());
    } else {
        bad("'stop' must be a string or an array of strings, got " + value.describe());
    }
    if (int64_t(out.size()) > limits.max_stops) bad("'stop' holds at most " + std::to_string(limits.max_stops) + " strings");
    for (const std::string& s : out)
        if (s.empty() || int64_t(s.size()) > limits.max_stop_bytes)
            bad("each 'stop' string must be 1 to " + std::to_string(limits.max_stop_bytes) + " bytes");
    return out;
}

}  // namespace

CompletionRequest parse_completion_request(const std::string& body, const Tokenizer& tokenizer,
                                           const SampleOptions& defaults, const RequestLimits& limits) {
    Json json;
    try {
        json = Json::parse(body);
    } catch (const std::exception& e) {
        bad(std::string("the body is not valid JSON: ") + e.what());
    }
    if (!json.is_object()) bad("the body must be a JSON object, got " + json.describe());
    CompletionRequest r;
    r.sampling = defaults;
    r.limits.max_tokens = std::min(defaults.tokens, limits.max_reply_tokens);
    bool has_prompt = false;
    for (const auto& [key, value] : json.as_object()) {
        const char* k = key.c_str();
        if (key == "prompt") {
            const std::string& text = typed(value, k, Json::Type::String, "a string").as_string();
            r.prompt = tokenizer.encode(text);
            has_prompt = true;
            if (int64_t(r.prompt.size()) > limits.max_prompt_tokens)
                throw RequestError(413, "'prompt' is " + std::to_string(r.prompt.size()) + " tokens, the limit is " +
                                            std::to_string(limits.max_prompt_tokens));
        } else if (key == "max_tokens") {
            r.limits.max_tokens = integer_in(value, k, 1, limits.max_reply_tokens);
        } else if (key == "temperature") {
            r.sampling.temperature = float(number_in(value, k, 0, 100, false));
        } else if (key == "top_p") {
            r.sampling.top_p = float(number_in(value, k, 0, 1, true));
        } else if (key == "top_k") {
            r.sampling.top_k = integer_in(value, k, 0, tokenizer.vocab_size());
        } else if (key == "seed") {
            r.sampling.seed = uint64_t(integer_in(value, k, 0, INT64_MAX));
            r.seeded = true;
        } else if (key == "stop") {
            r.limits.stop = stops(value, limits);
        } else if (key == "stream") {
            r.stream = typed(value, k, Json::Type::Bool, "true or false").as_bool();
        } else if (key == "session") {
            r.session = typed(value, k, Json::Type::String, "a string").as_string();
        } else if (key == "model") {
            typed(value, k, Json::Type::String, "a string");
        } else {
            bad("unknown field '" + key + "' (known: prompt, max_tokens, temperature, top_p, top_k, seed, stop, stream, "
                "session, model)");
        }
    }
    if (!has_prompt) bad("'prompt' is required");
    return r;
}

}  // namespace splatlm
