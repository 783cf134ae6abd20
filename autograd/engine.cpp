#include <unordered_map>
#include <unordered_set>

#include "autograd/graph.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

namespace {
Tensor record_node(Tensor out, const char* op, std::vector<Tensor> inputs, BackwardFn backward, WindowFn window) {
    if (!g_grad_enabled) return out;
    bool needs = false;
    for (const Tensor& t : inputs) needs = needs || (t.defined() && t.requires_grad());
    if (!needs) return out;
    for (const Tensor& t : inputs)
        if (t.defined() && t.impl() == out.impl()) out = out.detach();  // the output must be its own node
    auto node = std::make_shared<Node>();
    node->op = op;
    node->inputs = std::move(inputs);
    node->backward = std::move(backward);
    node->window = std::move(window);
    out.impl()->grad_fn = std::move(node);
    out.impl()->requires_grad = true;
    return out;
}
}  // namespace

Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, BackwardFn backward) {
    return record_node(std::move(out), op, std::move(inputs), std::move(backward), nullptr);
}

Tensor record_window(Tensor out, const char* op, const Tensor& x, WindowFn window) {
    return record_node(std::move(out), op, {x}, nullptr, std::move(window));
}

namespace {

// Post-order DFS over the tensors that lead to `root` (iterative: deep graphs must not overflow
// the stack). Reversed, it lists every tensor before the inputs it was computed from. It holds
// owning pointers: releasing a node's inputs mid-backward must not free tensors still to visit.
std::vector<std::shared_ptr<TensorImpl>> topological_order(const std::shared_ptr<TensorImpl>& root) {
    std::vector<std::shared_ptr<TensorImpl>> order;
    std::unordered_set<TensorImpl*> seen{root.get()};
    std::vector<std::pair<std::shared_ptr<TensorImpl>, size_t>> stack{{root, 0}};
    while (!stack.empty()) {
        auto& [impl, next] = stack.back();
        Node* node = impl->grad_fn.get();
        if (node && next < node->inputs.size()) {
            const std::shared_ptr<TensorImpl>& child = node->inputs[next++].impl_ptr();
            if (child && child->requires_grad && seen.insert(child.get()).second) stack.push_back({child, 0});
            continue;
        }
        order.push_back(std::move(impl));
        stack.pop_back();
    }
    return order;
}

// A gradient that only the map holds (no other handle, no view of its storage) and that covers
// its whole storage: adding into it in place cannot change a tensor anyone else reads.
bool owned_outright(const Tensor& t) {
    return t.impl_ptr().use_count() == 1 && t.storage().use_count() == 1 && t.is_contiguous() &&
           t.numel() == t.storage()->size();
}

// A tensor used more than once sums its gradients; in place when the running sum is ours alone
// (a tied embedding's [V, C] sum then needs no third buffer). Same values either way: a + b.
void accumulate(std::unordered_map<TensorImpl*, Tensor>& grads, TensorImpl* impl, const Tensor& g) {
    auto it = grads.find(impl);
    if (it == grads.end())
        grads.emplace(impl, g);
    else if (owned_outright(it->second) && it->second.shape() == g.shape())
        raw::add_inplace(it->second, g);
    else
        it->second = raw::binary(Binary::Add, it->second, g);
}

// A window view's gradient g added into window(x's running gradient): that gradient is created as
// zeros when g is the first, and copied first when someone else may read it. Same values as
// scattering g into zeros and summing: 0 + g, or running + g, element by element.
void accumulate_window(std::unordered_map<TensorImpl*, Tensor>& grads, const Tensor& x, const WindowFn& window,
                       const Tensor& g) {
    auto it = grads.find(x.impl());
    if (it == grads.end())
        it = grads.emplace(x.impl(), Tensor::zeros(x.shape(), g.device())).first;
    else if (!owned_outright(it->second))
        it->second = it->second.clone();
    Tensor target = window(it->second);
    raw::add_inplace(target, g);
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad) {
    SPLATLM_CHECK(root.defined() && root.requires_grad(),
                  "backward: this tensor does not require grad (no input of its graph had requires_grad set)");
    Tensor seed = grad;
    if (!seed.defined()) {
        SPLATLM_CHECK(root.numel() == 1, "backward: a gradient is needed for the non-scalar output of shape ",
                      shape_str(root.shape()));
        seed = Tensor::ones(root.shape(), root.device());
    }
    SPLATLM_CHECK(seed.shape() == root.shape(), "backward: gradient of shape ", shape_str(seed.shape()),
                  " for an output of shape ", shape_str(root.shape()));
    NoGradGuard no_grad;  // backward closures compute with differentiable ops; record nothing
    std::unordered_map<TensorImpl*, Tensor> grads{{root.impl(), seed}};
    std::vector<std::shared_ptr<TensorImpl>> order = topological_order(root.impl_ptr());
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        TensorImpl* impl = it->get();
        auto found = grads.find(impl);
        if (found == grads.end()) continue;
        Tensor g = std::move(found->second);
        grads.erase(found);
        Node* node = impl->grad_fn.get();
        if (!node) {  // a leaf: accumulate into .grad across backward calls
            if (impl->grad) {
                Tensor acc(impl->grad);
                raw::add_inplace(acc, g);
            } else {
                impl->grad = g.clone().impl_ptr();  // an own contiguous copy, never an alias
            }
            continue;
        }
        SPLATLM_CHECK(!node->released, "backward: the graph through '", node->op,
                      "' was already freed by an earlier backward(); run the forward pass again");
        if (node->window) {
            SPLATLM_CHECK(g.shape() == impl->shape, "backward: view '", node->op, "' got a gradient of shape ",
                          shape_str(g.shape()), " for its output of shape ", shape_str(impl->shape));
            accumulate_window(grads, node->inputs[0], node->window, g);
            node->window = nullptr;
            node->inputs.clear();
            node->released = true;
            continue;
        }
        std::vector<Tensor> input_grads = node->backward(g);
        SPLATLM_CHECK(input_grads.size() == node->inputs.size(), "backward: op '", node->op, "' returned ",
                      input_grads.size(), " gradients for ", node->inputs.size(), " inputs");
        for (size_t i = 0; i < input_grads.size(); ++i) {
            const Tensor& in = node->inputs[i];
            if (!in.defined() || !in.requires_grad() || !input_grads[i].defined()) continue;
            SPLATLM_CHECK(input_grads[i].shape() == in.shape(), "backward: op '", node->op, "' gave a gradient of shape ",
                          shape_str(input_grads[i].shape()), " for input ", i, " of shape ", shape_str(in.shape()));
            accumulate(grads, in.impl(), input_grads[i]);
        }
        node->backward = nullptr;  // free saved tensors now, not when the graph dies
        node->inputs.clear();
        node->released = true;
    }
}

}  // namespace splatlm
