// The splat-centre diversity loss: its value on a hand-made case, finite differences, a gradient that
// pushes two nearly collapsed centres apart, and which modules it finds.
#include "nn/gpt.h"
#include "splat/diversity.h"
#include "splat/register.h"
#include "splat/splat_attention.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
// A module with just a splat layer's two parameters, under a prefix like a GPT's.
class FakeSplats : public Module {
  public:
    FakeSplats(Tensor centres, Tensor log_scale)
        : centres(add_parameter("centres", std::move(centres))), log_scale(add_parameter("log_scale", std::move(log_scale))) {}
    Tensor& centres;
    Tensor& log_scale;
};

// The same with the slots' log amplitudes (kRetiredLogAmp: an empty slot).
class FakeSlots : public FakeSplats {
  public:
    FakeSlots(Tensor centres, Tensor log_scale, Tensor log_amp)
        : FakeSplats(std::move(centres), std::move(log_scale)), log_amp(add_parameter("log_amp", std::move(log_amp))) {}
    Tensor& log_amp;
};
}  // namespace

TEST_CASE("splat diversity: the value is the mean pair overlap", "[diversity]") {
    // One head, three splats in 2-D: distances² 1, 4, 1 (0–1: 1, 0–2: 4, 1–2: 1), scales 1, 1, 2.
    Tensor centres = Tensor::zeros({1, 3, 2});
    centres.data()[2] = 1.f, centres.data()[4] = 2.f;
    Tensor log_scale = Tensor::zeros({1, 3});
    log_scale.data()[2] = std::log(2.f);
    FakeSplats m(centres, log_scale);
    const double expected = (std::exp(-1.0 / 4) + std::exp(-4.0 / 10) + std::exp(-1.0 / 10)) / 3;
    REQUIRE(std::abs(splat_diversity_loss(m).item() - expected) < 1e-6);
}

TEST_CASE("splat diversity: empty slots take part in no pair", "[diversity][splat_life]") {
    // The three splats of the case above, and a fourth slot, empty, right on splat 0 (overlap 1 if counted).
    Tensor centres = Tensor::zeros({1, 4, 2});
    centres.data()[2] = 1.f, centres.data()[4] = 2.f, centres.data()[6] = 0.f;
    Tensor log_scale = Tensor::zeros({1, 4});
    log_scale.data()[2] = std::log(2.f);
    Tensor log_amp = Tensor::zeros({1, 4});
    log_amp.data()[3] = kRetiredLogAmp;
    FakeSlots m(centres, log_scale, log_amp);
    const double expected = (std::exp(-1.0 / 4) + std::exp(-4.0 / 10) + std::exp(-1.0 / 10)) / 3;
    Tensor r = splat_diversity_loss(m);
    REQUIRE(std::abs(r.item() - expected) < 1e-6);
    backward(r);
    for (int64_t d = 0; d < 2; ++d) REQUIRE(m.centres.grad().data()[3 * 2 + d] == 0.f);  // the empty slot is not pushed
    // A head with one live splat has no pair left.
    std::fill_n(m.log_amp.data() + 1, 3, kRetiredLogAmp);
    REQUIRE_THROWS_WITH(splat_diversity_loss(m), Catch::Contains("two or more live splats"));
}

TEST_CASE("splat diversity: gradients of the centres match finite differences", "[diversity][gradcheck]") {
    FakeSplats m(random({2, 4, 3}, 1, 0.7f), random({2, 4}, 2, 0.3f));
    require_gradcheck([&](const std::vector<Tensor>&) { return splat_diversity_loss(m); }, {m.centres});
    // The scales are constants to this loss (splat/diversity.h says why).
    backward(splat_diversity_loss(m));
    REQUIRE(m.centres.grad().defined());
    if (m.log_scale.grad().defined())
        for (float g : m.log_scale.grad().to_vector()) REQUIRE(g == 0.f);
}

TEST_CASE("splat diversity: two collapsed centres are pushed apart", "[diversity]") {
    register_splat_attentions();
    const std::string kind = GENERATE("splat", "splat_local");
    GPTConfig config{.vocab = 10, .context = 8, .layers = 2, .heads = 2, .width = 8, .attention = kind, .splats = 4};
    GPT model(config, 3);
    Tensor centres;
    for (const auto& [name, t] : model.named_parameters())
        if (name == "blocks.1.attn.centres") centres = t;
    REQUIRE(centres.defined());
    // Head 1, splat 2 sits on splat 0 up to 1e-3.
    const int64_t K = 4, D = 4;
    float* mu = centres.data() + 1 * K * D;
    for (int64_t d = 0; d < D; ++d) mu[2 * D + d] = mu[d] + (d == 1 ? 1e-3f : 0.f);
    Tensor r = splat_diversity_loss(model);
    REQUIRE(r.item() > 0.f);
    backward(r);
    const float* g = centres.grad().data() + 1 * K * D;
    // Gradient descent moves μ_2 − μ_0 along −(g_2 − g_0): that must widen the gap (its d = 1 part).
    REQUIRE(-(g[2 * D + 1] - g[1]) > 0.f);
    // And a step along −g lowers R.
    const float before = r.item();
    {
        NoGradGuard no_grad;
        for (int64_t i = 0; i < centres.numel(); ++i) centres.data()[i] -= 0.1f * centres.grad().data()[i];
    }
    REQUIRE(splat_diversity_loss(model).item() < before);
}

TEST_CASE("splat diversity: only models with splats have one", "[diversity][errors]") {
    GPT softmax(GPTConfig{.vocab = 10, .context = 8, .layers = 1, .heads = 2, .width = 8}, 1);
    REQUIRE_THROWS_WITH(splat_diversity_loss(softmax), Catch::Contains("no splat attention"));
    FakeSplats one(random({2, 1, 3}, 1), random({2, 1}, 2));
    REQUIRE_THROWS_WITH(splat_diversity_loss(one), Catch::Contains("two or more live splats"));
    FakeSplats bad(random({2, 3, 3}, 1), random({3, 2}, 2));
    REQUIRE_THROWS_WITH(splat_diversity_loss(bad), Catch::Contains("log_scale is [3, 2]"));
}
