#include "serve/session.h"

#include <algorithm>
#include <chrono>

#include "tensor/error.h"
#include "train/json.h"
#include "train/safetensors.h"
#include "train/tokenizer.h"

namespace splatlm {

Session::Session(GPT& model, const Tokenizer& tokenizer, const SampleOptions& settings_)
    : settings(settings_), model_(&model), tokenizer_(&tokenizer), decoder_(model), rng_(settings_.seed) {
    SPLATLM_CHECK(tokenizer.vocab_size() == model.config().vocab, "session: the tokenizer has ", tokenizer.vocab_size(),
                  " tokens, the model ", model.config().vocab);
    model.set_training(false);
}

void Session::reset() {
    decoder_.clear();
    rng_.set_state(settings.seed, 0);
}

Reply Session::reply(const std::string& prompt, const TurnLimits& limits,
                     const std::function<void(const std::string&)>& on_text, const std::function<bool()>& cancelled) {
    Turn turn(*this, tokenizer_->encode(prompt), limits, settings);
    while (!turn.done()) {
        const std::string text = cancelled && cancelled() ? turn.cancel() : turn.next();
        if (on_text && !text.empty()) on_text(text);
    }
    return turn.reply();
}

int64_t Session::state_bytes() const {
    int64_t bytes = 0;
    for (const NamedTensors& layer : decoder_.snapshot().layers)
        for (const auto& [name, t] : layer) bytes += t.numel() * int64_t(sizeof(float));
    return bytes;
}

// ---- the session file: safetensors, the cache's tensors as "layer<i>.<name>" and the logits, the rest
// ---- as metadata (numbers that must not pass through a double are decimal strings)

namespace {
const char* kFormat = "splatlm-session 1";

Json model_shape(const GPTConfig& c) {
    return Json(Json::Object{{"vocab", c.vocab}, {"context", c.context}, {"layers", c.layers}, {"heads", c.heads},
                             {"width", c.width}, {"attention", c.attention}});
}

const std::string& meta(const SafetensorsFile& file, const std::string& key) {
    auto it = file.metadata.find(key);
    SPLATLM_CHECK(it != file.metadata.end(), file.path, ": no '", key, "' in the metadata (not a splatlm session?)");
    return it->second;
}

uint64_t parse_u64(const SafetensorsFile& file, const std::string& key) {
    const std::string& s = meta(file, key);
    SPLATLM_CHECK(!s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), ::isdigit), file.path, ": '", key,
                  "' is not a whole number: ", s);
    return std::stoull(s);
}
}  // namespace

void Session::save(const std::string& path) const {
    const Decoder::Snapshot s = decoder_.snapshot();
    NamedTensors tensors;
    for (size_t i = 0; i < s.layers.size(); ++i)
        for (const auto& [name, t] : s.layers[i]) tensors.emplace_back("layer" + std::to_string(i) + "." + name, t);
    if (s.logits.defined()) tensors.emplace_back("logits", s.logits);
    Json history{Json::Array{}};
    for (int32_t id : s.history) history.push_back(id);
    const Json sampling(Json::Object{{"tokens", settings.tokens},
                                     {"temperature", settings.temperature},
                                     {"top_k", settings.top_k},
                                     {"top_p", settings.top_p}});
    save_safetensors(path, tensors,
                     {{"format", kFormat},
                      {"model", model_shape(model_->config()).dump()},
                      {"history", history.dump()},
                      {"fed", std::to_string(s.fed)},
                      {"position", std::to_string(s.position)},
                      {"settings", sampling.dump()},
                      {"seed", std::to_string(settings.seed)},
                      {"rng_seed", std::to_string(rng_.seed())},
                      {"rng_counter", std::to_string(rng_.counter())},
                      {"generated", std::to_string(generated_)}});
}

void Session::load(const std::string& path) {
    const SafetensorsFile file = load_safetensors(path);
    SPLATLM_CHECK(meta(file, "format") == kFormat, path, ": format '", meta(file, "format"), "', expected '", kFormat, "'");
    SPLATLM_CHECK(Json::parse(meta(file, "model")) == model_shape(model_->config()), path,
                  ": saved with a model of shape ", meta(file, "model"), ", this one is ",
                  model_shape(model_->config()).dump());
    Decoder::Snapshot s;
    const Json history = Json::parse(meta(file, "history"));
    for (const Json& id : history.as_array()) s.history.push_back(int32_t(id.as_int()));
    s.fed = int64_t(parse_u64(file, "fed"));
    s.position = int64_t(parse_u64(file, "position"));
    s.layers.resize(model_->config().layers);
    for (const auto& [name, t] : file.tensors) {
        if (name == "logits") {
            s.logits = t;
            continue;
        }
        const size_t dot = name.find('.');
        const std::string layer = name.substr(0, dot);
        SPLATLM_CHECK(dot != std::string::npos && layer.size() > 5 && layer.compare(0, 5, "layer") == 0, path,
                      ": unexpected tensor ", name);
        const size_t i = std::stoul(layer.substr(5));
        SPLATLM_CHECK(i < s.layers.size(), path, ": tensor ", name, " for a layer the model lacks");
        s.layers[i].emplace_back(name.substr(dot + 1), t);
    }
    const Json sampling = Json::parse(meta(file, "settings"));
    SampleOptions loaded{.tokens = sampling.at("tokens").as_int(),
                         .temperature = float(sampling.at("temperature").as_double()),
                         .top_k = sampling.at("top_k").as_int(),
                         .top_p = float(sampling.at("top_p").as_double()),
                         .seed = parse_u64(file, "seed")};
    const uint64_t rng_seed = parse_u64(file, "rng_seed"), rng_counter = parse_u64(file, "rng_counter");
    const int64_t generated = int64_t(parse_u64(file, "generated"));
    decoder_.restore(s);  // checks the snapshot against the model; throws before changing anything
    settings = loaded;
    rng_.set_state(rng_seed, rng_counter);
    generated_ = generated;
}

// ---- one reply, a token at a time ----

Turn::Turn(Session& session, const std::vector<int32_t>& prompt, TurnLimits limits, SampleOptions sampling)
    : session_(session), limits_(std::move(limits)), sampling_(sampling) {
    SPLATLM_CHECK(limits_.max_tokens >= 0, "reply: max tokens must be >= 0, got ", limits_.max_tokens);
    for (const std::string& s : limits_.stop) SPLATLM_CHECK(!s.empty(), "reply: a stop string is empty");
    Decoder& decoder = session_.decoder_;
    const std::vector<int32_t> ids =
        prompt.empty() && decoder.history().empty() ? session_.tokenizer_->encode("\n") : prompt;
    for (int32_t id : ids) check_token_id(id, session_.tokenizer_->vocab_size(), "reply");
    decoder.push(ids);
    reply_.prompt_tokens = int64_t(ids.size());
    if (limits_.max_tokens == 0) finish("length");
}

std::string Turn::next() {
    SPLATLM_CHECK(!done(), "reply: the turn is over");
    const auto start = std::chrono::steady_clock::now();
    const int32_t id = session_.decoder_.sample(sampling_, session_.rng_);
    session_.seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++session_.generated_;
    ++reply_.tokens;
    held_ += session_.tokenizer_->token_text(id);
    size_t stop_at = std::string::npos;
    for (const std::string& s : limits_.stop) stop_at = std::min(stop_at, held_.find(s));
    if (stop_at != std::string::npos) {
        held_.resize(stop_at);
        return finish("stop");
    }
    if (reply_.tokens == limits_.max_tokens) return finish("length");
    // Hold back the longest tail of held_ that begins some stop string.
    size_t keep = 0;
    for (const std::string& s : limits_.stop)
        for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n)
            if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
                keep = n;
                break;
            }
    std::string shown = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    reply_.text += shown;
    return shown;
}

std::string Turn::cancel() { return done() ? std::string() : finish("cancelled"); }

std::string Turn::finish(const char* why) {
    std::string shown;
    shown.swap(held_);
    reply_.text += shown;
    reply_.finish = why;
    return shown;
}

}  // namespace splatlm
