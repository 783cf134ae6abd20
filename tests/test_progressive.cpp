// Progressive layer training (train/progressive.h): block b trains from step b·N on; a frozen block
// neither moves nor gathers moments, the lower block and the embeddings do; a run with it resumes
// bitwise. Run: ./bin/tests "[progressive]"
#include "autograd/graph.h"
#include "tests/helpers.h"
#include "tests/train_helpers.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/progressive.h"
#include "train/trainer.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
// Flat values of the parameters whose name starts with `prefix`.
std::vector<float> values_of(const FlatParameters& flat, const std::string& prefix) {
    std::vector<float> out;
    for (const FlatParameters::Slot& s : flat.slots())
        if (s.name.rfind(prefix, 0) == 0) {
            const std::vector<float> v = s.tensor.to_vector();
            out.insert(out.end(), v.begin(), v.end());
        }
    return out;
}
}  // namespace

TEST_CASE("progressive: the upper block is frozen until its step, then trains", "[progressive]") {
    GPT model(GPTConfig{.vocab = 20, .context = 8, .layers = 2, .heads = 2, .width = 16}, 3);
    FlatParameters flat(model);
    AdamW adam(flat, {});
    ProgressiveFreeze freeze(flat, 2, 2);
    REQUIRE((freeze.trainable_blocks(0) == 1 && freeze.trainable_blocks(1) == 1 && freeze.trainable_blocks(2) == 2));
    REQUIRE(freeze.trainable_blocks(100) == 2);
    const Indices ids = random_ids(2, 8, 20, 4);
    Indices targets = random_ids(1, 16, 20, 5);
    targets.shape = {16};
    auto step = [&](int64_t s) {
        flat.zero_grad();
        backward(model.loss(ids, targets));
        freeze.hold(s, flat);
        adam.step(1e-2f);
        freeze.restore(flat);
    };
    const std::vector<float> upper = values_of(flat, "blocks.1."), lower = values_of(flat, "blocks.0."),
                             embedding = values_of(flat, "wte");
    REQUIRE_FALSE(upper.empty());
    step(0), step(1);
    REQUIRE(values_of(flat, "blocks.1.") == upper);  // frozen: no update, no weight decay
    REQUIRE(values_of(flat, "blocks.0.") != lower);
    REQUIRE(values_of(flat, "wte") != embedding);
    step(2);
    REQUIRE(values_of(flat, "blocks.1.") != upper);  // thawed at step 2
    REQUIRE_THROWS_WITH(ProgressiveFreeze(flat, 0, 2), Catch::Matchers::Contains("progressive_every"));
}

TEST_CASE("progressive: a resumed run freezes and thaws bitwise like an uninterrupted one", "[progressive][train][resume]") {
    require_bitwise_resume("progressive", [](const std::string& out) {
        TrainConfig c = tiny_config(out);
        c.model.layers = 2, c.progressive_every = 8;  // block 1 thaws after the resume point
        return c;
    });
}
