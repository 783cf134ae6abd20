// ops_elementwise.cpp — elementwise ops and their derivatives. Binary backwards reduce the gradient
// back to each operand's own shape (sum over the axes broadcasting stretched).
#include <cmath>

#include "autograd/ops.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {
using Grads = std::vector<Tensor>;

Tensor reduce_to(const Tensor& g, const Tensor& like) { return raw::sum_to(g, like.shape()); }

// For ops whose derivative needs the input x: backward = helper(x, g).
Tensor unary_with_input_grad(Unary op, Binary grad_op, const Tensor& x, const char* name) {
    return record(raw::unary(op, x), name, {x},
                  [x, grad_op](const Tensor& g) -> Grads { return {raw::binary(grad_op, x, g)}; });
}
// For ops whose derivative is cheaper from the output y: backward = helper(y, g).
Tensor unary_with_output_grad(Unary op, Binary grad_op, const Tensor& x, const char* name) {
    Tensor out = raw::unary(op, x);
    Tensor y = out.detach();  // never capture `out` itself: the node would keep itself alive
    return record(out, name, {x}, [y, grad_op](const Tensor& g) -> Grads { return {raw::binary(grad_op, y, g)}; });
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
    return record(raw::binary(Binary::Add, a, b), "add", {a, b},
                  [a, b](const Tensor& g) -> Grads { return {reduce_to(g, a), reduce_to(g, b)}; });
}

Tensor sub(const Tensor& a, const Tensor& b) {
    return record(raw::binary(Binary::Sub, a, b), "sub", {a, b}, [a, b](const Tensor& g) -> Grads {
        return {reduce_to(g, a), reduce_to(raw::unary(Unary::Neg, g), b)};
    });
}

Tensor mul(const Tensor& a, const Tensor& b) {
    return record(raw::binary(Binary::Mul, a, b), "mul", {a, b}, [a, b](const Tensor& g) -> Grads {
        return {a.requires_grad() ? reduce_to(raw::binary(Binary::Mul, g, b), a) : Tensor(),
                b.requires_grad() ? reduce_to(raw::binary(Binary::Mul, g, a), b) : Tensor()};
    });
}

// d(a/b)/da = 1/b,  d(a/b)/db = −a/b².
Tensor div(const Tensor& a, const Tensor& b) {
    return record(raw::binary(Binary::Div, a, b), "div", {a, b}, [a, b](const Tensor& g) -> Grads {
        Tensor ga = raw::binary(Binary::Div, g, b);
        Tensor gb = b.requires_grad()
                        ? reduce_to(raw::unary(Unary::Neg, raw::binary(Binary::Div, raw::binary(Binary::Mul, ga, a), b)), b)
                        : Tensor();
        return {reduce_to(ga, a), gb};
    });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
    return record(raw::binary(Binary::Maximum, a, b), "maximum", {a, b}, [a, b](const Tensor& g) -> Grads {
        Tensor to_a = raw::binary(Binary::GreaterEqual, a, b);  // 1 where a won (ties: a)
        Tensor to_b = raw::affine(to_a, -1.f, 1.f);
        return {reduce_to(raw::binary(Binary::Mul, g, to_a), a), reduce_to(raw::binary(Binary::Mul, g, to_b), b)};
    });
}

Tensor add_scalar(const Tensor& x, float s) {
    return record(raw::affine(x, 1.f, s), "add_scalar", {x}, [](const Tensor& g) -> Grads { return {g}; });
}

Tensor mul_scalar(const Tensor& x, float s) {
    return record(raw::affine(x, s, 0.f), "mul_scalar", {x},
                  [s](const Tensor& g) -> Grads { return {raw::affine(g, s, 0.f)}; });
}

// d(x^p)/dx = p·x^(p−1).
Tensor pow(const Tensor& x, float p) {
    return record(raw::pow_scalar(x, p), "pow", {x}, [x, p](const Tensor& g) -> Grads {
        return {raw::binary(Binary::Mul, g, raw::affine(raw::pow_scalar(x, p - 1.f), p, 0.f))};
    });
}

Tensor neg(const Tensor& x) {
    return record(raw::unary(Unary::Neg, x), "neg", {x},
                  [](const Tensor& g) -> Grads { return {raw::unary(Unary::Neg, g)}; });
}

// d(e^x)/dx = e^x = y, so the backward is just y·g.
Tensor exp(const Tensor& x) { return unary_with_output_grad(Unary::Exp, Binary::Mul, x, "exp"); }

Tensor log(const Tensor& x) {
    return record(raw::unary(Unary::Log, x), "log", {x},
                  [x](const Tensor& g) -> Grads { return {raw::binary(Binary::Div, g, x)}; });
}

// d√x/dx = 1/(2√x) = 0.5/y.
Tensor sqrt(const Tensor& x) {
    Tensor out = raw::unary(Unary::Sqrt, x);
    Tensor y = out.detach();
    return record(out, "sqrt", {x}, [y](const Tensor& g) -> Grads {
        return {raw::binary(Binary::Div, raw::affine(g, 0.5f, 0.f), y)};
    });
}

Tensor square(const Tensor& x) {
    return record(raw::unary(Unary::Square, x), "square", {x}, [x](const Tensor& g) -> Grads {
        return {raw::binary(Binary::Mul, g, raw::affine(x, 2.f, 0.f))};
    });
}

Tensor tanh(const Tensor& x) { return unary_with_output_grad(Unary::Tanh, Binary::TanhGrad, x, "tanh"); }
Tensor sigmoid(const Tensor& x) { return unary_with_output_grad(Unary::Sigmoid, Binary::SigmoidGrad, x, "sigmoid"); }
Tensor relu(const Tensor& x) { return unary_with_input_grad(Unary::Relu, Binary::ReluGrad, x, "relu"); }
Tensor gelu(const Tensor& x) { return unary_with_input_grad(Unary::Gelu, Binary::GeluGrad, x, "gelu"); }
Tensor elu_plus_one(const Tensor& x) {
    return unary_with_input_grad(Unary::EluPlusOne, Binary::EluPlusOneGrad, x, "elu_plus_one");
}
Tensor log_sigmoid(const Tensor& x) {
    return unary_with_input_grad(Unary::LogSigmoid, Binary::LogSigmoidGrad, x, "log_sigmoid");
}

}  // namespace splatlm
