// test_viz_train.cpp — the pictures of a training run and what feeds them: splat usage statistics
// (splat/splat_stats.h), curves from metrics.jsonl (train/curves.h), splat-field frames with a
// fixed plane, the dashboard, softmax-vs-splat attention and the splat hierarchy picture.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "splat/splat_attention.h"
#include "splat/splat_stats.h"
#include "tensor/error.h"
#include "train/curves.h"
#include "train/dashboard.h"
#include "viz/contact_sheet.h"
#include "viz/splat_files.h"
#include "viz/splat_hierarchy.h"
#include "tests/viz_helpers.h"
#include "viz/style.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {

Indices some_tokens(int64_t B, int64_t T) {
    Indices ids{{B, T}, {}};
    for (int64_t i = 0; i < B * T; ++i) ids.ids.push_back(int32_t(32 + (i * 7) % 90));
    return ids;
}

}  // namespace

TEST_CASE("splat stats: finite and in range on a tiny model, none for softmax", "[viz]") {
    auto model = tiny_model(4);
    const auto stats = splat_stats(*model, some_tokens(2, 12));
    REQUIRE(stats.size() == 2);
    for (const SplatLayerStats& s : stats) {
        REQUIRE(s.heads == 2);
        REQUIRE(s.splats == 4);
        REQUIRE(std::isfinite(s.mean_scale));
        REQUIRE(s.mean_scale > 0);
        REQUIRE(s.entropy >= 0.0);
        REQUIRE(s.entropy <= 1.0 + 1e-9);
        REQUIRE(s.dead >= 0);
        REQUIRE(s.dead <= 8);
        REQUIRE((s.mi_token >= 0 && s.mi_token <= 2.0 + 1e-9));  // at most log2 K = 2 bits
        REQUIRE((s.mi_position >= 0 && s.mi_position <= 2.0 + 1e-9));
    }
    REQUIRE(splat_stats(*model, some_tokens(2, 12)).front().entropy == stats.front().entropy);  // deterministic
    auto softmax = tiny_model(4, "softmax");
    REQUIRE(splat_stats(*softmax, some_tokens(1, 5)).empty());
    REQUIRE_THROWS_AS(splat_stats(*model, some_tokens(1, 25)), Error);  // longer than the context
    REQUIRE(splat_stats(*tiny_model(1), some_tokens(1, 3)).front().entropy == 1.0);  // K = 1
}

TEST_CASE("mutual information: independent labels 0 bits, a copy its entropy, a function of the other", "[viz]") {
    const std::vector<int64_t> a{0, 1, 2, 3, 0, 1, 2, 3}, pair{0, 0, 1, 1, 0, 0, 1, 1}, half{0, 0, 0, 0, 1, 1, 1, 1};
    REQUIRE(mutual_information(a, a) == Approx(2.0));           // H(a) = 2 bits
    REQUIRE(mutual_information(a, pair) == Approx(1.0));        // pair = a / 2 carries 1 bit of it
    REQUIRE(mutual_information(pair, half) == Approx(0.0).margin(1e-12));  // independent
    REQUIRE_THROWS_AS(mutual_information(a, std::vector<int64_t>{1}), Error);  // lengths differ
}

TEST_CASE("splat stats: a collapsed configuration has low entropy and dead splats", "[viz]") {
    auto model = tiny_model(4);
    auto& attn = dynamic_cast<SplatAttention&>(model->block(0).attention());
    {
        NoGradGuard no_grad;
        float* la = attn.log_amp.data();
        for (int64_t i = 0; i < attn.log_amp.numel(); ++i) la[i] = i % 4 == 0 ? 40.f : -40.f;  // splat 0 takes all
        float* ls = attn.log_scale.data();
        for (int64_t i = 0; i < attn.log_scale.numel(); ++i) ls[i] = 3.f;  // wide: distance hardly matters
    }
    const auto stats = splat_stats(*model, some_tokens(2, 12));
    REQUIRE(stats[0].entropy < 0.05);
    REQUIRE(stats[0].dead == 2 * 3);
    REQUIRE(stats[0].mean_scale == Approx(std::exp(3.0)));
    REQUIRE(stats[1].entropy > stats[0].entropy);
}

TEST_CASE("splat stats follow top-p routing", "[viz][top]") {
    // Equal centres and scales: every splat of a head sees the same distance, so lq ties (top-1 reads
    // go to splat 0, the lower index) and lk is decided by the amplitudes: log a = 3 on splat 0 gives
    // it every top-1 write. Dense, splats 1-3 still hold writes and get ~4% of the reads each.
    for (int64_t top : {int64_t(0), int64_t(1)}) {
        CAPTURE(top);
        auto model = tiny_model(4, "splat", top);
        auto& attn = dynamic_cast<SplatAttention&>(model->block(0).attention());
        {
            NoGradGuard no_grad;
            std::fill_n(attn.centres.data(), attn.centres.numel(), 0.f);
            std::fill_n(attn.log_scale.data(), attn.log_scale.numel(), 3.f);
            for (int64_t i = 0; i < attn.log_amp.numel(); ++i) attn.log_amp.data()[i] = i % 4 == 0 ? 3.f : 0.f;
        }
        const SplatLayerStats s = splat_stats(*model, some_tokens(2, 12))[0];
        REQUIRE(s.dead == (top ? 2 * 3 : 0));
        if (top) REQUIRE(s.entropy == 0.0);
        else REQUIRE(s.entropy > 0.2);
    }
}

namespace {

// A small metrics.jsonl as the trainer writes it: training lines, evaluation lines with splat
// stats for two layers, a sample line.
std::string metrics_text(int steps, bool with_splats = true) {
    std::string s;
    for (int i = 1; i <= steps; ++i) {
        s += "{\"step\": " + std::to_string(i) + ", \"tokens\": " + std::to_string(i * 96) + ", \"loss\": " +
             std::to_string(4.0 / (1 + 0.1 * i)) + ", \"lr\": " + std::to_string(1e-3 * std::min(1.0, i / 5.0)) + "}\n";
        if (i % 5 == 0 || i == steps) {
            s += "{\"step\": " + std::to_string(i) + ", \"val_loss\": " + std::to_string(4.2 / (1 + 0.08 * i));
            if (with_splats)
                s += ", \"splat_scale\": [" + std::to_string(2.0 + 0.01 * i) + ", " + std::to_string(2.5 - 0.02 * i) +
                     "], \"splat_entropy\": [" + std::to_string(0.9 - 0.01 * i) + ", 0.8], \"splat_dead\": [0, " +
                     std::to_string(i / 10) + "]";
            s += "}\n";
        }
    }
    return s + "{\"step\": " + std::to_string(steps) + ", \"sample\": \"abc\"}\n";
}

}  // namespace

TEST_CASE("training curves: loss, tokens, lr and splat panels; valid, not blank, deterministic", "[viz]") {
    const TrainingCurves a = training_curves(metrics_text(230)), b = training_curves(metrics_text(230));  // window > 1
    REQUIRE(a.panels.size() == 6);
    REQUIRE(a.skipped == 0);
    const viz::Canvas grid = viz::compose_grid(a.panels, 2, "run"), again = viz::compose_grid(b.panels, 2, "run");
    require_good_picture(grid, again, grid.width(), grid.height());
    for (const viz::Panel& p : a.panels) REQUIRE(brightness_variance(p.image) > 100.0);
    // A softmax run has no splat panels.
    REQUIRE(training_curves(metrics_text(30, false)).panels.size() == 3);
    REQUIRE(training_curves(metrics_text(30)).panels.size() == 6);
}

TEST_CASE("training curves: degenerate logs draw, NaN/Inf/null are skipped and counted", "[viz]") {
    SECTION("one training line") { REQUIRE(training_curves("{\"step\": 1, \"loss\": 3.0, \"lr\": 0.001}\n").panels.size() == 2); }
    SECTION("a constant series") {
        std::string s;
        for (int i = 1; i <= 5; ++i) s += "{\"step\": " + std::to_string(i) + ", \"loss\": 2.0, \"lr\": 0.001}\n";
        REQUIRE(brightness_variance(training_curves(s).panels[0].image) > 100.0);
    }
    SECTION("non-finite values") {
        const std::string s = "{\"step\": 1, \"loss\": 3.0, \"lr\": 0.001}\n{\"step\": 2, \"loss\": null, \"lr\": 0.001}\n"
                              "{\"step\": 3, \"loss\": 2.0, \"lr\": 0.001}\n"
                              "{\"step\": 3, \"val_loss\": 2.5, \"splat_scale\": [null], \"splat_entropy\": [0.5], \"splat_dead\": [1]}\n";
        const TrainingCurves c = training_curves(s);
        REQUIRE(c.skipped == 2);  // the raw null loss and the null scale
        REQUIRE(c.panels.size() == 5);
    }
    SECTION("no training loss is a clear error") {
        REQUIRE_THROWS_AS(training_curves(""), Error);
        REQUIRE_THROWS_AS(training_curves("{\"step\": 1, \"val_loss\": 2.0}\n"), Error);
    }
}

namespace {

std::string temp_dir(const std::string& name) {
    const std::string dir = std::filesystem::temp_directory_path().string() + "/splatlm_viz_" + name + "_" +
                            std::to_string(getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

std::vector<std::uint8_t> file_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A tiny splat model and a frame writer on a fresh directory: what the frame tests draw.
struct FrameRig {
    std::unique_ptr<GPT> model = tiny_model(3);
    CharTokenizer tokenizer;
    viz::TextCodec codec = viz::TextCodec::of(tokenizer);
    std::string dir;
    viz::SplatFrames frames;
    explicit FrameRig(const std::string& name) : dir(temp_dir(name)), frames(dir, "hello splats") {}
};

}  // namespace

TEST_CASE("splat frames: numbered for ffmpeg, one size, fixed plane; the splats move", "[viz]") {
    FrameRig rig("frames");
    auto& [model, tokenizer, codec, dir, frames] = rig;
    REQUIRE(frames.write(*model, codec, 10) == dir + "/00001.png");
    {  // training moves the centres
        NoGradGuard no_grad;
        auto& attn = dynamic_cast<SplatAttention&>(model->block(0).attention());
        for (int64_t i = 0; i < attn.centres.numel(); ++i) attn.centres.data()[i] += 0.3f;
    }
    REQUIRE(frames.write(*model, codec, 20) == dir + "/00002.png");
    const auto a = file_bytes(dir + "/00001.png"), b = file_bytes(dir + "/00002.png");
    REQUIRE(be32(a, 16) == be32(b, 16));  // same width and height, as ffmpeg needs
    REQUIRE(be32(a, 20) == be32(b, 20));
    REQUIRE(a != b);
    // A second writer (a resumed run) continues the numbering.
    viz::SplatFrames resumed(dir, "hello splats");
    REQUIRE(resumed.write(*model, codec, 30) == dir + "/00003.png");
    // The contact sheet holds all three frames, shrunk to fit 1600 pixels: 4 columns of 3 frames → one row.
    const std::vector<std::string> files = viz::frame_files(dir);
    REQUIRE(files.size() == 3);
    const int frame_w = int(be32(a, 16)), frame_h = int(be32(a, 20)), factor = (3 * frame_w + 1599) / 1600;
    const viz::Canvas sheet = viz::contact_sheet(files);
    REQUIRE(sheet.width() >= 3 * (frame_w / factor));
    REQUIRE(sheet.width() < 3 * (frame_w / factor) + 64);
    REQUIRE(sheet.height() >= frame_h / factor);
    REQUIRE(sheet.height() < frame_h / factor + 64);
    REQUIRE(brightness_variance(sheet) > 100.0);
    const std::vector<std::string> written = viz::assemble_frames(dir, dir);
    REQUIRE(!written.empty());
    REQUIRE(written[0] == dir + "/splat_frames.png");
    for (const std::string& path : written) REQUIRE(std::filesystem::file_size(path) > 1000);  // the MP4 too, with ffmpeg
    REQUIRE(viz::assemble_frames(temp_dir("no_frames"), dir).empty());
    REQUIRE_THROWS_AS(viz::contact_sheet({dir + "/99999.png"}), Error);
    // A model without splats has no frames.
    REQUIRE_THROWS_AS(viz::SplatFrames(temp_dir("frames_softmax")).write(*tiny_model(3, "softmax"), codec, 1), Error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("splat frames: the next frame marks the splats an event of the drawn layer touched", "[viz]") {
    FrameRig rig("frames_events");
    auto& [model, tokenizer, codec, dir, frames] = rig;
    auto event = [](int64_t layer, int64_t head, std::vector<int64_t> splats, const char* kind) {
        SplatEvent e;
        e.step = 5, e.layer = layer, e.head = head, e.splats = std::move(splats), e.kind = kind;
        return e;
    };
    frames.write(*model, codec, 10);  // fixes the plane; later frames say so
    const std::string plain = frames.write(*model, codec, 10);
    // Events of another layer, or of a head the frame does not draw, change nothing.
    frames.remember({event(1, 0, {0}, "birth"), event(0, 7, {0}, "death")});
    const std::string elsewhere = frames.write(*model, codec, 10);
    REQUIRE(file_bytes(elsewhere) == file_bytes(plain));
    // Each kind of event of layer 0 changes the frame after it, and only that one.
    for (const char* kind : {"birth", "death", "mitosis", "merge", "rescue"}) {
        frames.remember({event(0, 1, {2, 0}, kind)});
        const std::string marked = frames.write(*model, codec, 10);
        REQUIRE(file_bytes(marked) != file_bytes(plain));
        REQUIRE(be32(file_bytes(marked), 20) == be32(file_bytes(plain), 20));  // one size, as ffmpeg needs
        REQUIRE(file_bytes(frames.write(*model, codec, 10)) == file_bytes(plain));
    }
    // The words differ, so the frames do.
    frames.remember({event(0, 0, {1}, "birth")});
    const auto born = file_bytes(frames.write(*model, codec, 10));
    frames.remember({event(0, 0, {1}, "death")});
    REQUIRE(file_bytes(frames.write(*model, codec, 10)) != born);
    // A splat the head does not have, or a kind nobody logs, is an error.
    frames.remember({event(0, 0, {3}, "birth")});
    REQUIRE_THROWS_AS(frames.write(*model, codec, 10), Error);
    frames.remember({event(0, 0, {1}, "explode")});
    REQUIRE_THROWS_AS(frames.write(*model, codec, 10), Error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("splat field in a fixed view: same plane, box only grows", "[viz]") {
    auto model = tiny_model(3);
    const CharTokenizer tokenizer;
    const viz::TextCodec codec = viz::TextCodec::of(tokenizer);
    const viz::SplatSample s = viz::inspect_text(*model, codec, "abcabc", 0);
    viz::FieldView v = viz::fit_field_view(s.heads[0]);
    viz::FieldView small = v;
    small.lo_u = small.hi_u = small.lo_v = small.hi_v = 0;
    viz::widen(small, v);
    REQUIRE(small.lo_u <= v.lo_u);
    REQUIRE(small.hi_v >= v.hi_v);
    // Drawing with the head's own view is the default drawing.
    REQUIRE(viz::draw_splat_field_head(s.heads[0], s.labels, &v).encode_png() ==
            viz::draw_splat_field_head(s.heads[0], s.labels).encode_png());
}

TEST_CASE("dashboard: splat panels, curves and summary for a splat run; curves and summary otherwise", "[viz]") {
    const std::string dir = temp_dir("dashboard");
    {
        std::ofstream(dir + "/metrics.jsonl") << metrics_text(20);
    }
    const CharTokenizer tokenizer;
    TrainConfig config;
    auto model = tiny_model(3);
    DashboardInput in{model.get(), &tokenizer, &config, 20, dir, "a short sample", 0};
    const auto summary = model_summary(in, 1.5);
    REQUIRE(summary.front() == "attention: splat, 3 splats/head");
    REQUIRE(summary.back() == "validation loss: 1.5000 nats/token");
    write_dashboard(in, dir + "/a.png");
    write_dashboard(in, dir + "/b.png");
    const auto a = file_bytes(dir + "/a.png");
    REQUIRE(a == file_bytes(dir + "/b.png"));
    REQUIRE(be32(a, 16) > 1000);

    auto softmax = tiny_model(3, "softmax");
    std::filesystem::remove(dir + "/metrics.jsonl");  // no log: the curves panel says so
    DashboardInput plain{softmax.get(), &tokenizer, nullptr, 0, dir, "", 0};
    REQUIRE(model_summary(plain, NAN).back() == "validation loss: none logged");
    write_dashboard(plain, dir + "/c.png");
    REQUIRE(file_bytes(dir + "/c.png").size() > 33);
    REQUIRE_THROWS_AS(write_dashboard(DashboardInput{model.get(), &tokenizer, nullptr, 0, dir, "", 0}, dir + "/d.png"), Error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("attention comparison: softmax weights are causal distributions; the picture pairs heads", "[viz]") {
    auto splat = tiny_model(3);
    auto softmax = tiny_model(3, "softmax");
    const CharTokenizer tokenizer;
    const viz::TextCodec codec = viz::TextCodec::of(tokenizer);
    const viz::SplatSample s = viz::inspect_text(*splat, codec, "the cat sat", 1);
    const std::vector<int32_t> ids = tokenizer.encode("the cat sat");
    const viz::AttentionSample a = viz::inspect_softmax(*softmax, ids, s.labels, 1);
    REQUIRE(a.heads.size() == 2);
    const int64_t T = int64_t(ids.size());
    for (const auto& w : a.heads)
        for (int64_t t = 0; t < T; ++t) {
            double sum = 0;
            for (int64_t u = 0; u < T; ++u) {
                if (u > t) REQUIRE(w[size_t(t * T + u)] == 0.f);
                sum += w[size_t(t * T + u)];
            }
            REQUIRE(sum == Approx(1.0));
        }
    const viz::Canvas c = viz::draw_attention_comparison(s, a, "compare");
    require_good_picture(c, viz::draw_attention_comparison(s, a, "compare"), c.width(), c.height());
    // One token (k = 1 row) still draws.
    const viz::SplatSample s1 = viz::inspect_text(*splat, codec, "x", 0);
    const viz::AttentionSample a1 = viz::inspect_softmax(*softmax, tokenizer.encode("x"), s1.labels, 0);
    REQUIRE(a1.heads[0][0] == 1.f);
    viz::draw_attention_comparison(s1, a1, "one token");
    // Errors: a splat model is not a softmax model; different tokens; empty text.
    REQUIRE_THROWS_AS(viz::inspect_softmax(*splat, ids, s.labels, 0), Error);
    REQUIRE_THROWS_AS(viz::draw_attention_comparison(s1, a, "x"), Error);
    REQUIRE_THROWS_AS(viz::inspect_softmax(*softmax, {}, {}, 0), Error);
}

namespace {

// Stands in for a hierarchical splat layer: the parameters by the names the picture reads.
struct FakeHierarchy : Module {
    FakeHierarchy(int64_t H, int64_t K, int64_t L, bool decay) {
        std::vector<float> ls(size_t(H * K)), lw(size_t(H * L)), ld(size_t(H * K));
        for (int64_t h = 0; h < H; ++h)
            for (int64_t j = 0; j < K; ++j) {
                ls[size_t(h * K + j)] = float(j / (K / L)) + 0.1f * float(h) + 0.05f * float(j % 3);  // level l ~ e^l
                ld[size_t(h * K + j)] = -float(j % 5) - float(h);
            }
        for (int64_t i = 0; i < H * L; ++i) lw[size_t(i)] = float(i % 3) - 1.f;
        add_parameter("centres", Tensor::zeros({H, K, 4}));
        add_parameter("log_scale", Tensor::from_vector(ls, {H, K}));
        if (L > 1) add_parameter("level_weight", Tensor::from_vector(lw, {H, L}));
        if (decay) add_parameter("log_decay", Tensor::from_vector(ld, {H, K}));
    }
};

}  // namespace

TEST_CASE("hierarchy: reads levels, level weights and decay by name and draws them", "[viz]") {
    SECTION("3 levels with decay") {
        const FakeHierarchy m(2, 12, 3, true);
        const viz::SplatHierarchy h = viz::read_hierarchy(m, 3);
        REQUIRE(h.heads == 2);
        REQUIRE(h.splats == 12);
        REQUIRE(h.level_of(0) == 0);
        REQUIRE(h.level_of(4) == 1);
        REQUIRE(h.level_of(11) == 2);
        REQUIRE(h.level_weight.size() == 6);
        REQUIRE(h.log_decay.size() == 24);
        const viz::Canvas c = viz::draw_hierarchy(h, "hierarchy");
        require_good_picture(c, viz::draw_hierarchy(viz::read_hierarchy(m, 3), "hierarchy"), c.width(), c.height());
        const viz::Canvas strip = viz::draw_decay_strip(h, 64, "memory");
        require_good_picture(strip, viz::draw_decay_strip(h, 64, "memory"), strip.width(), strip.height());
        REQUIRE(count_color(strip, viz::style::kNote) > 20);  // the context line and its label
        REQUIRE_THROWS_AS(viz::draw_decay_strip(viz::read_hierarchy(FakeHierarchy(2, 12, 3, false), 3), 64, "m"), Error);
    }
    SECTION("one level, one splat, a real splat layer") {
        const FakeHierarchy m(1, 1, 1, false);
        const viz::SplatHierarchy h = viz::read_hierarchy(m, 1);
        REQUIRE(h.level_weight.empty());
        REQUIRE(brightness_variance(viz::draw_hierarchy(h, "flat")) > 100.0);
        auto model = tiny_model(4);
        REQUIRE(viz::read_hierarchy(model->block(0).attention(), 1).splats == 4);
    }
    SECTION("clear errors") {
        const FakeHierarchy m(2, 12, 3, false);
        REQUIRE_THROWS_AS(viz::read_hierarchy(m, 5), Error);  // 5 does not divide 12
        REQUIRE_THROWS_AS(viz::read_hierarchy(m, 4), Error);  // level_weight is [2, 3], not [2, 4]
        auto softmax = tiny_model(3, "softmax");
        REQUIRE_THROWS_AS(viz::read_hierarchy(softmax->block(0).attention(), 1), Error);
    }
}
