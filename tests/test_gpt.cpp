// The whole GPT, for every attention kind: gradients against finite differences, causality,
// generation steps vs forward. The splat kinds run plain, with every splat variant on, and with
// sparse top-p routing.
#include "nn/flat_parameters.h"
#include "nn/gpt.h"
#include "splat/register.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
// "kind", "kind+variants": the splat variants (decay, 2 levels, content gating) all on, or "kind+top":
// sparse routing, each token writing to and reading from 2 of 8 splats, with decay; "kind+forget":
// decay with input-dependent rates (splat_token_decay); "kind+conv": a short conv of 3 taps on q/k/v;
// "kind+nopos": no position embeddings, the conv the only order besides the mixer's; "mixed": a
// different kind in each layer (layer_kinds).
GPTConfig with_kind(GPTConfig c, const std::string& name) {
    const size_t plus = name.find('+');
    c.attention = name.substr(0, plus);
    const std::string variant = plus == std::string::npos ? "" : name.substr(plus + 1);
    if (variant == "variants") c.splat_decay = c.splat_gate = true, c.splat_levels = 2, c.splats = 4;
    if (variant == "top") c.splat_decay = true, c.splats = 8, c.splat_top = 2;
    if (variant == "forget") c.splat_decay = c.splat_token_decay = true;
    if (variant == "route") c.splat_delta_key_route = true, c.short_conv = 3;
    if (variant == "conv" || variant == "nopos") c.short_conv = 3;
    if (variant == "nopos") c.positions = "none", c.splat_decay = true;
    if (name == "mixed") c.attention = "splat", c.layer_kinds = "splat_local,softmax";
    return c;
}
#define ALL_KINDS                                                                                                    \
    "softmax", "local", "linear", "splat", "splat_local", "splat+variants", "splat_local+variants", "splat+top",     \
        "splat_local+top", "softmax+conv", "local+conv", "linear+conv", "splat+conv", "splat_local+conv",             \
        "splat+nopos", "mixed", "splat+forget", "delta", "delta+conv", "splat_delta", "splat_delta+conv",             \
        "splat_delta+route", "splat_delta+top"

// Finite differences need routes that no step of 1e-2 flips. With every centre at 0, all splats of a
// head see the same distance ‖x‖², so reads go to the two narrowest splats (c_j = ½e^{0.6·j}: splats
// 0 and 1, margin 0.75·‖q‖²), and log-amplitudes of 40 on splats 1 and 2 give them every write
// (margin ≈ 40 − 1.2·‖k‖²): splat 0 is read but never written (empty), 1 is read and written, 2 only
// written, the rest untouched — the routed paths of the op, with gradients through them.
void fix_routes(GPT& model) {
    NoGradGuard no_grad;
    auto ends_with = [](const std::string& s, const std::string& tail) {
        return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    for (auto& [name, t] : model.named_parameters()) {
        float* x = t.data();
        if (ends_with(name, ".centres")) std::fill(x, x + t.numel(), 0.f);
        for (int64_t i = 0; i < t.numel() && t.dim() == 2; ++i) {
            const int64_t j = i % t.size(1);
            if (ends_with(name, ".log_scale")) x[i] = -0.3f * float(j);
            if (ends_with(name, ".log_amp")) x[i] = j == 1 || j == 2 ? 40.f : 0.f;
        }
    }
}
}  // namespace

TEST_CASE("tiny GPT: every parameter's gradient matches finite differences", "[gpt][gradcheck]") {
    register_splat_attentions();
    const std::string kind = GENERATE(ALL_KINDS);
    GPTConfig config = with_kind({.vocab = 7, .context = 6, .layers = 2, .heads = 2, .width = 8, .window = 3}, kind);
    GPT model(config, 1);
    Indices ids = random_ids(2, 6, 7, 2), targets = random_ids(2, 6, 7, 3);
    spread_parameters(model.parameters(), 4);
    if (kind.ends_with("+top")) fix_routes(model);
    GradCheckResult r = gradcheck([&](const std::vector<Tensor>&) { return model.loss(ids, targets); },
                                  model.parameters(), {.eps = 1e-2, .atol = 1e-3, .rtol = 3e-2});
    INFO(r.message);
    REQUIRE(r.ok);
}

TEST_CASE("GPT logits at positions <= t ignore tokens after t", "[gpt][causality]") {
    register_splat_attentions();
    const std::string kind = GENERATE(ALL_KINDS);
    GPTConfig config = with_kind({.vocab = 20, .context = 32, .layers = 2, .heads = 2, .width = 16, .window = 4}, kind);
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
    const std::string kind = GENERATE(ALL_KINDS);
    GPTConfig config = with_kind({.vocab = 20, .context = 24, .layers = 2, .heads = 4, .width = 16, .window = 5}, kind);
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

TEST_CASE("attention_input is what a block's attention reads inside forward()", "[gpt]") {
    GPTConfig config{.vocab = 20, .context = 16, .layers = 3, .heads = 2, .width = 8};
    GPT model(config, 3);
    spread_parameters(model.parameters(), 5);
    Indices ids = random_ids(2, 16, 20, 6);
    NoGradGuard no_grad;
    // Layer 0 reads LN1(token + position embeddings).
    const NamedTensors named = model.named_parameters();
    auto param = [&](const std::string& name) {
        for (const auto& [n, t] : named)
            if (n == name) return t;
        FAIL("no parameter " << name);
        return Tensor();
    };
    Indices positions{{16}, std::vector<int32_t>(16)};
    for (int t = 0; t < 16; ++t) positions.ids[t] = t;
    Tensor x0 = embedding(param("wte.weight"), ids) + embedding(param("wpe.weight"), positions);
    require_close(model.attention_input(ids, 0), layernorm(x0, param("blocks.0.ln1.weight"), param("blocks.0.ln1.bias")),
                  1e-6, 1e-6);
    // Layer 2 reads the stream after blocks 0 and 1.
    Rng unused(0);
    Tensor x2 = model.block(1).forward(model.block(0).forward(x0, 0.f, unused), 0.f, unused);
    require_close(model.attention_input(ids, 2), model.block(2).attention_input(x2), 1e-6, 1e-6);
    REQUIRE_THROWS_WITH(model.attention_input(ids, 3), Catch::Contains("layer 3 is out of range"));
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

TEST_CASE("GPT config: splat_top must be in [0, splats] and on a splat kind", "[gpt][errors]") {
    register_splat_attentions();
    GPTConfig c{.vocab = 7, .context = 6, .layers = 1, .heads = 2, .width = 8, .attention = "splat", .splats = 4};
    for (int64_t top : {int64_t(-1), int64_t(5)}) {
        c.splat_top = top;
        REQUIRE_THROWS_WITH(GPT(c, 1), Catch::Contains("splat_top"));
    }
    c.splat_top = 4;
    REQUIRE_NOTHROW(GPT(c, 1));
    c.attention = "splat_delta";  // routes its keys and queries to splats too
    REQUIRE_NOTHROW(GPT(c, 1));
    c.attention = "softmax";
    REQUIRE_THROWS_WITH(GPT(c, 1), Catch::Contains("splat_top"));
}

TEST_CASE("GPT step_rows: separate streams in one pass give bitwise each stream's own step logits", "[gpt][recurrent]") {
    register_splat_attentions();
    const std::string kind = GENERATE(ALL_KINDS);
    INFO(kind);
    // Width 80: the MLP's second product has K = 320, more than one pass of the blocked GEMM.
    GPTConfig config = with_kind({.vocab = 20, .context = 24, .layers = 2, .heads = 4, .width = 80, .window = 5}, kind);
    GPT model(config, 7);
    spread_parameters(model.parameters(), 30);
    Indices ids = random_ids(3, 24, 20, 8);
    // Three streams at different positions: stream r has read 2·r + 1 tokens before the batched steps.
    std::vector<GPT::Cache> alone, batched;
    for (int64_t r = 0; r < 3; ++r) {
        alone.push_back(model.new_cache(1));
        batched.push_back(model.new_cache(1));
        for (int64_t t = 0; t < 2 * r + 1; ++t) {
            model.step({ids.ids[r * 24 + t]}, alone[r]);
            model.step({ids.ids[r * 24 + t]}, batched[r]);
        }
    }
    for (int64_t n = 0; n < 6; ++n) {
        std::vector<int32_t> tokens;
        std::vector<GPT::Cache*> caches;
        for (int64_t r = 0; r < 3; ++r) tokens.push_back(ids.ids[r * 24 + 2 * r + 1 + n]), caches.push_back(&batched[r]);
        Tensor rows = model.step_rows(tokens, caches);
        for (int64_t r = 0; r < 3; ++r) {
            Tensor one = model.step({tokens[r]}, alone[r]);
            require_close(raw::select(rows, 0, r), raw::select(one, 0, 0), 0, 0);
        }
    }
    REQUIRE_THROWS_WITH(model.step_rows({1, 2}, {&batched[0]}), Catch::Contains("one cache per token"));
}

TEST_CASE("layer_kinds gives each block its own kind and names a wrong list", "[gpt][errors]") {
    register_splat_attentions();
    GPTConfig c{.vocab = 7, .context = 6, .layers = 3, .heads = 2, .width = 8, .attention = "softmax"};
    c.layer_kinds = "splat,softmax,linear";
    GPT model(c, 1);
    REQUIRE(c.layer_kind(0) == "splat");
    REQUIRE(c.has_splat_layer());
    bool has_centres = false, softmax_block_has_centres = false;
    for (const auto& [name, t] : model.named_parameters()) {
        has_centres |= name == "blocks.0.attn.centres";
        softmax_block_has_centres |= name.starts_with("blocks.1.attn.centres");
    }
    REQUIRE(has_centres);
    REQUIRE_FALSE(softmax_block_has_centres);
    c.layer_kinds = "splat,softmax";
    REQUIRE_THROWS_WITH(GPT(c, 1), Catch::Contains("names 2 kinds for 3 layers"));
    c.layer_kinds = "splat,,softmax";
    REQUIRE_THROWS_WITH(GPT(c, 1), Catch::Contains("empty entry"));
    c.layer_kinds = "splat,sotfmax,softmax";
    REQUIRE_THROWS_WITH(GPT(c, 1), Catch::Contains("unknown attention kind 'sotfmax'"));
    c.layer_kinds = "softmax,softmax,softmax", c.splat_top = 2;  // no splat layer to route
    REQUIRE_THROWS_WITH(GPT(c, 1), Catch::Contains("splat_top"));
}

TEST_CASE("positions = none: no wpe, and a longer context runs the same weights on longer inputs", "[gpt]") {
    register_splat_attentions();
    GPTConfig c = with_kind({.vocab = 20, .context = 16, .layers = 2, .heads = 2, .width = 8}, "splat+nopos");
    GPT trained(c, 3);
    spread_parameters(trained.parameters(), 4);
    for (const auto& [name, t] : trained.named_parameters()) REQUIRE(!name.starts_with("wpe"));
    c.context = 48;  // the same parameters: nothing in the model depends on the context any more
    GPT longer(c, 5);
    const NamedTensors from = trained.named_parameters(), to = longer.named_parameters();
    REQUIRE(from.size() == to.size());
    for (size_t i = 0; i < from.size(); ++i) {
        REQUIRE(from[i].first == to[i].first);
        Tensor into = to[i].second;
        raw::copy_into(into, from[i].second);
    }
    const Indices ids = random_ids(1, 48, 20, 6);
    Indices prefix{{1, 16}, std::vector<int32_t>(ids.ids.begin(), ids.ids.begin() + 16)};
    NoGradGuard no_grad;
    require_close(raw::slice(longer.forward(ids), 1, 0, 16), trained.forward(prefix), 1e-5, 1e-5);
    REQUIRE_THROWS_WITH(trained.forward(ids), Catch::Contains("context length 16"));
    c.positions = "rotary";
    REQUIRE_THROWS_WITH(GPT(c, 1), Catch::Contains("positions must be learned or none"));
}

TEST_CASE("linear weights with a gradient buffer get dW summed into it by the GEMM: the engine's result, bitwise", "[gpt][autograd]") {
    // Model a keeps its parameters in a flat buffer, so every weight's .grad exists before backward and
    // the linear backward adds dW into it in place; model b has no .grad yet, so the engine receives dW
    // as a tensor and keeps a copy. One backward: the same bits (the tied embedding sums its two
    // contributions in either order, and x + y == y + x). A second backward accumulates onto the first.
    const GPTConfig config{.vocab = 64, .context = 16, .layers = 2, .heads = 2, .width = 32};
    GPT a(config, 5), b(config, 5);
    FlatParameters flat(a);
    const Indices ids = random_ids(3, 16, 64, 11);
    Indices targets = random_ids(1, 48, 64, 12);
    targets.shape = {48};
    backward(a.loss(ids, targets));
    backward(b.loss(ids, targets));
    const NamedTensors pa = a.named_parameters(), pb = b.named_parameters();
    REQUIRE(pa.size() == pb.size());
    std::vector<std::vector<float>> once;
    for (size_t i = 0; i < pa.size(); ++i) {
        INFO(pa[i].first);
        const Tensor ga = raw::contiguous(pa[i].second.grad()), gb = raw::contiguous(pb[i].second.grad());
        REQUIRE(std::any_of(ga.data(), ga.data() + ga.numel(), [](float x) { return x != 0.f; }));  // not a test on zeros
        REQUIRE(std::equal(ga.data(), ga.data() + ga.numel(), gb.data()));
        once.emplace_back(ga.data(), ga.data() + ga.numel());
    }
    backward(a.loss(ids, targets));  // accumulates: twice the one-pass gradient, up to rounding
    for (size_t i = 0; i < pa.size(); ++i) {
        INFO(pa[i].first);
        const Tensor ga = raw::contiguous(pa[i].second.grad());
        for (int64_t j = 0; j < ga.numel(); ++j) REQUIRE(ga.data()[j] == Approx(2.f * once[i][size_t(j)]).margin(1e-6));
    }
}
