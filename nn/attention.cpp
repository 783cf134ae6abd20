#include "nn/attention.h"

#include <map>

#include "nn/delta_attention.h"
#include "nn/linear_attention.h"
#include "nn/softmax_attention.h"
#include "tensor/error.h"
#include "tensor/ops.h"

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
        {"delta", [](const GPTConfig& c, int64_t layer, Rng& rng) {
             return std::make_unique<DeltaAttention>(c, layer, rng);
         }},
    };
    return kinds;
}
}  // namespace

Tensor saved_copy(const Tensor& t) { return t.device() == Device::CPU ? t.clone() : t.to(Device::CPU); }

void restore_tensor(Tensor& into, const NamedTensors& saved, const std::string& name) {
    for (const auto& [key, value] : saved) {
        if (key != name) continue;
        SPLATLM_CHECK(value.shape() == into.shape(), "saved cache: tensor ", name, " has shape ",
                      shape_str(value.shape()), ", the model needs ", shape_str(into.shape()));
        raw::copy_into(into, value.to(into.device()));
        return;
    }
    fail("saved cache: tensor ", name, " is missing");
}

void register_attention(const std::string& kind, AttentionFactory factory) { registry()[kind] = std::move(factory); }

std::vector<std::string> attention_kinds() {
    std::vector<std::string> names;
    for (const auto& [name, _] : registry()) names.push_back(name);
    return names;
}

std::unique_ptr<Attention> make_attention(const GPTConfig& config, int64_t layer, Rng& rng) {
    const std::string kind = config.layer_kind(layer);
    auto it = registry().find(kind);
    if (it == registry().end()) {
        std::string known;
        for (const std::string& k : attention_kinds()) known += (known.empty() ? "" : ", ") + k;
        fail("unknown attention kind '", kind, "' (known: ", known, ")");
    }
    return it->second(config, layer, rng);
}

}  // namespace splatlm
