// viz_helpers.h — checks shared by the picture tests: a valid PNG of the stated size, not blank,
// and byte-identical when drawn again.
#pragma once
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "nn/gpt.h"
#include "splat/register.h"
#include "train/tokenizer_char.h"
#include "viz/canvas.h"

namespace splatlm::test {

inline std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
    return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
           (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// A PNG starts with the 8-byte signature, then the IHDR chunk: length, "IHDR", width, height.
inline void require_png(const std::vector<std::uint8_t>& b, int width, int height) {
    static const std::uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    REQUIRE(b.size() > 33);
    REQUIRE(std::equal(sig, sig + 8, b.begin()));
    REQUIRE(std::string(b.begin() + 12, b.begin() + 16) == "IHDR");
    REQUIRE(be32(b, 16) == static_cast<std::uint32_t>(width));
    REQUIRE(be32(b, 20) == static_cast<std::uint32_t>(height));
}

// Variance of per-pixel brightness: a blank (single-colour) picture has 0.
inline double brightness_variance(const viz::Canvas& c) {
    const auto& p = c.rgba();
    const double n = p.size() / 4.0;
    double sum = 0, sum2 = 0;
    for (std::size_t i = 0; i < p.size(); i += 4) {
        const double v = (p[i] + p[i + 1] + p[i + 2]) / 3.0;
        sum += v, sum2 += v * v;
    }
    return sum2 / n - (sum / n) * (sum / n);
}

// How many pixels of the canvas are exactly `want`.
inline int count_color(const viz::Canvas& c, viz::Rgba want) {
    int n = 0;
    for (int y = 0; y < c.height(); ++y)
        for (int x = 0; x < c.width(); ++x) n += c.pixel(x, y) == want;
    return n;
}

// The checks every finished picture must pass.
inline void require_good_picture(const viz::Canvas& a, const viz::Canvas& again, int width, int height) {
    const auto bytes = a.encode_png();
    require_png(bytes, width, height);
    REQUIRE(brightness_variance(a) > 100.0);
    REQUIRE(bytes == again.encode_png());
}

// A tiny GPT (splat by default): 2 layers, 2 heads of dimension 8, `splats` splats per head,
// context 24, with its parameters spread out so keys, queries and centres are not all near zero.
inline std::unique_ptr<GPT> tiny_model(int64_t splats = 3, const std::string& attention = "splat", int64_t top = 0) {
    register_splat_attentions();
    GPTConfig c;
    c.vocab = CharTokenizer::kVocabSize, c.context = 24, c.layers = 2, c.heads = 2, c.width = 16;
    c.attention = attention, c.splats = splats, c.splat_top = top;
    auto model = std::make_unique<GPT>(c, 7);
    NoGradGuard no_grad;
    Rng rng(11);
    for (Tensor p : model->parameters()) rng.normal(p.data(), p.numel(), 0.f, 0.4f);
    return model;
}

}  // namespace splatlm::test
