#include "nn/module.h"

#include "tensor/error.h"

namespace splatlm {

Tensor& Module::add_parameter(const std::string& name, Tensor value) {
    for (const auto& [n, _] : params_) SPLATLM_CHECK(n != name, "module: parameter '", name, "' registered twice");
    value.set_requires_grad(true);
    params_.emplace_back(name, std::make_unique<Tensor>(std::move(value)));
    return *params_.back().second;
}

void Module::collect(const std::string& prefix, NamedTensors& out) const {
    for (const auto& [name, t] : params_) out.emplace_back(prefix + name, *t);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

NamedTensors Module::named_parameters() const {
    NamedTensors out;
    collect("", out);
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [_, t] : named_parameters()) out.push_back(t);
    return out;
}

int64_t Module::parameter_count() const {
    int64_t n = 0;
    for (const auto& [_, t] : named_parameters()) n += t.numel();
    return n;
}

void Module::set_training(bool on) {
    training_ = on;
    for (auto& [_, child] : children_) child->set_training(on);
}

}  // namespace splatlm
