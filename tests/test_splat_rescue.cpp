// Splat health (splat/splat_health.h) and rescue (splat/splat_lifecycle.h): shares that add up, a
// splat pushed far away is dead after N checks, collapsed pairs and uncovered keys are counted;
// a rescue moves only the dead splat onto a key, zeroes only its AdamW moments, and leaves a model
// that trains, stays causal and generates step by step what it computes in parallel; training
// runs resume bitwise across rescues. Run: ./bin/tests "[splat_health]" and "[splat_rescue]"
#include <cmath>
#include <filesystem>

#include "autograd/graph.h"
#include "splat/register.h"
#include "splat/splat_attention.h"
#include "splat/splat_health.h"
#include "splat/splat_lifecycle.h"
#include "tensor/ops.h"
#include "tests/helpers.h"
#include "train/splat_adaptation.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {

const GPTConfig kConfig{.vocab = 20, .context = 16, .layers = 2, .heads = 2, .width = 16, .attention = "splat",
                        .splats = 4, .splat_decay = true};

SplatAttention& layer_attention(GPT& model, int64_t layer) {
    return dynamic_cast<SplatAttention&>(model.block(layer).attention());
}

// Splat (layer 1, head 0, splat 2) sent far from every key: nothing writes to or reads from it.
void exile(GPT& model) {
    SplatAttention& a = layer_attention(model, 1);
    const int64_t D = a.centres.size(2);
    for (int64_t d = 0; d < D; ++d) a.centres.data()[2 * D + d] = 1000.f;
}

Indices targets() {
    Indices t = random_ids(1, 32, 20, 5);
    t.shape = {32};
    return t;
}

}  // namespace

TEST_CASE("splat health: shares add up, a far splat is dead after N checks, pairs and coverage counted", "[splat_health]") {
    register_splat_attentions();
    GPT model(kConfig, 3);
    exile(model);
    const Indices ids = random_ids(2, 16, 20, 4);
    std::vector<LayerHealth> health = measure_splat_health(model, ids);
    REQUIRE(health.size() == 2);
    for (const LayerHealth& l : health)
        for (const HeadHealth& h : l.heads) {
            double write = 0, read = 0;
            for (const SplatHealth& s : h.splats) write += s.write_share, read += s.read_share;
            REQUIRE(write == Approx(1.0).epsilon(1e-5));
            REQUIRE(read == Approx(1.0).epsilon(1e-4));
            REQUIRE(h.keys == 32);
        }
    const SplatHealth& far = health[1].heads[0].splats[2];
    REQUIRE(far.read_share < 1e-6);
    REQUIRE(far.write_share < 1e-6);
    REQUIRE(health[1].heads[0].splats[1].read_share > 0.01);
    const double r = std::exp(double(layer_attention(model, 1).log_decay->data()[2]));
    REQUIRE(far.half_life == Approx(std::log(2.0) / r));
    REQUIRE(far.scale == Approx(std::exp(double(layer_attention(model, 1).log_scale.data()[2]))));

    SplatHealthTracker tracker(2, 3);
    for (int64_t step : {10, 20, 30, 40}) {
        tracker.record(step, health);
        REQUIRE(tracker.dead({1, 0, 2}) == (step >= 20));
        REQUIRE_FALSE(tracker.dead({1, 0, 1}));
    }
    REQUIRE(tracker.life({1, 0, 2}).recent.size() == 3);  // the ring keeps the last 3
    REQUIRE(health[1].heads[0].splats[2].age == 40);
    tracker.placed({1, 0, 2}, 45);
    REQUIRE_FALSE(tracker.dead({1, 0, 2}));

    // Two coincident splats are a collapsed pair; splats too narrow for any key leave every key uncovered.
    SplatAttention& a = layer_attention(model, 0);
    const int64_t D = a.centres.size(2);
    for (int64_t d = 0; d < D; ++d) a.centres.data()[1 * D + d] = a.centres.data()[d];
    a.log_scale.data()[1] = a.log_scale.data()[0];
    for (int64_t j = 0; j < 4; ++j) a.log_scale.data()[4 + j] = -8.f;  // head 1
    health = measure_splat_health(model, ids);
    REQUIRE(health[0].heads[0].collapsed_pairs >= 1);
    REQUIRE(health[0].heads[1].uncovered_keys == 32);
    REQUIRE(health[0].heads[0].uncovered_keys < 32);
}

TEST_CASE("rescue re-seats only the dead splat on a key and zeroes only its moments", "[splat_rescue]") {
    register_splat_attentions();
    GPT model(kConfig, 3);
    FlatParameters flat(model);
    AdamW adam(flat, {});
    const Indices ids = random_ids(2, 16, 20, 4);
    for (int i = 0; i < 3; ++i) {  // moments that are not zero
        flat.zero_grad();
        backward(model.loss(ids, targets()));
        adam.step(1e-3f);
    }
    exile(model);
    SplatHealthTracker tracker(2);
    std::vector<LayerHealth> health;
    for (int64_t step : {1, 2}) {
        health = measure_splat_health(model, ids);
        tracker.record(step, health);
    }
    const std::vector<float> m_before = adam.m().to_vector(), v_before = adam.v().to_vector();
    std::vector<std::vector<float>> params_before;
    for (const Tensor& p : model.parameters()) params_before.push_back(p.to_vector());

    const std::vector<SplatEvent> events = adapt_splats(model, ids, health, tracker, {.rescue = true}, 3);
    REQUIRE(events.size() == 1);
    const SplatEvent& e = events[0];
    REQUIRE((e.layer == 1 && e.head == 0 && e.splats == std::vector<int64_t>{2} && e.kind == "rescue" && e.reason == "dead"));
    REQUIRE(e.numbers[1] == std::pair<std::string, double>{"dead_streak", 2.0});
    const double new_scale = e.numbers[4].second;
    REQUIRE(new_scale > 0);
    REQUIRE_FALSE(tracker.dead({1, 0, 2}));
    SplatAttention& a = layer_attention(model, 1);
    const int64_t D = a.centres.size(2);
    // the new centre is one of the layer's keys
    const Points keys = head_points(a.head_views(model.attention_input(ids, 1)).k, 0);
    bool on_a_key = false;
    for (int64_t t = 0; t < keys.count; ++t) {
        bool same = true;
        for (int64_t d = 0; d < D; ++d) same = same && float(keys.row(t)[d]) == a.centres.data()[2 * D + d];
        on_a_key = on_a_key || same;
    }
    REQUIRE(on_a_key);
    REQUIRE(a.log_scale.data()[2] == float(std::log(new_scale)));
    REQUIRE(a.log_amp.data()[2] == 0.f);

    // the trainer's moment reset: the moved splat's moments are zero, every other moment is unchanged
    reset_moments(flat, adam, a.centres, 2 * D, D);
    reset_moments(flat, adam, a.log_scale, 2, 1);
    reset_moments(flat, adam, a.log_amp, 2, 1);
    const std::vector<float> m_after = adam.m().to_vector(), v_after = adam.v().to_vector();
    std::vector<bool> reset(m_after.size(), false);
    for (const FlatParameters::Slot& s : flat.slots()) {
        if (s.tensor.data() == a.centres.data())
            for (int64_t d = 0; d < D; ++d) reset[size_t(s.offset + 2 * D + d)] = true;
        if (s.tensor.data() == a.log_scale.data() || s.tensor.data() == a.log_amp.data()) reset[size_t(s.offset + 2)] = true;
    }
    int64_t zeroed = 0, nonzero_kept = 0;
    for (size_t i = 0; i < m_after.size(); ++i) {
        if (reset[i]) {
            REQUIRE(m_before[i] != 0.f);
            REQUIRE((m_after[i] == 0.f && v_after[i] == 0.f));
            ++zeroed;
        } else {
            REQUIRE((m_after[i] == m_before[i] && v_after[i] == v_before[i]));
            nonzero_kept += m_before[i] != 0.f;
        }
    }
    REQUIRE(zeroed == D + 2);
    REQUIRE(nonzero_kept > 1000);
    // only the rescued splat's parameters moved; every shape is as before
    const std::vector<Tensor> params = model.parameters();
    int64_t changed = 0;
    for (size_t i = 0; i < params.size(); ++i) {
        const std::vector<float> now = params[i].to_vector();
        REQUIRE(now.size() == params_before[i].size());
        for (size_t k = 0; k < now.size(); ++k) changed += now[k] != params_before[i][k];
    }
    REQUIRE(changed <= D + 2);
    REQUIRE(changed >= D);

    // the model still trains, is causal, and generates step by step what it computes in parallel
    flat.zero_grad();
    Tensor loss = model.loss(ids, targets());
    REQUIRE(std::isfinite(loss.item()));
    backward(loss);
    adam.step(1e-3f);
    for (float x : adam.m().to_vector()) REQUIRE(std::isfinite(x));
    Indices changed_ids = ids;
    changed_ids.ids[15] = (changed_ids.ids[15] + 1) % 20;  // row 0's last token
    const Tensor logits = model.forward(ids), other = model.forward(changed_ids);
    for (int64_t t = 0; t < 15; ++t)
        require_close(raw::select(raw::select(logits, 0, 0), 0, t), raw::select(raw::select(other, 0, 0), 0, t), 0, 0);
    REQUIRE(raw::select(raw::select(logits, 0, 0), 0, 15).to_vector() != raw::select(raw::select(other, 0, 0), 0, 15).to_vector());
    GPT::Cache cache = model.new_cache(2);
    for (int64_t t = 0; t < 16; ++t)
        require_close(model.step({ids.ids[t], ids.ids[16 + t]}, cache), raw::select(logits, 1, t), 1e-4, 1e-4);
}
