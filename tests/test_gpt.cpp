// The whole GPT, for every attention kind: gradients against finite differences, causality,
// generation steps vs forward.
#include "nn/gpt.h"
#include "splat/register.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;


TEST_CASE("tiny GPT: every parameter's gradient matches finite differences", "[gpt][gradcheck]") {
    register_splat_attentions();
    const std::string kind = GENERATE("softmax", "local", "linear", "splat");
    GPTConfig config{.vocab = 7, .context = 6, .layers = 2, .heads = 2, .width = 8, .attention = kind, .window = 3};
    GPT model(config, 1);
    Indices ids = random_ids(2, 6, 7, 2), targets = random_ids(2, 6, 7, 3);
    spread_parameters(model.parameters(), 4);
    GradCheckResult r = gradcheck([&](const std::vector<Tensor>&) { return model.loss(ids, targets); },
                                  model.parameters(), {.eps = 1e-2, .atol = 1e-3, .rtol = 3e-2});
    INFO(r.message);
    REQUIRE(r.ok);
}

TEST_CASE("GPT logits at positions <= t ignore tokens after t", "[gpt][causality]") {
    register_splat_attentions();
    const std::string kind = GENERATE("softmax", "local", "linear", "splat");
    GPTConfig config{.vocab = 20, .context = 32, .layers = 2, .heads = 2, .width = 16, .attention = kind, .window = 4};
    GPT model(config, 5);
    Indices ids = random_ids(1, 32, 20, 6);
    Tensor logits = model.forward(ids);
    for (int64_t t : {0, 9, 30}) {
        Indices changed = ids;
        for (int64_t u = t + 1; u < 32; ++u) changed.ids[u] = (changed.ids[u] + 7) % 20;
        Tensor after = model.forward(changed);
        for (int64_t u = 0; u <= t; ++u)
            for (int64_t v = 0; v < 20; ++v) REQUIRE(after.at({0, u, v}) == logits.at({0, u, v}));
    }
}

TEST_CASE("GPT generation steps reproduce the parallel logits", "[gpt][recurrent]") {
    register_splat_attentions();
    const std::string kind = GENERATE("softmax", "local", "linear", "splat");
    GPTConfig config{.vocab = 20, .context = 24, .layers = 2, .heads = 4, .width = 16, .attention = kind, .window = 5};
    GPT model(config, 7);
    spread_parameters(model.parameters(), 30);
    Indices ids = random_ids(2, 24, 20, 8);
    Tensor logits = model.forward(ids);
    GPT::Cache cache = model.new_cache(2);
    for (int64_t t = 0; t < 24; ++t) {
        Tensor step = model.step({ids.ids[t], ids.ids[24 + t]}, cache);
        require_close(step, raw::select(logits, 1, t), 1e-4, 1e-4);
    }
    REQUIRE_THROWS_WITH(model.step({1, 2}, cache), Catch::Contains("context"));
}

TEST_CASE("GPT parameter names and counts", "[gpt]") {
    GPTConfig config{.vocab = 65, .context = 64, .layers = 4, .heads = 4, .width = 128};
    GPT model(config, 1);
    NamedTensors named = model.named_parameters();
    REQUIRE(named.front().first == "wte.weight");
    REQUIRE(named.back().first == "ln_f.bias");
    // 12·L·C² + 13·L·C + (V + T)·C + 2C (tied head)
    const int64_t L = 4, C = 128;
    REQUIRE(model.parameter_count() == 12 * L * C * C + 13 * L * C + (65 + 64) * C + 2 * C);
    REQUIRE_THROWS_WITH(GPT(GPTConfig{.heads = 3, .width = 128}, 1), Catch::Contains("divisible"));
}
