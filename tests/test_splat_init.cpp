// Placing splats from the data (splat/splat_init.h): k-means++ finds known clusters, PCA puts
// centres on the principal axis, a model placed either way trains, and bad keys are refused.
// Run: ./bin/tests "[splat_init]"
#include <cmath>

#include "splat/register.h"
#include "splat/splat_attention.h"
#include "splat/splat_init.h"
#include "autograd/graph.h"
#include "tests/helpers.h"
#include "train/train_config.h"

using namespace splatlm;
using Catch::Contains;

namespace {

// `per` points around each of `centres` (K×D, row-major) with N(0, σ²) noise per coordinate.
Points clustered(const std::vector<double>& centres, int64_t K, int64_t D, int64_t per, double sigma, uint64_t seed) {
    Rng rng(seed);
    Points p{.count = K * per, .dim = D, .x = std::vector<double>(size_t(K * per * D))};
    std::vector<float> noise(size_t(K * per * D));
    rng.normal(noise.data(), int64_t(noise.size()), 0.f, float(sigma));
    for (int64_t i = 0; i < K * per; ++i)
        for (int64_t d = 0; d < D; ++d) p.x[size_t(i * D + d)] = centres[size_t((i % K) * D + d)] + noise[size_t(i * D + d)];
    return p;
}

}  // namespace

TEST_CASE("k-means++ finds known clusters, with their radii, the same for a seed", "[splat_init]") {
    const int64_t K = 4, D = 6;
    std::vector<double> truth(size_t(K * D), 0.0);
    for (int64_t j = 0; j < K; ++j) truth[size_t(j * D + j)] = 10.0, truth[size_t(j * D + 4)] = -3.0 * double(j);
    const double sigma = 0.5;
    const Points keys = clustered(truth, K, D, 100, sigma, 7);
    const Placement p = kmeans(keys, K, 42);
    for (int64_t j = 0; j < K; ++j) {  // every true centre has a found centre near it
        double best = INFINITY, radius = 0;
        for (int64_t i = 0; i < K; ++i) {
            const double d = std::sqrt(squared_distance(&truth[size_t(j * D)], p.centres.row(i), D));
            if (d < best) best = d, radius = p.radii[i];
        }
        REQUIRE(best < 0.3);
        REQUIRE(radius == Approx(sigma * std::sqrt(double(D))).epsilon(0.15));  // √(E‖noise‖²) = σ√D
    }
    REQUIRE(kmeans(keys, K, 42).centres.x == p.centres.x);
}

TEST_CASE("PCA spreads centres along the keys' principal axis", "[splat_init]") {
    const int64_t N = 500, D = 8, K = 4;
    std::vector<double> u = {0.6, 0.8, 0, 0, 0, 0, 0, 0}, centre = {1, 2, 3, 4, 5, 6, 7, 8};
    Rng rng(3);
    Points keys{.count = N, .dim = D, .x = std::vector<double>(size_t(N * D))};
    for (int64_t i = 0; i < N; ++i) {
        std::vector<float> z(static_cast<size_t>(D + 1));
        rng.normal(z.data(), D + 1);
        for (int64_t d = 0; d < D; ++d) keys.x[size_t(i * D + d)] = centre[d] + 5.0 * z[D] * u[d] + 0.2 * z[d];
    }
    const Placement p = pca_placement(keys, K);
    std::vector<double> along;
    for (int64_t j = 0; j < K; ++j) {
        std::vector<double> off(static_cast<size_t>(D));
        double norm = 0, dot = 0;
        for (int64_t d = 0; d < D; ++d) off[d] = p.centres.row(j)[d] - centre[d], norm += off[d] * off[d], dot += off[d] * u[d];
        REQUIRE(std::abs(dot) / std::sqrt(norm) > 0.99);  // on the axis
        along.push_back(dot);
    }
    // evenly from −1.5 to +1.5 standard deviations (5 here), in order along ±u
    REQUIRE(std::abs(along[0] - along[3]) == Approx(15.0).epsilon(0.1));
    REQUIRE(std::abs(along[1] - along[2]) == Approx(5.0).epsilon(0.1));
}

TEST_CASE("splat_init places a model's splats deterministically; bad values are refused", "[splat_init][errors]") {
    register_splat_attentions();
    const GPTConfig config{.vocab = 20, .context = 16, .layers = 2, .heads = 2, .width = 16, .attention = "splat", .splats = 4};
    Indices ids{{2, 16}, std::vector<int32_t>(32)};
    for (int i = 0; i < 32; ++i) ids.ids[i] = (i * 7) % 20;
    for (const char* method : {"kmeans", "pca"}) {
        GPT a(config, 5), b(config, 5), random(config, 5);
        REQUIRE(initialise_splats(a, ids, method, 9) == 2);
        initialise_splats(b, ids, method, 9);
        for (int64_t layer = 0; layer < 2; ++layer) {
            auto& pa = dynamic_cast<SplatAttention&>(a.block(layer).attention());
            auto& pb = dynamic_cast<SplatAttention&>(b.block(layer).attention());
            auto& pr = dynamic_cast<SplatAttention&>(random.block(layer).attention());
            REQUIRE(pa.centres.to_vector() == pb.centres.to_vector());
            REQUIRE(pa.centres.to_vector() != pr.centres.to_vector());
            // Layer 0's head 0 centres are k-means (or PCA) of exactly its keys.
            if (layer == 0) {
                const Points keys = head_points(pa.head_views(a.attention_input(ids, 0)).k, 0);
                const Placement p = std::string(method) == "kmeans" ? kmeans(keys, 4, rng_hash(9, 0)) : pca_placement(keys, 4);
                for (int64_t i = 0; i < 4 * config.head_dim(); ++i) REQUIRE(pa.centres.data()[i] == float(p.centres.x[i]));
                REQUIRE(pa.log_scale.data()[1] == float(std::log(p.radii[1])));
            }
        }
        // a training step runs from the placed splats and moves them
        a.set_training(true);
        Tensor loss = a.loss(ids, ids);
        REQUIRE(std::isfinite(loss.item()));
        backward(loss);
        auto& pa = dynamic_cast<SplatAttention&>(a.block(0).attention());
        double g = 0;
        for (float x : pa.centres.grad().to_vector()) g += std::abs(x);
        REQUIRE(g > 0);
    }
    TrainConfig c;
    c.splat_init = "kmeans";
    c.validate();
    c.splat_init = "kmeens";
    REQUIRE_THROWS_WITH(c.validate(), Contains("splat_init") && Contains("kmeens"));
    c.splat_init = "pca", c.model.attention = "softmax";
    REQUIRE_THROWS_WITH(c.validate(), Contains("splat_init") && Contains("softmax"));
}
