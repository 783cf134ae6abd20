// Causal linear attention: the scan against the O(T²) reference, and its hand-derived backward.
#include "nn/linear_attention.h"
#include "nn/projected_attention.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

TEST_CASE("linear attention scan equals the O(T^2) reference", "[attention][linear]") {
    struct Case {
        int64_t B, H, T, D;
    };
    const Case c = GENERATE(Case{1, 1, 1, 3}, Case{2, 3, 37, 8}, Case{1, 2, 129, 16});
    QKV h = split_heads(random({c.B, c.T, 3 * c.H * c.D}, 1), c.H);  // non-contiguous views
    require_close(causal_linear_attention(h.q, h.k, h.v), causal_linear_attention_reference(h.q, h.k, h.v), 1e-4,
                  1e-5);
}

TEST_CASE("linear attention gradients", "[attention][linear][gradcheck]") {
    Tensor q = random({1, 2, 6, 3}, 2), k = random_transposed({1, 2, 6, 3}, 3), v = random({1, 2, 6, 3}, 4);
    require_gradcheck([](const std::vector<Tensor>& in) { return causal_linear_attention(in[0], in[1], in[2]); },
                      {q, k, v});
}

TEST_CASE("linear attention stays finite for large inputs", "[attention][linear]") {
    Tensor q = random({1, 1, 50, 4}, 5, 30.f), k = random({1, 1, 50, 4}, 6, 30.f), v = random({1, 1, 50, 4}, 7);
    for (Tensor* t : {&q, &k, &v}) t->set_requires_grad();
    Tensor y = causal_linear_attention(q, k, v);
    backward(sum(y));
    for (const Tensor& t : {y, q.grad(), k.grad(), v.grad()})
        for (float f : t.to_vector()) REQUIRE(std::isfinite(f));
}
