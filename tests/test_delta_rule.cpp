// The delta-rule op (nn/delta_rule.h): against the float64 recurrence, its hand-derived backward
// against finite differences (across a checkpoint boundary), thread-count independence, bad shapes.
#include <cmath>

#include "nn/delta_rule.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
// Write strengths in (0, 1): σ of a random tensor (never all equal, never 0 or 1).
Tensor random_beta(const Shape& shape, uint64_t seed) {
    Tensor b = random(shape, seed);
    for (int64_t i = 0; i < b.numel(); ++i) b.data()[i] = 1.f / (1.f + std::exp(-b.data()[i]));
    return b;
}
}  // namespace

TEST_CASE("delta rule equals the float64 recurrence", "[delta]") {
    struct Case {
        int64_t B, H, T, P, D;
    };
    const Case c = GENERATE(Case{1, 1, 1, 1, 1}, Case{2, 3, 37, 5, 7}, Case{1, 2, 2 * kDeltaChunk + 3, 8, 6});
    // keys of norm ≈ 0.8 (with ‖k‖² < 2, I − βkkᵀ is a contraction and the state stays bounded); non-contiguous views
    const float key_scale = 0.8f / std::sqrt(float(c.P));
    Tensor q = random_strided({c.B, c.H, c.T, c.P}, 1), k = random_transposed({c.B, c.H, c.T, c.P}, 2, key_scale);
    Tensor v = random_strided({c.B, c.H, c.T, c.D}, 3), beta = random_beta({c.B, c.H, c.T}, 4);
    require_close(delta_rule(q, k, v, beta), delta_rule_reference(q, k, v, beta), 1e-4, 1e-5);
}

TEST_CASE("delta rule gradients, within a chunk and across a saved state", "[delta][gradcheck]") {
    struct Case {
        int64_t B, H, T, P, D;
    };
    const Case c = GENERATE(Case{2, 2, 5, 3, 4}, Case{1, 1, kDeltaChunk + 5, 3, 2});
    Tensor q = random_transposed({c.B, c.H, c.T, c.P}, 5), k = random({c.B, c.H, c.T, c.P}, 6, 0.5f);
    Tensor v = random_strided({c.B, c.H, c.T, c.D}, 7), beta = random_beta({c.B, c.H, c.T, 1}, 8);
    require_gradcheck([](const std::vector<Tensor>& in) { return delta_rule(in[0], in[1], in[2], in[3]); },
                      {q, k, v, beta});
}

TEST_CASE("delta rule is bitwise the same for any thread count", "[delta]") {
    Tensor q = random({3, 2, 70, 4}, 9), k = random({3, 2, 70, 4}, 10, 0.4f), v = random({3, 2, 70, 5}, 11);
    Tensor beta = random_beta({3, 2, 70}, 12), g = random({3, 2, 70, 5}, 13);
    auto run = [&] {
        std::vector<Tensor> in = {q.clone(), k.clone(), v.clone(), beta.clone()};
        for (Tensor& t : in) t.set_requires_grad();
        Tensor o = delta_rule(in[0], in[1], in[2], in[3]);
        backward(o, g);
        std::vector<std::vector<float>> out = {o.to_vector()};
        for (Tensor& t : in) out.push_back(t.grad().to_vector());
        return out;
    };
    REQUIRE(with_threads(1, run) == with_threads(2, run));
}

TEST_CASE("delta rule names bad shapes", "[delta][errors]") {
    Tensor q = random({1, 2, 4, 3}, 1), v = random({1, 2, 4, 5}, 2), beta = random_beta({1, 2, 4}, 3);
    REQUIRE_THROWS_WITH(delta_rule(q, random({1, 2, 4, 2}, 4), v, beta), Catch::Contains("q and k"));
    REQUIRE_THROWS_WITH(delta_rule(q, q, random({1, 2, 5, 5}, 5), beta), Catch::Contains("v must be"));
    REQUIRE_THROWS_WITH(delta_rule(q, q, v, random({1, 2, 4, 2}, 6)), Catch::Contains("beta must be"));
}
