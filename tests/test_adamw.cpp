// Flat parameter buffers, AdamW against a hand-written reference, clipping, the LR schedule, and
// the proof that the whole loop learns: a tiny GPT memorises a 64-token string.
#include <cmath>

#include "nn/flat_parameters.h"
#include "nn/gpt.h"
#include "tests/helpers.h"
#include "train/adamw.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
struct TwoParams : Module {
    Tensor& w;
    Tensor& b;
    TwoParams()
        : w(add_parameter("w", random({2, 3}, 1), /*weight_decay=*/true)), b(add_parameter("b", random({3}, 2))) {}
};
}  // namespace

TEST_CASE("flat parameters alias the module's tensors and collect their gradients", "[adamw]") {
    TwoParams model;
    std::vector<float> before = model.w.to_vector();
    FlatParameters flat(model);
    REQUIRE(flat.size() == 9);
    REQUIRE(model.w.to_vector() == before);           // values preserved
    REQUIRE(model.w.same_storage(model.b));            // one buffer
    REQUIRE(flat.slots()[0].weight_decay);
    REQUIRE_FALSE(flat.slots()[1].weight_decay);
    backward(sum(model.w * 2.f) + sum(model.b));
    backward(sum(model.b));                            // accumulates
    for (int i = 0; i < 6; ++i) REQUIRE(flat.grads()[i] == 2.f);
    for (int i = 6; i < 9; ++i) REQUIRE(flat.grads()[i] == 2.f);
    flat.zero_grad();
    REQUIRE(model.w.grad().to_vector() == std::vector<float>(6, 0.f));
}

TEST_CASE("AdamW matches a double-precision reference over several steps", "[adamw]") {
    TwoParams model;
    FlatParameters flat(model);
    AdamWOptions opt{.beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f};
    AdamW adam(flat, opt);
    std::vector<double> p(flat.values(), flat.values() + 9), m(9, 0), v(9, 0);
    Rng rng(3);
    for (int t = 1; t <= 5; ++t) {
        std::vector<float> g(9);
        rng.normal(g.data(), 9);
        std::copy(g.begin(), g.end(), flat.grads());
        const float lr = 0.01f * t;
        adam.step(lr);
        for (int i = 0; i < 9; ++i) {
            if (i < 6) p[i] *= 1.0 - lr * 0.1;  // only w decays
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.95 * v[i] + 0.05 * double(g[i]) * g[i];
            p[i] -= lr * (m[i] / (1 - std::pow(0.9, t))) / (std::sqrt(v[i] / (1 - std::pow(0.95, t))) + 1e-8);
            REQUIRE(flat.values()[i] == Approx(p[i]).epsilon(1e-5));
        }
    }
    REQUIRE(adam.steps_taken() == 5);
}

namespace {
// Slots of odd sizes whose boundaries fall inside the step's blocks, more than 65536 elements in all
// (so the step runs on the team), decay on and off in turn.
struct ManySlots : Module {
    ManySlots() {
        const std::vector<Shape> shapes{{301, 217}, {4099}, {17, 129}, {3}, {5000}};
        for (size_t i = 0; i < shapes.size(); ++i)
            add_parameter("p" + std::to_string(i), random(shapes[i], 40 + i), /*weight_decay=*/i % 2 == 0);
    }
};

std::vector<float> adamw_two_steps() {
    ManySlots model;
    FlatParameters flat(model);
    AdamW adam(flat, AdamWOptions{.beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f});
    Rng rng(7);
    for (int t = 1; t <= 2; ++t) {
        rng.normal(flat.grads(), flat.size());
        adam.step(0.01f * t);
    }
    return std::vector<float>(flat.values(), flat.values() + flat.size());
}
}  // namespace

TEST_CASE("AdamW over many slots: each element gets its own slot's decay, on 1 and 2 threads alike", "[adamw][threads]") {
    const std::vector<float> one = with_threads(1, adamw_two_steps), two = with_threads(2, adamw_two_steps);
    REQUIRE(one == two);
    ManySlots model;  // the same initial values and gradients, through a double-precision reference
    FlatParameters flat(model);
    std::vector<double> p(flat.values(), flat.values() + flat.size()), m(p.size(), 0), v(p.size(), 0);
    std::vector<float> g(p.size());
    Rng rng(7);
    for (int t = 1; t <= 2; ++t) {
        rng.normal(g.data(), flat.size());
        const double lr = 0.01 * t;
        for (const FlatParameters::Slot& slot : flat.slots())
            for (int64_t i = slot.offset; i < slot.offset + slot.tensor.numel(); ++i) {
                if (slot.weight_decay) p[i] *= 1.0 - lr * 0.1;
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.95 * v[i] + 0.05 * double(g[i]) * g[i];
                p[i] -= lr * (m[i] / (1 - std::pow(0.9, t))) / (std::sqrt(v[i] / (1 - std::pow(0.95, t))) + 1e-8);
            }
    }
    for (size_t i = 0; i < p.size(); ++i) {
        INFO("element " << i);
        REQUIRE(two[i] == Approx(p[i]).epsilon(1e-5).margin(1e-6));
    }
}

TEST_CASE("global-norm clipping", "[adamw]") {
    TwoParams model;
    FlatParameters flat(model);
    for (int i = 0; i < 9; ++i) flat.grads()[i] = 0.5f * float(i + 1) - 1.25f;  // norm² = Σ (i/2 − 0.75)², i = 1…9
    double norm = 0;
    for (int i = 0; i < 9; ++i) norm += double(flat.grads()[i]) * flat.grads()[i];
    norm = std::sqrt(norm);
    const GradClip under = gradient_clip(flat, 100.0);
    REQUIRE(under.norm == Approx(norm));
    REQUIRE(under.scale == 1.f);  // within bounds: the gradients are used as they are
    const GradClip over = gradient_clip(flat, 1.0);
    REQUIRE(over.scale * norm == Approx(1.0).epsilon(1e-5));
    flat.grads()[0] = NAN;
    const GradClip bad = gradient_clip(flat, 1.0);
    REQUIRE((std::isnan(bad.norm) && bad.scale == 1.f));
}

TEST_CASE("AdamW applies the clipping factor as it reads each gradient: bitwise the gradients scaled first", "[adamw]") {
    // The step with grad_scale = s against the step on gradients multiplied by s beforehand (what
    // clipping in place did): the same float product, so the same bits.
    auto run = [](bool scale_in_step) {
        TwoParams model;
        FlatParameters flat(model);
        AdamW adam(flat, {.weight_decay = 0.1f});
        for (int t = 1; t <= 3; ++t) {
            for (int i = 0; i < 9; ++i) flat.grads()[i] = std::sin(1.7f * float(i + 3 * t)) * 4.f;
            const GradClip clip = gradient_clip(flat, 1.0);
            REQUIRE(clip.scale < 1.f);
            if (!scale_in_step)
                for (int i = 0; i < 9; ++i) flat.grads()[i] *= clip.scale;
            adam.step(0.01f * float(t), scale_in_step ? clip.scale : 1.f);
        }
        return std::vector<float>(flat.values(), flat.values() + 9);
    };
    REQUIRE(run(true) == run(false));
}

TEST_CASE("warm-up then cosine learning rate", "[adamw]") {
    REQUIRE(learning_rate(0, 10, 100, 1e-3f, 1e-4f) == Approx(1e-4));
    REQUIRE(learning_rate(9, 10, 100, 1e-3f, 1e-4f) == Approx(1e-3));
    REQUIRE(learning_rate(10, 10, 100, 1e-3f, 1e-4f) == Approx(1e-3));
    REQUIRE(learning_rate(55, 10, 100, 1e-3f, 1e-4f) == Approx(0.55e-3));
    REQUIRE(learning_rate(100, 10, 100, 1e-3f, 1e-4f) == Approx(1e-4));
    for (int s = 11; s < 100; ++s)
        REQUIRE(learning_rate(s, 10, 100, 1e-3f, 1e-4f) <= learning_rate(s - 1, 10, 100, 1e-3f, 1e-4f));
}

TEST_CASE("a tiny GPT memorises a 64-token string", "[adamw][gpt][learns]") {
    const std::string text = "In the beginning God created the heaven and the earth. And the ea";
    REQUIRE(text.size() == 65);
    GPTConfig config{.vocab = 128, .context = 64, .layers = 2, .heads = 2, .width = 32};
    GPT model(config, 1);
    FlatParameters flat(model);
    AdamW adam(flat, {.weight_decay = 0.0f});
    Indices ids{{1, 64}, {}}, targets{{64}, {}};
    for (int t = 0; t < 64; ++t) {
        ids.ids.push_back(text[t]);
        targets.ids.push_back(text[t + 1]);
    }
    float first = 0, last = 0;
    for (int step = 0; step < 300; ++step) {
        flat.zero_grad();
        Tensor loss = model.loss(ids, targets);
        backward(loss);
        adam.step(learning_rate(step, 20, 300, 3e-3f, 3e-4f), gradient_clip(flat, 1.0).scale);
        (step == 0 ? first : last) = loss.item();
    }
    INFO("loss " << first << " → " << last);
    REQUIRE(first > 4.f);
    REQUIRE(last < 0.05f);
}
