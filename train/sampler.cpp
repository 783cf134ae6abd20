#include "train/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

void check_sample_options(const SampleOptions& opt) {
    SPLATLM_CHECK(opt.temperature >= 0.f, "sampling: temperature must be >= 0, got ", opt.temperature);
    SPLATLM_CHECK(opt.top_k >= 0, "sampling: top-k must be >= 0, got ", opt.top_k);
    SPLATLM_CHECK(opt.top_p > 0.f && opt.top_p <= 1.f, "sampling: top-p must be in (0, 1], got ", opt.top_p);
}

int32_t sample_token(const float* logits, int64_t vocab, const SampleOptions& opt, Rng& rng) {
    check_sample_options(opt);
    if (opt.temperature == 0.f) return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
    // Candidates by decreasing logit; softmax at the temperature over them.
    std::vector<int32_t> order(vocab);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    int64_t keep = opt.top_k > 0 ? std::min(opt.top_k, vocab) : vocab;
    std::vector<double> p(keep);
    double total = 0;
    for (int64_t i = 0; i < keep; ++i) total += p[i] = std::exp((logits[order[i]] - logits[order[0]]) / opt.temperature);
    // Nucleus: the shortest prefix whose mass reaches top_p.
    double mass = 0;
    for (int64_t i = 0; i < keep; ++i) {
        mass += p[i] / total;
        if (mass >= opt.top_p) {
            keep = i + 1;
            break;
        }
    }
    double kept = 0;
    for (int64_t i = 0; i < keep; ++i) kept += p[i];
    double u = rng.next_double() * kept;
    for (int64_t i = 0; i < keep; ++i)
        if ((u -= p[i]) < 0) return order[i];
    return order[keep - 1];
}

const Tensor& Decoder::logits() {
    SPLATLM_CHECK(!history_.empty(), "decoder: nothing to predict from (no tokens pushed)");
    const size_t context = size_t(model_->config().context);
    if (cache_.position == 0 && history_.size() - fed_ > context) fed_ = history_.size() - context;
    while (fed_ < history_.size()) feed_next();
    return logits_;
}

void Decoder::feed_next() {
    const int64_t context = model_->config().context;
    if (cache_.position == context) {  // full: restart from the half-context that ends at this token
        const size_t half = size_t(std::max<int64_t>(1, context / 2));
        cache_ = model_->new_cache(1);
        for (size_t i = fed_ + 1 - half; i < fed_; ++i) model_->step({history_[i]}, cache_);
    }
    logits_ = model_->step({history_[fed_++]}, cache_);
}

std::optional<int32_t> Decoder::next_to_feed() const {
    const int64_t context = model_->config().context;
    if (pending() == 0 || cache_.position >= context || (cache_.position == 0 && pending() > size_t(context)))
        return std::nullopt;
    return history_[fed_];
}

void Decoder::fed(const Tensor& logits) {
    SPLATLM_CHECK(pending() > 0, "decoder: fed() with no token pending");
    logits_ = logits;
    ++fed_;
}

int32_t Decoder::sample(const SampleOptions& options, Rng& rng) {
    const Tensor& next_logits = logits();
    const std::vector<float> host = next_logits.to_vector();  // the model may run on the GPU
    const int32_t next = sample_token(host.data(), next_logits.numel(), options, rng);
    push(next);
    return next;
}

void Decoder::clear() {
    cache_ = model_->new_cache(1);
    history_.clear();
    fed_ = 0;
    logits_ = Tensor();
}

Decoder::Snapshot Decoder::snapshot() const {
    Snapshot s{history_, int64_t(fed_), cache_.position, {}, logits_.defined() ? saved_copy(logits_) : Tensor()};
    for (const auto& layer : cache_.layers) s.layers.push_back(layer->contents());
    return s;
}

void Decoder::restore(const Snapshot& s) {
    SPLATLM_CHECK(s.fed >= 0 && size_t(s.fed) <= s.history.size() && s.position >= 0 &&
                      s.position <= model_->config().context && s.position <= s.fed,
                  "decoder: inconsistent snapshot (", s.history.size(), " tokens, ", s.fed, " fed, position ",
                  s.position, ", context ", model_->config().context, ")");
    SPLATLM_CHECK(s.layers.size() == cache_.layers.size(), "decoder: snapshot has ", s.layers.size(),
                  " layers, the model ", cache_.layers.size());
    SPLATLM_CHECK(s.fed == 0 || (s.logits.defined() && s.logits.numel() == model_->config().vocab),
                  "decoder: snapshot of fed tokens lacks their ", model_->config().vocab, " logits");
    for (int32_t id : s.history)
        SPLATLM_CHECK(id >= 0 && id < model_->config().vocab, "decoder: token id ", id, " outside the vocabulary");
    GPT::Cache cache = model_->new_cache(1);
    for (size_t i = 0; i < cache.layers.size(); ++i) cache.layers[i]->restore(s.layers[i], s.position);
    cache.position = s.position;
    cache_ = std::move(cache);
    history_ = s.history;
    fed_ = size_t(s.fed);
    logits_ = s.logits.defined() ? raw::reshape(s.logits, {1, model_->config().vocab}).to(model_->device()) : Tensor();
}

std::string generate_text(GPT& model, const Tokenizer& tokenizer, const std::string& prompt,
                          const SampleOptions& opt, const std::function<void(const std::string&)>& on_text) {
    SPLATLM_CHECK(opt.tokens >= 0, "generate: --tokens must be >= 0");
    const bool was_training = model.training();
    model.set_training(false);
    Decoder decoder(model);
    decoder.push(tokenizer.encode(prompt.empty() ? std::string("\n") : prompt));
    Rng rng(opt.seed);
    std::string out;
    for (int64_t n = 0; n < opt.tokens; ++n) {
        const std::string text = tokenizer.token_text(decoder.sample(opt, rng));
        out += text;
        if (on_text) on_text(text);
    }
    model.set_training(was_training);
    return out;
}

}  // namespace splatlm
