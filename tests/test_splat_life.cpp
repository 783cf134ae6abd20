// Splat life events (splat/splat_lifecycle.h): a split keeps the model's output (exactly with no
// offset, within a stated tolerance with the mitosis offset), two identical splats merge exactly;
// after death, birth, mitosis and merge every parameter and moment has its shape, the touched slots'
// moments are zero and the others' kept, empty slots get exactly zero gradients and do not move, a
// training step runs, and the model stays causal and generates step by step what it computes in
// parallel, with a different live count per head. Run: ./bin/tests "[splat_life]"
#include <cmath>
#include <map>
#include <set>

#include "autograd/graph.h"
#include "splat/register.h"
#include "splat/splat_attention.h"
#include "splat/splat_health.h"
#include "splat/splat_lifecycle.h"
#include "tensor/ops.h"
#include "tests/helpers.h"
#include "train/host_model.h"
#include "train/splat_adaptation.h"
#include "train/splat_lives.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {

// Dense routing, every per-splat variant on (decay and send gate are copied, averaged and reset too).
const GPTConfig kConfig{.vocab = 20, .context = 16, .layers = 2, .heads = 2, .width = 16, .attention = "splat",
                        .splats = 8, .max_splats = 12, .splat_decay = true, .splat_gate = true,
                        .splat_token_decay = true};

SplatAttention& attention(GPT& model, int64_t layer) { return dynamic_cast<SplatAttention&>(model.block(layer).attention()); }

Indices targets() {
    Indices t = random_ids(1, 32, 20, 5);
    t.shape = {32};
    return t;
}

double max_abs(const std::vector<float>& x) {
    double m = 0;
    for (float v : x) m = std::max(m, double(std::fabs(v)));
    return m;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
    return m;
}

// Trains a few steps so that the moments are not zero.
void warm_up(GPT& model, FlatParameters& flat, AdamW& adam, const Indices& ids) {
    for (int i = 0; i < 3; ++i) {
        flat.zero_grad();
        backward(model.loss(ids, targets()));
        adam.step(1e-3f);
    }
}

// Sets up every kind of event and takes the two health checks that make them due; returns the last.
// Layer 1, head 0: splat 3 sent far away (dies), splat 5 a copy of splat 4 (a collapsed pair);
// head 1: splat 0 wide and the others narrow (splat 0 is overloaded, the others die).
// Layer 0, head 1: every splat narrow (most queries uncovered: births).
std::vector<LayerHealth> provoke_events(GPT& model, const Indices& ids, SplatHealthTracker& tracker) {
    SplatAttention& a = attention(model, 1);
    const int64_t K = a.splats(), D = a.centres.size(2);
    for (int64_t d = 0; d < D; ++d) a.centres.data()[3 * D + d] = 1000.f, a.centres.data()[5 * D + d] = a.centres.data()[4 * D + d];
    a.log_scale.data()[5] = a.log_scale.data()[4];
    a.log_scale.data()[K] = 3.f;
    for (int64_t j = 1; j < 8; ++j) a.log_scale.data()[K + j] = -4.f;
    for (int64_t j = 0; j < 8; ++j) attention(model, 0).log_scale.data()[K + j] = -4.f;
    std::vector<LayerHealth> health;
    for (int64_t step : {1, 2}) {
        health = measure_splat_health(model, ids);
        tracker.record(step, health);
    }
    return health;
}

}  // namespace

TEST_CASE("mitosis keeps the output; two identical splats merge exactly", "[splat_life]") {
    register_splat_attentions();
    GPT model(kConfig, 3);
    const Indices ids = random_ids(2, 16, 20, 4);
    const std::vector<float> before = model.forward(ids).to_vector();
    SplatAttention& a = attention(model, 1);
    const int64_t D = a.centres.size(2);
    std::vector<double> u(static_cast<size_t>(D), 0.0);
    u[1] = 0.6, u[3] = -0.8;  // a unit direction

    // With no offset the two halves write and read exactly what the parent did (to float rounding).
    split_splat(a, 0, 2, 9, u.data(), 0.0);
    REQUIRE(a.live_splats(0) == 9);
    const std::vector<float> halves = model.forward(ids).to_vector();
    REQUIRE(max_diff(halves, before) <= 1e-5 * max_abs(before));
    // ...and merging the two identical halves gives the parent back, parameters and output.
    merge_splats(a, 0, 2, 9);
    REQUIRE(a.live_splats(0) == 8);
    REQUIRE(max_diff(model.forward(ids).to_vector(), before) <= 1e-5 * max_abs(before));
    GPT fresh(kConfig, 3);
    SplatAttention& f = attention(fresh, 1);
    const std::vector<SlotSlice> merged = slot_parameters(a, 0, 2), original = slot_parameters(f, 0, 2);
    for (size_t i = 0; i < merged.size(); ++i)
        for (int64_t e = 0; e < merged[i].count; ++e)
            REQUIRE(merged[i].param.data()[merged[i].first + e] ==
                    Approx(original[i].param.data()[original[i].first + e]).margin(1e-6));

    // The mitosis offset δ = kMitosisOffset·s moves the children apart; the first order cancels, so
    // the logits move by O(δ²/s²) = O(2.5e-3) of the affinities: stated tolerance 1e-3 of the largest logit.
    const double s = std::exp(double(a.log_scale.data()[2]));
    split_splat(a, 0, 2, 9, u.data(), kMitosisOffset * s);
    const std::vector<float> split = model.forward(ids).to_vector();
    REQUIRE(max_diff(split, before) <= 1e-3 * max_abs(before));
    REQUIRE(max_diff(split, before) > 0);  // the children are not the parent
}

TEST_CASE("every life event keeps shapes and moments right; the model trains, is causal and steps = parallel",
          "[splat_life]") {
    register_splat_attentions();
    GPT model(kConfig, 3);
    FlatParameters flat(model);
    AdamW adam(flat, {});
    const Indices ids = random_ids(2, 16, 20, 4);
    warm_up(model, flat, adam, ids);
    SplatAttention& a = attention(model, 1);
    const int64_t K = a.splats(), D = a.centres.size(2);
    REQUIRE(K == 12);
    REQUIRE((a.live_splats(0) == 8 && a.live_splats(1) == 8));

    SplatHealthTracker tracker(2);
    const std::vector<LayerHealth> health = provoke_events(model, ids, tracker);
    REQUIRE(tracker.dead({1, 0, 3}));
    REQUIRE(health[1].heads[1].splats[0].read_share > 0.5);

    const std::vector<float> m_before = adam.m().to_vector(), v_before = adam.v().to_vector();
    std::vector<std::vector<float>> params_before;
    for (const Tensor& p : model.parameters()) params_before.push_back(p.to_vector());
    const LifePolicy policy{.death = true, .birth = true, .mitosis = true, .merge = true, .seat_on_queries = true, .min_splats = 2};
    const std::vector<SplatEvent> events = adapt_splats(model, ids, health, tracker, policy, 3);
    std::map<std::string, int> kinds;
    for (const SplatEvent& e : events) {
        ++kinds[e.kind];
        for (int64_t j : e.splats) {
            REQUIRE_FALSE(tracker.dead({e.layer, e.head, j}));
            for (const SlotSlice& s : slot_parameters(attention(model, e.layer), e.head, j))
                reset_moments(flat, adam, s.param, s.first, s.count);
        }
    }
    INFO("events: death " << kinds["death"] << ", merge " << kinds["merge"] << ", mitosis " << kinds["mitosis"]
                          << ", birth " << kinds["birth"]);
    REQUIRE((kinds["death"] >= 1 && kinds["merge"] >= 1 && kinds["mitosis"] >= 1 && kinds["birth"] >= 1));
    REQUIRE_FALSE(a.live_mask()[3]);  // the far splat's slot is empty
    std::set<int64_t> live_counts;  // K differs per head
    for (int64_t layer : {0, 1})
        for (int64_t h : {0, 1}) live_counts.insert(attention(model, layer).live_splats(h));
    REQUIRE(live_counts.size() >= 2);

    // Shapes as before; the touched slots' moments are zero, every other moment is unchanged.
    std::vector<bool> touched(size_t(flat.size()), false);
    for (const SplatEvent& e : events)
        for (int64_t j : e.splats)
            for (const SlotSlice& s : slot_parameters(attention(model, e.layer), e.head, j))
                for (const FlatParameters::Slot& slot : flat.slots())
                    if (slot.tensor.data() == s.param.data())
                        for (int64_t i = 0; i < s.count; ++i) touched[size_t(slot.offset + s.first + i)] = true;
    const std::vector<float> m_after = adam.m().to_vector(), v_after = adam.v().to_vector();
    int64_t kept = 0;
    for (size_t i = 0; i < m_after.size(); ++i) {
        if (touched[i]) {
            REQUIRE((m_after[i] == 0.f && v_after[i] == 0.f));
        } else {
            REQUIRE((m_after[i] == m_before[i] && v_after[i] == v_before[i]));
            kept += m_before[i] != 0.f;
        }
    }
    REQUIRE(kept > 1000);
    const std::vector<Tensor> params = model.parameters();
    for (size_t i = 0; i < params.size(); ++i) REQUIRE(params[i].to_vector().size() == params_before[i].size());

    // A training step: finite, empty slots get exactly zero gradients and stay where they are.
    const std::vector<float> empty_centre(a.centres.data() + 3 * D, a.centres.data() + 4 * D);
    flat.zero_grad();
    Tensor loss = model.loss(ids, targets());
    REQUIRE(std::isfinite(loss.item()));
    backward(loss);
    for (const SlotSlice& s : slot_parameters(a, 0, 3))
        for (const FlatParameters::Slot& slot : flat.slots())
            if (slot.tensor.data() == s.param.data())
                for (int64_t i = 0; i < s.count; ++i) REQUIRE(flat.grads()[slot.offset + s.first + i] == 0.f);
    adam.step(1e-3f);
    for (float x : adam.m().to_vector()) REQUIRE(std::isfinite(x));
    REQUIRE(std::vector<float>(a.centres.data() + 3 * D, a.centres.data() + 4 * D) == empty_centre);
    REQUIRE(a.log_amp.data()[3] == kRetiredLogAmp);

    // Causal, and the recurrent step gives the parallel logits.
    Indices changed = ids;
    changed.ids[15] = (changed.ids[15] + 1) % 20;  // row 0's last token
    const Tensor logits = model.forward(ids), other = model.forward(changed);
    for (int64_t t = 0; t < 15; ++t)
        require_close(raw::select(raw::select(logits, 0, 0), 0, t), raw::select(raw::select(other, 0, 0), 0, t), 0, 0);
    GPT::Cache cache = model.new_cache(2);
    for (int64_t t = 0; t < 16; ++t)
        require_close(model.step({ids.ids[t], ids.ids[16 + t]}, cache), raw::select(logits, 1, t), 1e-4, 1e-4);
}

TEST_CASE("adaptation on a host copy written back equals adaptation in place (a GPU model's path)", "[splat_life]") {
    register_splat_attentions();
    const Indices ids = random_ids(2, 16, 20, 4);
    GPT in_place(kConfig, 3), device(kConfig, 3), host(kConfig, 99);
    SplatHealthTracker tracker_a(2), tracker_b(2);
    const std::vector<LayerHealth> health_a = provoke_events(in_place, ids, tracker_a);
    provoke_events(device, ids, tracker_b);
    copy_parameters(device, host);  // what on_host does for a model on the GPU
    const std::vector<LayerHealth> health_b = measure_splat_health(host, ids);
    const LifePolicy policy{.death = true, .birth = true, .mitosis = true, .merge = true, .min_splats = 2};
    const std::vector<SplatEvent> a = adapt_splats(in_place, ids, health_a, tracker_a, policy, 3);
    const std::vector<SplatEvent> b = adapt_splats(host, ids, health_b, tracker_b, policy, 3);
    copy_parameters(host, device);
    REQUIRE(a.size() == b.size());
    REQUIRE(a.size() >= 4);
    for (size_t i = 0; i < a.size(); ++i) REQUIRE((a[i].kind == b[i].kind && a[i].splats == b[i].splats));
    const NamedTensors x = in_place.named_parameters(), y = device.named_parameters();
    for (size_t i = 0; i < x.size(); ++i) REQUIRE(x[i].second.to_vector() == y[i].second.to_vector());
}

TEST_CASE("life policy parsing and empty slots at construction", "[splat_life]") {
    const LifePolicy p = parse_life_policy("death,mitosis");
    REQUIRE((p.death && p.mitosis && !p.rescue && !p.birth && !p.merge));
    REQUIRE_FALSE(parse_life_policy("off").death);
    REQUIRE_THROWS_WITH(parse_life_policy("rescue,split"), Catch::Matchers::Contains("splat_adapt") &&
                                                               Catch::Matchers::Contains("'split'"));
    register_splat_attentions();
    GPT model(kConfig, 3);
    SplatAttention& a = attention(model, 0);
    const std::vector<bool> live = a.live_mask();
    for (int64_t j = 0; j < 12; ++j) REQUIRE(live[j] == (j < 8));
    GPTConfig bad = kConfig;
    bad.max_splats = 6;
    REQUIRE_THROWS_WITH(bad.validate(), Catch::Matchers::Contains("max_splats"));
}

TEST_CASE("splat lives: the logs become rows per slot with their events, drawn", "[splat_lives]") {
    const std::string health =
        R"({"step":10,"layers":[{"layer":1,"heads":[{"alive":[1,1,0],"read":[0.75,0.25,0.0]}]}]})" "\n"
        R"({"step":20,"layers":[{"layer":1,"heads":[{"alive":[1,0,1],"read":[0.5,0.0,0.5]}]}]})" "\n";
    const std::string events =
        R"({"step":10,"layer":1,"head":0,"splats":[1],"kind":"death","reason":"dead","numbers":{}})" "\n"
        R"({"step":10,"layer":1,"head":0,"splats":[0,2],"kind":"mitosis","reason":"overloaded","numbers":{}})" "\n";
    const SplatLivesData d = read_splat_lives(health, events);
    REQUIRE(d.steps == std::vector<int64_t>{10, 20});
    REQUIRE(d.layers.size() == 1);
    const viz::SplatLayerLives& l = d.layers[0];
    REQUIRE((l.layer == 1 && l.heads == 1 && l.slots == 3));
    REQUIRE((l.share[0] == 0.75f && l.share[1] == 0.5f && l.share[2] == 0.25f));
    REQUIRE((std::isnan(l.share[3]) && std::isnan(l.share[4]) && l.share[5] == 0.5f));  // slot 1 emptied, slot 2 born
    REQUIRE(l.marks.size() == 3);
    REQUIRE((l.marks[0].row == 1 && l.marks[0].check == 0 && l.marks[0].kind == 'd'));
    REQUIRE((l.marks[2].row == 2 && l.marks[2].kind == 's'));
    const viz::Canvas c = viz::draw_splat_lives(d.steps, d.layers);
    REQUIRE((c.width() > 100 && c.height() > 50));
    REQUIRE_THROWS_WITH(viz::draw_splat_lives({10}, d.layers), Catch::Matchers::Contains("splat lives"));
    REQUIRE(draw_splat_health_counts(d, 320, 200).width() == 320);
    REQUIRE_THROWS(read_splat_lives("{\"step\":1}\n", ""));
}
