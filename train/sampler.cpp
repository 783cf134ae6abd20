#include "train/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tensor/error.h"

namespace splatlm {

int32_t sample_token(const float* logits, int64_t vocab, const SampleOptions& opt, Rng& rng) {
    SPLATLM_CHECK(opt.temperature >= 0.f && opt.top_k >= 0 && opt.top_p > 0.f && opt.top_p <= 1.f,
                  "sampling: need temperature >= 0, top_k >= 0 and 0 < top_p <= 1");
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

std::string generate_text(GPT& model, const Tokenizer& tokenizer, const std::string& prompt,
                          const SampleOptions& opt, const std::function<void(const std::string&)>& on_text) {
    SPLATLM_CHECK(opt.tokens >= 0, "generate: --tokens must be >= 0");
    const bool was_training = model.training();
    model.set_training(false);
    std::vector<int32_t> history = tokenizer.encode(prompt.empty() ? std::string("\n") : prompt);
    const int64_t context = model.config().context;
    Rng rng(opt.seed);
    GPT::Cache cache = model.new_cache(1);
    // Feeds tokens [from, end) of the history, returning the logits after the last one.
    auto prime = [&](size_t from) {
        cache = model.new_cache(1);
        Tensor logits;
        for (size_t i = from; i < history.size(); ++i) logits = model.step({history[i]}, cache);
        return logits;
    };
    Tensor logits = prime(history.size() > size_t(context) ? history.size() - context : 0);
    std::string out;
    for (int64_t n = 0; n < opt.tokens; ++n) {
        const std::vector<float> host_logits = logits.to_vector();  // the model may run on the GPU
        const int32_t next = sample_token(host_logits.data(), logits.numel(), opt, rng);
        history.push_back(next);
        const std::string text = tokenizer.token_text(next);
        out += text;
        if (on_text) on_text(text);
        if (n + 1 == opt.tokens) break;
        logits = cache.position < context ? model.step({next}, cache) : prime(history.size() - context / 2);
    }
    model.set_training(was_training);
    return out;
}

}  // namespace splatlm
