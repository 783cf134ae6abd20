// test_viz_splat.cpp — the splat pictures (viz/splat_pictures.h) and what feeds them: the PCA plane
// (viz/pca.h), the layer inspection of a real in-memory splat GPT (viz/splat_inspect.h) and the
// PNG files of `splatlm viz` / the trainer (viz/splat_files.h). Every picture must decode as a PNG
// of its canvas's size, not be blank, and come out byte-identical from the same input; degenerate
// input (one token, one splat, a cloud with no variance) must still draw, and bad requests (empty
// text, a layer out of range, a softmax model) must throw splatlm::Error with a clear message.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "splat/register.h"
#include "splat/splat_attention.h"
#include "tensor/error.h"
#include "train/tokenizer_char.h"
#include "viz/pca.h"
#include "viz/splat_files.h"
#include "viz/splat_pictures.h"
#include "viz/splat_top_tokens.h"
#include "tests/viz_helpers.h"

using namespace splatlm;
using namespace splatlm::viz;
using namespace splatlm::test;

namespace {

// The byte tokenizer as the pictures take it (one static tokenizer outlives every codec).
TextCodec char_codec() {
    static const CharTokenizer tokenizer;
    return TextCodec::of(tokenizer);
}

SplatSample inspect_text(GPT& model, const std::string& text, int64_t layer = 0) {
    const CharTokenizer tokenizer;
    const std::vector<int32_t> ids = tokenizer.encode(text);
    std::vector<std::string> labels;
    for (int32_t id : ids) labels.push_back(token_label(tokenizer.token_text(id)));
    return inspect_splats(model, ids, labels, layer);
}

// A valid PNG of the canvas's size, not one flat colour (the shared picture checks).
void require_good_png(const Canvas& picture) {
    require_png(picture.encode_png(), picture.width(), picture.height());
    REQUIRE(brightness_variance(picture) > 100.0);
}

// Every picture kind of a sample, each checked and compared byte for byte with a fresh redraw.
void require_good_pictures(GPT& model, const std::string& text) {
    const SplatSample a = inspect_text(model, text), b = inspect_text(model, text);
    const Canvas pictures[3] = {draw_splat_field(a, "field"), draw_splat_affinities(a, "affinity"),
                                draw_effective_attention(a, "attention")};
    const Canvas again[3] = {draw_splat_field(b, "field"), draw_splat_affinities(b, "affinity"),
                             draw_effective_attention(b, "attention")};
    for (int i = 0; i < 3; ++i) {
        require_good_png(pictures[i]);
        REQUIRE(pictures[i].encode_png() == again[i].encode_png());
    }
}

}  // namespace

TEST_CASE("principal plane: finds the spread directions, and survives clouds with none", "[viz]") {
    SECTION("points spread along x (variance 4) and y (variance 1) in R^3") {
        const std::vector<float> pts = {2, 0, 5, -2, 0, 5, 0, 1, 5, 0, -1, 5};
        const Plane p = principal_plane(pts, 4, 3);
        REQUIRE(p.variance[0] == Approx(2.0));  // (4 + 4 + 0 + 0) / 4
        REQUIRE(p.variance[1] == Approx(0.5));
        REQUIRE(std::abs(p.axis[0][0]) == Approx(1.0));
        REQUIRE(std::abs(p.axis[1][1]) == Approx(1.0));
        REQUIRE(p.mean[2] == Approx(5.0));
        REQUIRE(p.residual_variance == Approx(0.0).margin(1e-9));
        const std::vector<float> off = {0, 0, 8};
        REQUIRE(p.off_plane_sq(off) == Approx(9.0));
    }
    SECTION("identical points: zero variance, still an orthonormal pair of axes") {
        const std::vector<float> pts = {1, 2, 3, 1, 2, 3};
        const Plane p = principal_plane(pts, 2, 3);
        REQUIRE(p.variance[0] == 0.0);
        REQUIRE(p.variance[1] == 0.0);
        double d00 = 0, d11 = 0, d01 = 0;
        for (int i = 0; i < 3; ++i)
            d00 += p.axis[0][i] * p.axis[0][i], d11 += p.axis[1][i] * p.axis[1][i], d01 += p.axis[0][i] * p.axis[1][i];
        REQUIRE(d00 == Approx(1.0));
        REQUIRE(d11 == Approx(1.0));
        REQUIRE(d01 == Approx(0.0).margin(1e-12));
    }
    SECTION("points on a line: the second axis is degenerate and orthogonal to the first") {
        const std::vector<float> pts = {0, 0, 1, 1, 2, 2};
        const Plane p = principal_plane(pts, 3, 2);
        REQUIRE(p.variance[0] == Approx(4.0 / 3.0));
        REQUIRE(p.variance[1] == Approx(0.0).margin(1e-9));
        REQUIRE(p.axis[0][0] * p.axis[1][0] + p.axis[0][1] * p.axis[1][1] == Approx(0.0).margin(1e-9));
    }
    REQUIRE_THROWS_AS(principal_plane({}, 0, 3), Error);
}

TEST_CASE("splat pictures of a tiny splat GPT are valid, non-blank and deterministic", "[viz]") {
    auto holder = tiny_model();
    GPT& model = *holder;
    require_good_pictures(model, "In the beginning God");
    const SplatSample s = inspect_text(model, "abc", 1);
    REQUIRE(s.heads.size() == 2);
    REQUIRE(s.heads[0].tokens == 3);
    REQUIRE(s.labels == std::vector<std::string>{"a", "b", "c"});
    // The implied weights are causal: nothing above the diagonal, the first token sees only itself.
    REQUIRE(s.heads[1].weights[1] == 0.f);
    REQUIRE(s.heads[1].weights[0] == Approx(1.0).epsilon(1e-4));
    // The heatmaps show one row per token: more tokens, a taller picture.
    REQUIRE(draw_effective_attention(inspect_text(model, "abcdefgh"), "").height() >
            draw_effective_attention(inspect_text(model, "ab"), "").height());
}

TEST_CASE("splat field: an empty slot (splat_attention.h) far away neither widens the view nor is drawn", "[viz]") {
    auto holder = tiny_model();
    SplatSample s = inspect_text(*holder, "In the beginning God");
    SplatHead& head = s.heads[0];
    const FieldView before = fit_field_view(head), splats_before = fit_splat_view(head);
    const Canvas picture = draw_splat_field(s, "field");
    const int64_t D = int64_t(head.centres.size() / head.log_scale.size());
    for (int64_t d = 0; d < D; ++d) head.centres[size_t(D + d)] = 1e4f;  // slot 1, emptied
    head.log_amp[1] = kRetiredLogAmp;
    const FieldView after = fit_field_view(head);
    REQUIRE(after.hi_u - after.lo_u < 2 * (before.hi_u - before.lo_u) + 1);
    const FieldView splats_after = fit_splat_view(head);
    REQUIRE(std::isfinite(splats_after.hi_u));
    REQUIRE(splats_after.hi_u - splats_after.lo_u < 1e3);
    REQUIRE(splats_before.hi_u - splats_before.lo_u < 1e3);
    REQUIRE(draw_splat_field(s, "field").width() == picture.width());
}

TEST_CASE("splat pictures: one token, one splat, and a cloud with no variance still draw", "[viz]") {
    auto one_splat_holder = tiny_model(1);
    GPT& one_splat = *one_splat_holder;
    require_good_pictures(one_splat, "x");
    require_good_pictures(one_splat, "hello");

    // Every key and query the same point: the PCA plane is degenerate, the splats still show.
    SplatHead h;
    h.tokens = 4, h.dim = 3, h.splats = 2;
    h.q = h.k = std::vector<float>(12, 0.5f);
    h.centres = {0.5f, 0.5f, 0.5f, 2.f, -1.f, 0.f};
    h.log_scale = {0.f, -0.5f};
    h.log_amp = {0.f, 1.f};
    const Canvas flat = draw_splat_field_head(h, {"a", "a", "a", "a"});
    require_good_png(flat);
    REQUIRE(flat.encode_png() == draw_splat_field_head(h, {"a", "a", "a", "a"}).encode_png());
}

TEST_CASE("splat pictures: bad requests fail with a clear splatlm::Error", "[viz]") {
    auto holder = tiny_model();
    GPT& model = *holder;
    REQUIRE_THROWS_WITH(inspect_text(model, ""), Catch::Contains("empty"));
    REQUIRE_THROWS_WITH(inspect_text(model, "abc", 2), Catch::Contains("layer 2 is out of range"));
    REQUIRE_THROWS_WITH(inspect_text(model, "abc", -1), Catch::Contains("out of range"));
    REQUIRE_THROWS_WITH(inspect_text(model, std::string(25, 'a')), Catch::Contains("context length"));
    auto softmax_holder = tiny_model(3, "softmax");
    GPT& softmax = *softmax_holder;
    REQUIRE(first_splat_layer(softmax) == -1);
    REQUIRE(first_splat_layer(model) == 0);
    REQUIRE_THROWS_WITH(inspect_text(softmax, "abc"), Catch::Contains("attention=splat"));
    REQUIRE_THROWS_AS(write_splat_pictures(model, char_codec(), "", 0, "."), Error);
}

TEST_CASE("write_splat_pictures writes the three PNGs and truncates text to the context", "[viz]") {
    auto holder = tiny_model();
    GPT& model = *holder;
    const auto dir = std::filesystem::temp_directory_path() / ("splatlm_viz_splat_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const SplatPictureFiles files = write_splat_pictures(model, char_codec(), std::string(30, 'z'), 1, dir.string());
    REQUIRE(files.tokens_given == 30);
    REQUIRE(files.tokens_used == 24);
    REQUIRE(files.paths == std::vector<std::string>{(dir / "splat_field.png").string(),
                                                    (dir / "splat_affinity.png").string(),
                                                    (dir / "splat_attention.png").string()});
    for (const std::string& path : files.paths) {
        std::ifstream in(path, std::ios::binary);
        const std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
        REQUIRE(bytes.size() > 1000);
        REQUIRE(std::string(bytes.begin() + 1, bytes.begin() + 4) == "PNG");
    }
    const SplatPictureFiles field = write_splat_pictures(model, char_codec(), "ab", 0, dir.string(), true);
    REQUIRE(field.paths.size() == 1);
    // A top-p model adds the routing picture; heads = 1 keeps one head, so a smaller field.
    auto routed = tiny_model(3, "splat", 2);
    const SplatPictureFiles top = write_splat_pictures(*routed, char_codec(), "abcab", 0, dir.string(), false, 1);
    REQUIRE(top.paths.back() == (dir / "splat_routing.png").string());
    SplatSample both = inspect_text(*routed, "abcab");
    SplatSample one = both;
    keep_heads(one, 1);
    REQUIRE(one.heads.size() == 1);
    REQUIRE(draw_splat_field(one, "f").height() < draw_splat_field(both, "f").height());
    keep_heads(both, 0);  // 0: all heads
    REQUIRE(both.heads.size() == 2);
    std::filesystem::remove_all(dir);
}

TEST_CASE("inspect_splats: the pictures' weights times V are the op's own output, every option on", "[viz][top]") {
    register_splat_attentions();
    GPTConfig c;
    c.vocab = CharTokenizer::kVocabSize, c.context = 24, c.layers = 1, c.heads = 2, c.width = 16;
    c.attention = "splat", c.splats = 6, c.splat_levels = 2, c.splat_top = 3, c.splat_decay = true, c.splat_gate = true;
    GPT model(c, 7);
    {
        NoGradGuard no_grad;
        Rng rng(11);
        for (Tensor p : model.parameters()) rng.normal(p.data(), p.numel(), 0.f, 0.4f);
    }
    const SplatSample s = inspect_text(model, "In the beginning God");
    for (const SplatHead& h : s.heads) {
        const int64_t T = h.tokens, D = h.dim, K = h.splats;
        REQUIRE((h.top == 3 && h.gated && int64_t(h.log_decay.size()) == K));
        double largest = 0;
        for (int64_t t = 0; t < T; ++t) {
            for (int64_t d = 0; d < D; ++d) {
                double implied = 0;
                for (int64_t u = 0; u <= t; ++u) implied += double(h.weights[t * T + u]) * h.v[u * D + d];
                REQUIRE(implied == Approx(h.y[t * D + d]).margin(2e-5));
                largest = std::max(largest, std::abs(implied));
            }
            // Each token writes to exactly its top 3 splats, shares summing to 1; it reads from at most 3.
            int writes = 0, reads = 0;
            double share = 0;
            for (int64_t j = 0; j < K; ++j) {
                writes += h.send[t * K + j] > 0, reads += h.read[t * K + j] > 0;
                share += h.send[t * K + j];
            }
            REQUIRE(writes == 3);
            REQUIRE(reads <= 3);
            REQUIRE(share == Approx(1.0));
        }
        REQUIRE(largest > 0.05);  // not a comparison of zeros
    }
    // The routing picture exists for top-p layers; the heatmaps take the write shares.
    const Canvas routing = draw_routing(s, "routing");
    require_good_picture(routing, draw_routing(inspect_text(model, "In the beginning God"), "routing"), routing.width(),
                         routing.height());
    require_good_png(draw_splat_affinities(s, "affinities"));
    require_good_png(draw_splat_field(s, "field"));
}

TEST_CASE("splat top tokens: write shares summed per distinct token, largest first; empty slots have none", "[viz]") {
    SplatHead head;
    head.tokens = 4, head.dim = 2, head.splats = 3;
    head.log_amp = {0.f, -0.5f, kRetiredLogAmp};
    head.send = {0.9f, 0.1f, 0.f,   // a
                 0.2f, 0.8f, 0.f,   // b
                 0.6f, 0.4f, 0.f,   // a
                 0.5f, 0.5f, 0.f};  // c
    const std::vector<std::string> labels{"a", "b", "a", "c"};
    const auto top = top_write_tokens(head, labels, 2);
    REQUIRE(top.size() == 3);
    REQUIRE(top[0].size() == 2);
    REQUIRE(top[0][0].label == "a");  // its two occurrences: 0.9 + 0.6
    REQUIRE(top[0][0].mass == Approx(1.5));
    REQUIRE(top[0][1].label == "c");
    REQUIRE(top[0][1].mass == Approx(0.5));
    REQUIRE(top[1][0].label == "b");
    REQUIRE(top[1][1].label == "a");  // a and c tie at 0.5: the first to occur comes first
    REQUIRE(top[2].empty());
    SplatSample sample;
    sample.labels = labels;
    sample.heads = {head};
    REQUIRE(top_token_lines(sample, 3) == std::vector<std::string>{"head 0 splat 0 (55% of writes): a 1.50, c 0.50, b 0.20",
                                                                 "head 0 splat 1 (45% of writes): b 0.80, a 0.50, c 0.50"});
    REQUIRE_THROWS_AS(top_write_tokens(head, labels, 0), Error);
    REQUIRE_THROWS_AS(top_write_tokens(head, {"a", "b"}, 2), Error);
}
