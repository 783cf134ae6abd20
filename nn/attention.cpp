#include "nn/attention.h"

#include <map>

#include "nn/linear_attention.h"
#include "nn/softmax_attention.h"
#include "tensor/error.h"

namespace splatlm {

namespace {
std::map<std::string, AttentionFactory>& registry() {
    // The baselines of this layer are always present; higher layers (splat/) add theirs.
    static std::map<std::string, AttentionFactory> kinds = {
        {"softmax", [](const GPTConfig& c, int64_t layer, Rng& rng) {
             return std::make_unique<SoftmaxAttention>(c, layer, rng, 0);
         }},
        {"local", [](const GPTConfig& c, int64_t layer, Rng& rng) {
             return std::make_unique<SoftmaxAttention>(c, layer, rng, c.window);
         }},
        {"linear", [](const GPTConfig& c, int64_t layer, Rng& rng) {
             return std::make_unique<LinearAttention>(c, layer, rng);
         }},
    };
    return kinds;
}
}  // namespace

void register_attention(const std::string& kind, AttentionFactory factory) { registry()[kind] = std::move(factory); }

std::vector<std::string> attention_kinds() {
    std::vector<std::string> names;
    for (const auto& [name, _] : registry()) names.push_back(name);
    return names;
}

std::unique_ptr<Attention> make_attention(const GPTConfig& config, int64_t layer, Rng& rng) {
    auto it = registry().find(config.attention);
    if (it == registry().end()) {
        std::string known;
        for (const std::string& k : attention_kinds()) known += (known.empty() ? "" : ", ") + k;
        fail("unknown attention kind '", config.attention, "' (known: ", known, ")");
    }
    return it->second(config, layer, rng);
}

}  // namespace splatlm
