// Finite-difference gradient checks for every differentiable op, on contiguous, transposed and
// strided inputs and with broadcasting. Tolerances: float32 ops, h = 1e-2, atol 1e-3, rtol 1e-2
// (GradCheckOptions defaults) unless a test states otherwise.
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
enum class Layout { Contiguous, Transposed, Strided };

Tensor make(Layout layout, const Shape& shape, uint64_t seed, float scale = 1.f) {
    switch (layout) {
        case Layout::Transposed: return random_transposed(shape, seed, scale);
        case Layout::Strided: return random_strided(shape, seed, scale);
        default: return random(shape, seed, scale);
    }
}

// Strictly positive values in [0.5, 2): for log, sqrt, div and pow.
Tensor positive(Layout layout, const Shape& shape, uint64_t seed) {
    Tensor x = make(layout, shape, seed);
    NoGradGuard ng;
    Tensor p = raw::affine(raw::unary(Unary::Sigmoid, x), 1.5f, 0.5f);
    if (layout == Layout::Contiguous) return p;
    Tensor into = x;  // keep x's non-contiguous layout, overwrite its values
    raw::copy_into(into, p);
    return into;
}
}  // namespace

TEST_CASE("gradcheck: unary ops", "[autograd][gradcheck]") {
    Layout layout = GENERATE(Layout::Contiguous, Layout::Transposed, Layout::Strided);
    const Shape shape{3, 5};
    using F = Tensor (*)(const Tensor&);
    struct Case {
        const char* name;
        F f;
        bool positive_only;
    };
    const Case cases[] = {
        {"neg", [](const Tensor& x) { return neg(x); }, false},
        {"exp", [](const Tensor& x) { return exp(x); }, false},
        {"log", [](const Tensor& x) { return log(x); }, true},
        {"sqrt", [](const Tensor& x) { return sqrt(x); }, true},
        {"tanh", [](const Tensor& x) { return tanh(x); }, false},
        {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, false},
        {"gelu", [](const Tensor& x) { return gelu(x); }, false},
        {"square", [](const Tensor& x) { return square(x); }, false},
        {"elu_plus_one", [](const Tensor& x) { return elu_plus_one(x); }, false},
        {"log_sigmoid", [](const Tensor& x) { return log_sigmoid(x); }, false},
        {"pow 1.5", [](const Tensor& x) { return pow(x, 1.5f); }, true},
        {"add_scalar", [](const Tensor& x) { return x + 0.7f; }, false},
        {"mul_scalar", [](const Tensor& x) { return x * -1.3f; }, false},
    };
    uint64_t seed = 10;
    for (const Case& c : cases) {
        SECTION(c.name) {
            Tensor x = c.positive_only ? positive(layout, shape, seed) : make(layout, shape, seed);
            require_gradcheck([&](const std::vector<Tensor>& in) { return c.f(in[0]); }, {x});
        }
        ++seed;
    }
}

TEST_CASE("log_sigmoid stays finite and exact where log(sigmoid(x)) underflows", "[autograd]") {
    Tensor x = Tensor::from_vector({-200.f, -30.f, -1.f, 0.f, 2.5f, 200.f}, {6});
    Tensor y = log_sigmoid(x);
    for (int64_t i = 0; i < 6; ++i) {
        const double xi = x.at({i});
        const double expect = std::min(xi, 0.0) - std::log1p(std::exp(-std::abs(xi)));
        CHECK(std::abs(double(y.at({i})) - expect) <= 1e-6 * std::max(1.0, std::abs(expect)));
    }
}

TEST_CASE("gradcheck: relu away from its kink", "[autograd][gradcheck]") {
    // relu is not differentiable at 0; keep every input at least 0.1 away from it.
    Tensor x = Tensor::from_vector({-1.2f, 0.3f, -0.4f, 2.f, 0.1f, -0.15f}, {2, 3});
    require_gradcheck([](const std::vector<Tensor>& in) { return relu(in[0]); }, {x}, {.eps = 1e-3});
}

TEST_CASE("gradcheck: binary ops with broadcasting", "[autograd][gradcheck]") {
    Layout layout = GENERATE(Layout::Contiguous, Layout::Transposed);
    struct Shapes {
        Shape a, b;
    };
    const Shapes shapes = GENERATE(Shapes{{4, 3}, {4, 3}}, Shapes{{4, 3}, {3}}, Shapes{{2, 4, 3}, {4, 1}},
                                   Shapes{{1, 3}, {4, 1}});
    Tensor a = make(layout, shapes.a, 21), b = make(Layout::Contiguous, shapes.b, 22);
    Tensor bp = positive(Layout::Contiguous, shapes.b, 23);
    SECTION("add") { require_gradcheck([](const std::vector<Tensor>& in) { return in[0] + in[1]; }, {a, b}); }
    SECTION("sub") { require_gradcheck([](const std::vector<Tensor>& in) { return in[0] - in[1]; }, {a, b}); }
    SECTION("mul") { require_gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[1]; }, {a, b}); }
    SECTION("div") { require_gradcheck([](const std::vector<Tensor>& in) { return in[0] / in[1]; }, {a, bp}); }
    SECTION("maximum") {
        // Ties make maximum non-differentiable; random normals are never within h of each other here.
        require_gradcheck([](const std::vector<Tensor>& in) { return maximum(in[0], in[1]); }, {a, b}, {.eps = 1e-3});
    }
}

TEST_CASE("gradcheck: reductions", "[autograd][gradcheck]") {
    Layout layout = GENERATE(Layout::Contiguous, Layout::Transposed, Layout::Strided);
    Tensor x = make(layout, {4, 6}, 31);
    SECTION("sum all") { require_gradcheck([](const std::vector<Tensor>& in) { return sum(in[0]); }, {x}); }
    SECTION("mean all") { require_gradcheck([](const std::vector<Tensor>& in) { return mean(in[0]); }, {x}); }
    for (int64_t axis : {0, 1, -1}) {
        for (bool keep : {false, true}) {
            SECTION("sum/mean/max axis " + std::to_string(axis) + (keep ? " keepdim" : "")) {
                require_gradcheck([=](const std::vector<Tensor>& in) { return sum(in[0], axis, keep); }, {x});
                require_gradcheck([=](const std::vector<Tensor>& in) { return mean(in[0], axis, keep); }, {x});
                require_gradcheck([=](const std::vector<Tensor>& in) { return max(in[0], axis, keep); }, {x}, {.eps = 1e-3});
            }
        }
    }
    SECTION("max all") { require_gradcheck([](const std::vector<Tensor>& in) { return max(in[0]); }, {x}, {.eps = 1e-3}); }
}

TEST_CASE("gradcheck: views", "[autograd][gradcheck]") {
    Tensor x = random_transposed({3, 4, 5}, 41);
    SECTION("reshape") { require_gradcheck([](const std::vector<Tensor>& in) { return reshape(in[0], {5, -1}) * 1.f; }, {x}); }
    SECTION("permute") { require_gradcheck([](const std::vector<Tensor>& in) { return permute(in[0], {2, 0, 1}) * 1.f; }, {x}); }
    SECTION("transpose") { require_gradcheck([](const std::vector<Tensor>& in) { return transpose(in[0], 0, 2) * 1.f; }, {x}); }
    SECTION("select") { require_gradcheck([](const std::vector<Tensor>& in) { return select(in[0], 2, 3) * 1.f; }, {x}); }
    SECTION("slice") { require_gradcheck([](const std::vector<Tensor>& in) { return slice(in[0], 1, 1, 4) * 1.f; }, {x}); }
    SECTION("expand") {
        Tensor y = random({3, 1, 5}, 42);
        require_gradcheck([](const std::vector<Tensor>& in) { return expand(in[0], {2, 3, 4, 5}) * 1.f; }, {y});
    }
    SECTION("contiguous") { require_gradcheck([](const std::vector<Tensor>& in) { return contiguous(in[0]) * 1.f; }, {x}); }
}

TEST_CASE("gradcheck: matmul, all transpose combinations and batch broadcasting", "[autograd][gradcheck]") {
    bool ta = GENERATE(false, true), tb = GENERATE(false, true);
    Tensor a = ta ? random_transposed({5, 7}, 51) : random({5, 7}, 51);
    Tensor b = tb ? random_transposed({7, 3}, 52) : random({7, 3}, 52);
    require_gradcheck([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {a, b});
    SECTION("batched with a shared weight") {
        Tensor x = random({2, 4, 7}, 53);
        require_gradcheck([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {x, b});
    }
    SECTION("broadcast batch axes") {
        Tensor x = random({2, 1, 4, 7}, 54), y = random({3, 7, 2}, 55);
        require_gradcheck([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {x, y});
    }
}

TEST_CASE("gradcheck: linear with and without bias, on strided and transposed operands", "[autograd][gradcheck]") {
    const bool bias = GENERATE(false, true);
    Tensor x = GENERATE(as<int>{}, 0, 1, 2) == 0 ? random({2, 3, 7}, 56) : random_strided({5, 7}, 57);
    Tensor w = random_transposed({4, 7}, 58), b = random({4}, 59);
    auto f = [bias](const std::vector<Tensor>& in) { return linear(in[0], in[1], bias ? in[2] : Tensor()); };
    require_gradcheck(f, bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w});
}

TEST_CASE("gradcheck: softmax, log_softmax, layernorm", "[autograd][gradcheck]") {
    Layout layout = GENERATE(Layout::Contiguous, Layout::Transposed);
    Tensor x = make(layout, {3, 6}, 61, 2.f);
    SECTION("softmax") { require_gradcheck([](const std::vector<Tensor>& in) { return softmax(in[0]); }, {x}); }
    SECTION("log_softmax") { require_gradcheck([](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, {x}); }
    SECTION("layernorm") {
        Tensor w = random({6}, 62), b = random({6}, 63);
        require_gradcheck([](const std::vector<Tensor>& in) { return layernorm(in[0], in[1], in[2]); }, {x, w, b},
                          {.eps = 1e-2, .atol = 2e-3, .rtol = 2e-2});
    }
}

TEST_CASE("gradcheck: embedding and cross-entropy", "[autograd][gradcheck]") {
    SECTION("embedding with repeated ids (scatter-add)") {
        Tensor table = random({5, 4}, 71);
        Indices ids{{2, 3}, {4, 1, 1, 0, 4, 2}};
        require_gradcheck([&](const std::vector<Tensor>& in) { return embedding(in[0], ids); }, {table});
    }
    SECTION("cross-entropy with an ignored row") {
        Tensor logits = random({2, 3, 7}, 72, 2.f);
        Indices targets{{6}, {0, 6, 3, -1, 2, 2}};
        require_gradcheck([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], targets); }, {logits});
    }
    SECTION("cross-entropy on transposed logits") {
        Tensor logits = random_transposed({4, 5}, 73);
        Indices targets{{4}, {1, 4, 0, 2}};
        require_gradcheck([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], targets); }, {logits});
    }
}

TEST_CASE("gradcheck: dropout with a fixed mask", "[autograd][gradcheck]") {
    Tensor x = random({4, 5}, 81);
    // The same seed per evaluation gives the same mask, so the op is a fixed linear map.
    require_gradcheck([](const std::vector<Tensor>& in) { Rng rng(9); return dropout(in[0], 0.3f, rng); }, {x});
}

TEST_CASE("gradcheck: a small composite (two-layer MLP with layernorm and softmax loss)", "[autograd][gradcheck]") {
    Tensor x = random({4, 6}, 91), w1 = random({6, 8}, 92, 0.5f), w2 = random_transposed({8, 5}, 93, 0.5f);
    Tensor g = random({8}, 94), b = random({8}, 95);
    Indices targets{{4}, {0, 4, 2, 1}};
    require_gradcheck(
        [&](const std::vector<Tensor>& in) {
            Tensor h = gelu(layernorm(matmul(in[0], in[1]), in[3], in[4]));
            return cross_entropy(matmul(h, in[2]), targets);
        },
        {x, w1, w2, g, b}, {.eps = 1e-2, .atol = 2e-3, .rtol = 2e-2});
}
