// test_viz_golden.cpp — golden pictures: a fixed hand-made splat head (no GEMM, no model run, so no
// -march=native difference in the numbers) drawn into every splat picture must encode to exactly the
// PNG bytes recorded in tests/golden_pictures.txt. A change to how pictures look fails here on
// purpose: look at the new pictures, then record them with
//   SPLATLM_UPDATE_GOLDEN=1 ./bin/tests "[golden]"
// (it rewrites tests/golden_pictures.txt; run from the repository root, as `make test` does).
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "splat/splat_op.h"
#include "viz/splat_hierarchy.h"
#include "viz/splat_pictures.h"

using namespace splatlm;
using namespace splatlm::viz;

namespace {

constexpr const char* kGoldenFile = "tests/golden_pictures.txt";

// FNV-1a, 64 bits: a stable hash of the PNG bytes.
std::string fnv1a(const std::vector<std::uint8_t>& bytes) {
    std::uint64_t h = 1469598103934665603ull;
    for (std::uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
    std::ostringstream out;
    out << std::hex << h;
    return out.str();
}

// Values from a fixed integer recipe (no libm), in [-1.5, 1.5).
std::vector<float> recipe(int64_t n, int64_t seed) {
    std::vector<float> v(static_cast<size_t>(n));
    std::uint32_t x = std::uint32_t(seed) * 2654435761u + 12345u;
    for (float& f : v) x = x * 1664525u + 1013904223u, f = float(int((x >> 8) % 3000) - 1500) / 1000.f;
    return v;
}

// Two heads of 12 tokens, D = 4, K = 4 splats, decay and top-2 routing; the weights, write shares
// and read-out weights from the float64 references.
SplatSample golden_sample() {
    const int64_t H = 2, T = 12, D = 4, K = 4;
    const Tensor q = Tensor::from_vector(recipe(H * T * D, 1), {1, H, T, D});
    const Tensor k = Tensor::from_vector(recipe(H * T * D, 2), {1, H, T, D});
    const Tensor centres = Tensor::from_vector(recipe(H * K * D, 3), {H, K, D});
    const Tensor log_scale = Tensor::from_vector({0.1f, -0.2f, 0.3f, 0.5f, 0.f, 0.2f, -0.1f, 0.4f}, {H, K});
    const Tensor log_amp = Tensor::from_vector({0.f, 0.5f, -0.5f, 0.2f, 0.1f, -0.3f, 0.f, 0.3f}, {H, K});
    SplatOptions o;
    o.log_decay = Tensor::from_vector({-3.f, -2.f, -1.f, 0.f, -4.f, -2.5f, -1.5f, -0.5f}, {H, K});
    o.top = 2;
    SplatSample s;
    for (char c : std::string("In the begin")) s.labels.push_back(std::string(1, c == ' ' ? '_' : c));
    for (int64_t h = 0; h < H; ++h) {
        SplatHead head;
        head.tokens = T, head.dim = D, head.splats = K, head.top = 2;
        head.q = std::vector<float>(q.data() + h * T * D, q.data() + (h + 1) * T * D);
        head.k = std::vector<float>(k.data() + h * T * D, k.data() + (h + 1) * T * D);
        head.centres = std::vector<float>(centres.data() + h * K * D, centres.data() + (h + 1) * K * D);
        head.log_scale = std::vector<float>(log_scale.data() + h * K, log_scale.data() + (h + 1) * K);
        head.log_amp = std::vector<float>(log_amp.data() + h * K, log_amp.data() + (h + 1) * K);
        head.log_decay = std::vector<float>(o.log_decay.data() + h * K, o.log_decay.data() + (h + 1) * K);
        head.weights = splat_weights_reference(q, k, centres, log_scale, log_amp, 0, h, o).to_vector();
        head.send = splat_write_shares_reference(q, k, centres, log_scale, log_amp, 0, h, o).to_vector();
        head.read = splat_read_weights_reference(q, k, centres, log_scale, log_amp, 0, h, o).to_vector();
        s.heads.push_back(std::move(head));
    }
    return s;
}

std::map<std::string, std::string> golden_hashes() {
    const SplatSample s = golden_sample();
    AttentionSample uniform{.layer = 0, .tokens = 12, .labels = s.labels, .heads = {}};
    for (int h = 0; h < 2; ++h) {  // a softmax head that attends evenly to the past
        std::vector<float> w(144, 0.f);
        for (int t = 0; t < 12; ++t)
            for (int u = 0; u <= t; ++u) w[size_t(t * 12 + u)] = 1.f / float(t + 1);
        uniform.heads.push_back(w);
    }
    SplatHierarchy hierarchy;
    hierarchy.heads = 2, hierarchy.splats = 4, hierarchy.levels = 2;
    for (const SplatHead& h : s.heads) {
        hierarchy.log_scale.insert(hierarchy.log_scale.end(), h.log_scale.begin(), h.log_scale.end());
        hierarchy.log_decay.insert(hierarchy.log_decay.end(), h.log_decay.begin(), h.log_decay.end());
    }
    hierarchy.level_weight = {0.25f, -0.5f, 0.f, 0.75f};
    return {{"attention_compare", fnv1a(draw_attention_comparison(s, uniform, "compare").encode_png())},
            {"splat_field", fnv1a(draw_splat_field(s, "field").encode_png())},
            {"splat_affinity", fnv1a(draw_splat_affinities(s, "affinity").encode_png())},
            {"splat_attention", fnv1a(draw_effective_attention(s, "attention").encode_png())},
            {"splat_routing", fnv1a(draw_routing(s, "routing").encode_png())},
            {"splat_hierarchy", fnv1a(draw_hierarchy(hierarchy, "hierarchy").encode_png())},
            {"splat_decay", fnv1a(draw_decay_strip(hierarchy, 12, "decay").encode_png())}};
}

}  // namespace

TEST_CASE("golden pictures: a fixed splat head draws byte-identical PNGs", "[viz][golden]") {
    const std::map<std::string, std::string> now = golden_hashes();
    if (std::getenv("SPLATLM_UPDATE_GOLDEN")) {
        std::ofstream out(kGoldenFile);
        REQUIRE(out.good());
        out << "# PNG hashes (FNV-1a 64) of tests/test_viz_golden.cpp's pictures; regenerate on purpose with\n"
            << "#   SPLATLM_UPDATE_GOLDEN=1 ./bin/tests \"[golden]\"\n";
        for (const auto& [name, hash] : now) out << name << ' ' << hash << '\n';
        WARN("rewrote " << kGoldenFile);
    }
    std::ifstream in(kGoldenFile);
    REQUIRE(in.good());  // run from the repository root
    std::map<std::string, std::string> recorded;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::string name, hash;
        fields >> name >> hash;
        recorded[name] = hash;
    }
    for (const auto& [name, hash] : now) {
        INFO(name << ": the picture changed; if on purpose, look at it and run SPLATLM_UPDATE_GOLDEN=1 ./bin/tests \"[golden]\"");
        REQUIRE(recorded[name] == hash);
    }
}
