// The baseline attentions: the fused causal softmax op (full and windowed) against its reference and
// gradients, and for every baseline kind (softmax, local, linear) causality and recurrent == parallel.
#include "nn/causal_attention.h"
#include "nn/kv_cache.h"
#include "nn/softmax_attention.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
// q, k, v as [B, H, T, D] views of one [B, T, 3, H, D] buffer — the layout the model produces.
QKV random_qkv(int64_t B, int64_t H, int64_t T, int64_t D, uint64_t seed) {
    return split_heads(random({B, T, 3 * H * D}, seed), H);
}
}  // namespace

TEST_CASE("fused causal attention equals the O(T^2) reference", "[attention][softmax]") {
    struct Case {
        int64_t B, H, T, D, window;
    };
    const Case c = GENERATE(Case{1, 1, 1, 4, 0}, Case{2, 3, 70, 8, 0}, Case{1, 2, 130, 16, 0}, Case{2, 2, 100, 8, 7},
                            Case{1, 1, 65, 5, 64}, Case{1, 2, 33, 3, 1},
                            Case{1, 1, 600, 8, 0}, Case{1, 1, 600, 8, 32});  // long context, many query blocks
    QKV h = random_qkv(c.B, c.H, c.T, c.D, 1);
    Tensor y = causal_softmax_attention(h.q, h.k, h.v, c.window);
    require_close(y, causal_softmax_attention_reference(h.q, h.k, h.v, c.window), 1e-4, 1e-5);
}

TEST_CASE("fused causal attention gradients", "[attention][softmax][gradcheck]") {
    const int64_t window = GENERATE(0, 3);
    Tensor q = random({1, 2, 7, 3}, 2), k = random({1, 2, 7, 3}, 3), v = random_transposed({1, 2, 7, 3}, 4);
    require_gradcheck(
        [window](const std::vector<Tensor>& in) { return causal_softmax_attention(in[0], in[1], in[2], window); },
        {q, k, v});
}

TEST_CASE("gradients stay correct across query blocks (T > block size)", "[attention][softmax]") {
    // Compare against autograd through the reference-shaped composite: softmax(mask(QKᵀ))·V.
    const int64_t T = 150, D = 4;
    Tensor q = random({1, 1, T, D}, 5), k = random({1, 1, T, D}, 6), v = random({1, 1, T, D}, 7);
    Tensor g = random({1, 1, T, D}, 8);
    for (Tensor* t : {&q, &k, &v}) t->set_requires_grad();
    backward(causal_softmax_attention(q, k, v), g);
    std::vector<Tensor> fused = {q.grad(), k.grad(), v.grad()};
    for (Tensor* t : {&q, &k, &v}) t->zero_grad();
    Tensor mask = Tensor::zeros({T, T});
    for (int64_t t = 0; t < T; ++t)
        for (int64_t u = t + 1; u < T; ++u) mask.data()[t * T + u] = -1e30f;
    Tensor scores = matmul(q, transpose(k, -1, -2)) * (1.f / std::sqrt(float(D))) + mask;
    backward(matmul(softmax(scores), v), g);
    require_close(fused[0], q.grad(), 1e-3, 1e-5);
    require_close(fused[1], k.grad(), 1e-3, 1e-5);
    require_close(fused[2], v.grad(), 1e-3, 1e-5);
}

TEST_CASE("baseline attentions never see the future", "[attention][causality]") {
    const std::string kind = GENERATE("softmax", "local", "linear", "delta");
    GPTConfig config{.vocab = 10, .context = 40, .layers = 1, .heads = 2, .width = 8, .attention = kind, .window = 5};
    Rng rng(9);
    std::unique_ptr<Attention> attn = make_attention(config, 0, rng);
    Tensor x = random({2, 40, 8}, 10);
    Tensor y = attn->forward(x);
    const int64_t t = 17;
    Tensor x2 = x.clone();
    for (int64_t u = t + 1; u < 40; ++u)
        for (int64_t c = 0; c < 8; ++c) x2.data()[(1 * 40 + u) * 8 + c] += 3.f;  // perturb the future of row 1
    Tensor y2 = attn->forward(x2);
    for (int64_t u = 0; u <= t; ++u)
        for (int64_t c = 0; c < 8; ++c) REQUIRE(y2.at({1, u, c}) == y.at({1, u, c}));
    REQUIRE(y2.at({1, t + 1, 0}) != y.at({1, t + 1, 0}));
}

TEST_CASE("recurrent steps (KV cache or running state) equal the parallel form token by token", "[attention][recurrent]") {
    const std::string kind = GENERATE("softmax", "local", "linear", "delta");
    GPTConfig config{.vocab = 10, .context = 30, .layers = 1, .heads = 2, .width = 12, .attention = kind, .window = 4};
    Rng rng(11);
    std::unique_ptr<Attention> attn = make_attention(config, 0, rng);
    Tensor x = random({3, 30, 12}, 12);
    Tensor parallel = attn->forward(x);
    NoGradGuard no_grad;
    std::unique_ptr<AttentionCache> cache = attn->new_cache(3, 30);
    for (int64_t t = 0; t < 30; ++t) {
        Tensor y_t = attn->step(raw::contiguous(raw::select(x, 1, t)), *cache);
        require_close(y_t, raw::select(parallel, 1, t), 1e-4, 1e-5);
    }
}

TEST_CASE("the KV cache of a window keeps only the window, and says when it is full", "[attention][recurrent]") {
    GPTConfig config{.vocab = 10, .context = 30, .layers = 1, .heads = 2, .width = 12, .attention = "local", .window = 4};
    Rng rng(11);
    std::unique_ptr<Attention> attn = make_attention(config, 0, rng);
    REQUIRE(dynamic_cast<KVCache&>(*attn->new_cache(3, 30)).slots() == 4);
    config.attention = "softmax";
    REQUIRE(dynamic_cast<KVCache&>(*make_attention(config, 0, rng)->new_cache(3, 30)).slots() == 30);
    KVCache cache(1, 1, 2, 2, 0);
    Tensor q = random({1, 1, 2}, 1);
    cache.attend(q, q, q);
    cache.attend(q, q, q);
    REQUIRE_THROWS_WITH(cache.attend(q, q, q), Catch::Contains("full at 2 positions"));
    REQUIRE_THROWS_WITH(cache.attend(random({1, 2, 2}, 2), q, q), Catch::Contains("[1, 1, 2]"));
}

TEST_CASE("unknown attention kinds list the known ones", "[attention][errors]") {
    GPTConfig config{.attention = "quantum"};
    Rng rng(1);
    REQUIRE_THROWS_WITH(make_attention(config, 0, rng), Catch::Contains("quantum") && Catch::Contains("softmax"));
}
