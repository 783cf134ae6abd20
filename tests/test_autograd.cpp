// Autograd semantics: accumulation, grad mode, detach, graph release, and that the gradient
// checker really fails on a wrong backward.
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

TEST_CASE("a tensor used twice accumulates both gradients", "[autograd]") {
    Tensor x = random({3, 4}, 1).set_requires_grad();
    Tensor y = sum(x * x + x * 3.f);  // dy/dx = 2x + 3: x feeds two products
    backward(y);
    require_close(x.grad(), raw::affine(x, 2.f, 3.f), 1e-6, 1e-6);
}

TEST_CASE("summing the gradients of a reused tensor never writes into a gradient another input shares", "[autograd]") {
    // loss = Σ (x + (y + x·c2))·c1. Both adds hand one gradient tensor G to both their inputs, so
    // x's first term is the very G that y is still waiting on; x's second term (through x·c2) then
    // arrives before y is reached. Summing it into G in place would leak it into y's gradient.
    Tensor x = random({3, 4}, 31).set_requires_grad(), y = random({3, 4}, 32).set_requires_grad();
    Tensor c1 = random({3, 4}, 33), c2 = random({3, 4}, 34);
    backward(sum((x + (y + x * c2)) * c1));
    require_close(y.grad(), c1, 0, 0);
    require_close(x.grad(), raw::binary(Binary::Add, c1, raw::binary(Binary::Mul, c1, c2)), 1e-6, 1e-6);
}

TEST_CASE("selects and slices add their gradients into windows of the input's gradient", "[autograd]") {
    // x feeds two selects and an overlapping slice (record_window) and an add whose gradient tensor
    // y shares: the windows must land on x's gradient only, whichever reaches x first.
    Tensor x = random_transposed({4, 3, 5}, 35).set_requires_grad(), y = random({4, 3, 5}, 36).set_requires_grad();
    Tensor c = random({4, 3, 5}, 37), c0 = random({4, 5}, 38), c2 = random({4, 5}, 39), cs = random({4, 3, 3}, 40);
    backward(sum((x + y) * c) + sum(select(x, 1, 0) * c0) + sum(select(x, 1, 2) * c2) + sum(slice(x, 2, 1, 4) * cs));
    require_close(y.grad(), c, 0, 0);
    for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 3; ++j)
            for (int64_t k = 0; k < 5; ++k) {
                float want = c.at({i, j, k});
                if (j == 0) want += c0.at({i, k});
                if (j == 2) want += c2.at({i, k});
                if (k >= 1 && k < 4) want += cs.at({i, j, k - 1});
                INFO(i << ", " << j << ", " << k);
                REQUIRE(x.grad().at({i, j, k}) == Approx(want).margin(1e-6));
            }
}

TEST_CASE("leaf gradients accumulate across backward calls until zero_grad", "[autograd]") {
    Tensor x = random({5}, 2).set_requires_grad();
    backward(sum(x * 2.f));
    backward(sum(x * 2.f));
    require_close(x.grad(), Tensor::full({5}, 4.f));
    x.zero_grad();
    REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("no-grad mode builds no graph", "[autograd]") {
    Tensor x = random({2, 3}, 3).set_requires_grad();
    {
        NoGradGuard guard;
        Tensor y = matmul(x, transpose(x, 0, 1));
        REQUIRE_FALSE(y.requires_grad());
        REQUIRE(y.grad_fn() == nullptr);
    }
    REQUIRE(grad_enabled());
    REQUIRE(exp(x).grad_fn() != nullptr);
}

TEST_CASE("detach cuts the history but shares the data", "[autograd]") {
    Tensor x = random({4}, 4).set_requires_grad();
    Tensor d = exp(x).detach();
    REQUIRE_FALSE(d.requires_grad());
    REQUIRE(d.is_leaf());
    Tensor y = sum(d * x);  // gradient flows only through the second factor
    backward(y);
    require_close(x.grad(), raw::unary(Unary::Exp, x));
}

TEST_CASE("ops on tensors without requires_grad record nothing", "[autograd]") {
    Tensor a = random({3}, 5), b = random({3}, 6);
    REQUIRE((a + b).grad_fn() == nullptr);
    REQUIRE_THROWS_WITH(backward(sum(a + b)), Catch::Contains("does not require grad"));
}

TEST_CASE("backward twice through a freed graph is a clear error", "[autograd]") {
    Tensor x = random({3}, 7).set_requires_grad();
    Tensor y = sum(exp(x));
    backward(y);
    REQUIRE_THROWS_WITH(backward(y), Catch::Contains("already freed"));
}

TEST_CASE("the graph releases saved tensors after backward", "[autograd]") {
    Tensor x = random({16, 16}, 8).set_requires_grad();
    Tensor h = exp(x);
    std::weak_ptr<TensorImpl> watch = h.impl_ptr();
    Tensor y = sum(h * 2.f);
    h = Tensor();          // only the graph holds the intermediate now
    REQUIRE_FALSE(watch.expired());
    backward(y);
    REQUIRE(watch.expired());  // freed by backward, not when y dies
}

TEST_CASE("a non-scalar root needs an explicit gradient of its shape", "[autograd]") {
    Tensor x = random({2, 2}, 9).set_requires_grad();
    Tensor y = x * 3.f;
    REQUIRE_THROWS_WITH(backward(y), Catch::Contains("non-scalar"));
    REQUIRE_THROWS_WITH(backward(y, Tensor::ones({3})), Catch::Contains("gradient of shape [3]"));
    backward(y, Tensor::full({2, 2}, 2.f));
    require_close(x.grad(), Tensor::full({2, 2}, 6.f));
}

TEST_CASE("deep chains do not overflow the stack", "[autograd]") {
    Tensor x = random({4}, 10).set_requires_grad();
    Tensor y = x;
    for (int i = 0; i < 20000; ++i) y = y * 1.0001f;
    backward(sum(y));
    REQUIRE(x.grad().at({0}) == Approx(std::pow(1.0001, 20000)).epsilon(1e-3));
}

TEST_CASE("gradcheck fails on a wrong backward and on a NaN gradient", "[autograd][gradcheck]") {
    Tensor x = random({3, 3}, 11);
    auto wrong = [](const std::vector<Tensor>& in) {  // claims d(exp x)/dx = 1
        return record(raw::unary(Unary::Exp, in[0]), "wrong_exp", {in[0]},
                      [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
    };
    REQUIRE_FALSE(gradcheck(wrong, {x}).ok);
    auto nan_grad = [](const std::vector<Tensor>& in) {
        return record(raw::affine(in[0], 2.f, 0.f), "nan_grad", {in[0]}, [](const Tensor& g) -> std::vector<Tensor> {
            return {raw::affine(g, NAN, 0.f)};
        });
    };
    GradCheckResult r = gradcheck(nan_grad, {random({2}, 12)});
    REQUIRE_FALSE(r.ok);
}
