// Trajectory flow (splat_flow, splat/splat_flow.h): a splat layer's q and k move by `flow` times the
// read weights π of the splat layer below. At init (flow = 0) the model is the model without it; the
// gradient of the flow and of everything above π matches finite differences; the model stays causal;
// generation steps (and batched rows) give the parallel logits; a run with it resumes bitwise; a model
// without two splat layers is refused. Run: ./bin/tests "[splat_flow]"
#include "nn/gpt.h"
#include "splat/register.h"
#include "splat/splat_attention.h"
#include "splat/splat_lifecycle.h"
#include "tests/helpers.h"
#include "tests/train_helpers.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Matchers::Contains;

namespace {
// The default model's splat options (decay, token decay, short conv) with the flow, in `layers`
// layers (layer_kinds when given).
GPTConfig flow_config(int64_t layers, const std::string& kinds = "") {
    return GPTConfig{.vocab = 20, .context = 24, .layers = layers, .heads = 2, .width = 16, .attention = "splat",
                     .layer_kinds = kinds, .short_conv = 3, .splats = 6, .splat_decay = true,
                     .splat_token_decay = true, .splat_flow = true};
}
}  // namespace

TEST_CASE("splat_flow: at init the model is the model without it, bitwise; the flow is on the upper layers only",
          "[splat_flow]") {
    register_splat_attentions();
    GPTConfig on = flow_config(3), off = on;
    off.splat_flow = false;
    GPT with(on, 4), without(off, 4);
    REQUIRE(with.parameters().size() == without.parameters().size() + 2);  // layers 1 and 2 read the one below
    for (const auto& [name, t] : with.named_parameters())
        if (name.ends_with(".flow")) REQUIRE(t.shape() == Shape{2, 6, 8});
    REQUIRE(dynamic_cast<SplatAttention&>(with.block(0).attention()).flow == nullptr);
    const Indices ids = random_ids(2, 24, 20, 5);
    const std::vector<float> a = with.forward(ids).to_vector(), b = without.forward(ids).to_vector();
    REQUIRE(a == b);
}

TEST_CASE("splat_flow: gradients of the flow and of everything above the read weights match finite differences",
          "[splat_flow][gradcheck]") {
    register_splat_attentions();
    GPTConfig c = flow_config(2);
    c.vocab = 7, c.context = 6, c.width = 8, c.splats = 4;
    GPT model(c, 1);
    spread_parameters(model.parameters(), 4);
    const Indices ids = random_ids(2, 6, 7, 2), targets = random_ids(2, 6, 7, 3);
    // π of layer 0 enters layer 1 as data (no gradient through it: splat_flow.h), so the check covers the
    // parameters that do not move π: block 1 (its flow included) and the final norm.
    std::vector<Tensor> upper;
    for (const auto& [name, t] : model.named_parameters())
        if (name.starts_with("blocks.1.") || name.starts_with("ln_f")) upper.push_back(t);
    GradCheckResult r = gradcheck([&](const std::vector<Tensor>&) { return model.loss(ids, targets); }, upper,
                                  {.eps = 1e-2, .atol = 1e-3, .rtol = 3e-2});
    INFO(r.message);
    REQUIRE(r.ok);
}

TEST_CASE("splat_flow: logits at positions <= t ignore tokens after t", "[splat_flow][causality]") {
    register_splat_attentions();
    GPT model(flow_config(3, "splat,softmax,splat"), 5);
    spread_parameters(model.parameters(), 6);
    const Indices ids = random_ids(1, 24, 20, 6);
    const Tensor logits = model.forward(ids);
    for (int64_t t : {0, 9, 22}) {
        Indices changed = ids;
        for (int64_t u = t + 1; u < 24; ++u) changed.ids[u] = (changed.ids[u] + 7) % 20;
        const Tensor after = model.forward(changed);
        for (int64_t u = 0; u <= t; ++u)
            for (int64_t v = 0; v < 20; ++v) REQUIRE(after.at({0, u, v}) == logits.at({0, u, v}));
    }
}

TEST_CASE("splat_flow: generation steps and batched rows reproduce the parallel logits", "[splat_flow][recurrent]") {
    register_splat_attentions();
    const std::string kinds = GENERATE(std::string(""), std::string("splat,softmax,splat"));
    INFO(kinds);
    GPT model(flow_config(3, kinds), 7);
    spread_parameters(model.parameters(), 30);
    const Indices ids = random_ids(2, 24, 20, 8);
    const Tensor logits = model.forward(ids);
    GPT::Cache cache = model.new_cache(2);
    std::vector<GPT::Cache> rows;
    rows.push_back(model.new_cache(1)), rows.push_back(model.new_cache(1));
    for (int64_t t = 0; t < 24; ++t) {
        const Tensor step = model.step({ids.ids[t], ids.ids[24 + t]}, cache);
        require_close(step, raw::select(logits, 1, t), 1e-4, 1e-4);
        // Two streams of one row each in one pass: each row as the two-row step gives it.
        const Tensor batched = model.step_rows({ids.ids[t], ids.ids[24 + t]}, {&rows[0], &rows[1]});
        require_close(batched, step, 1e-5, 1e-5);
    }
}

TEST_CASE("splat_flow: a split in the layer below copies its flow row, so a split without offset keeps the logits",
          "[splat_flow][splat_life]") {
    register_splat_attentions();
    GPTConfig c = flow_config(2);
    c.max_splats = 8;  // two empty slots per head
    GPT model(c, 9);
    spread_parameters(model.parameters(), 11);
    auto& below = dynamic_cast<SplatAttention&>(model.block(0).attention());
    auto& above = dynamic_cast<SplatAttention&>(model.block(1).attention());
    NoGradGuard no_grad;
    for (int64_t h = 0; h < 2; ++h)  // (spread_parameters filled the empty slots' amplitudes too)
        for (int64_t j = 6; j < 8; ++j) empty_slot(below, h, j), empty_slot(above, h, j);
    REQUIRE(below.flow_above() == above.flow);
    const Indices ids = random_ids(2, 24, 20, 12);
    const Tensor before = model.forward(ids);
    const std::vector<double> direction(8, 0.0);
    split_splat(below, 1, 2, 6, direction.data(), 0.0);
    const float* w = above.flow->data();
    for (int64_t d = 0; d < 8; ++d) REQUIRE(w[(1 * 8 + 6) * 8 + d] == w[(1 * 8 + 2) * 8 + d]);
    require_close(model.forward(ids), before, 1e-4, 1e-5);
}

TEST_CASE("splat_flow: a run with it checkpoints the flow and resumes bitwise", "[splat_flow][train][resume]") {
    register_splat_attentions();
    const std::string run = require_bitwise_resume("flow", [](const std::string& out) {
        TrainConfig c = tiny_config(out);
        c.model.attention = "splat", c.model.layers = 2, c.model.splat_flow = true;
        return c;
    });
    LoadedModel loaded = load_model(run);
    REQUIRE(loaded.config.model.splat_flow);
    bool moved = false;
    for (const auto& [name, t] : loaded.model->named_parameters())
        if (name.ends_with(".flow"))
            for (float x : t.to_vector()) moved |= x != 0.f;  // it trained away from 0
    REQUIRE(moved);
}

TEST_CASE("splat_flow: a model without two splat layers is refused with one line", "[splat_flow][errors]") {
    register_splat_attentions();
    GPTConfig c = flow_config(1);
    REQUIRE_THROWS_WITH(GPT(c, 1), Contains("splat_flow") && Contains("two or more layers of kind splat") &&
                                       Contains("has 1"));
    c = flow_config(2), c.attention = "softmax";
    REQUIRE_THROWS_WITH(GPT(c, 1), Contains("splat_flow") && Contains("has 0"));
    c = flow_config(2, "splat,splat_local");  // splat_local does not take part
    REQUIRE_THROWS_WITH(GPT(c, 1), Contains("has 1"));
    TrainConfig t;
    set_config_key(t, "splat_flow", "true");
    set_config_key(t, "layers", "1");
    REQUIRE_THROWS_WITH(t.validate(), Contains("splat_flow"));
}
