// graph.h — reverse-mode automatic differentiation.
//
// Every differentiable op (autograd/ops_*.cpp) computes its forward with raw:: kernels and, when an
// input requires a gradient and grad mode is on, calls record(): the output gets a Node holding the
// inputs it read and a closure that maps d(loss)/d(output) to d(loss)/d(each input).
// backward(loss) walks the nodes in reverse topological order, sums gradients of tensors used more
// than once, accumulates into leaves' .grad(), and frees each node's saved tensors as it goes.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace splatlm {

// Gradients w.r.t. each input, in input order; an undefined Tensor means "no gradient".
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

// A view that reads a window of its one input (slice, select): out = window(input).
using WindowFn = std::function<Tensor(const Tensor& input)>;

struct Node {
    std::string op;               // for error messages
    std::vector<Tensor> inputs;   // edges: the tensors the op read
    BackwardFn backward;          // released (null) after it ran
    WindowFn window;              // set instead of `backward` for a window view (record_window)
    bool released = false;
};

// Grad mode: thread-local switch; NoGradGuard turns it off for a scope (inference, optimiser steps).
bool grad_enabled();
class NoGradGuard {
  public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

  private:
    bool previous_;
};

// Attach a Node to `out` when grad mode is on and some input requires a gradient; returns `out`
// (a fresh alias if `out` is one of the inputs, e.g. a no-op reshape).
Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, BackwardFn backward);

// record() for a view that reads window(x) of its input x: backward adds the view's gradient into
// that window of x's running gradient, instead of scattering it into a tensor of zeros that is then
// summed with x's other gradients (three such full-size passes per split into q, k, v).
Tensor record_window(Tensor out, const char* op, const Tensor& x, WindowFn window);

// Back-propagate from `root`. `grad` defaults to 1 for a single-element root (a loss); a
// non-scalar root needs an explicit gradient of its shape. The graph is freed afterwards: a second
// backward() through it is an error.
void backward(const Tensor& root, const Tensor& grad = Tensor());

}  // namespace splatlm
