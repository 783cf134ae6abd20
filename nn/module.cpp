#include "nn/module.h"

#include "tensor/error.h"

namespace splatlm {

Tensor& Module::add_parameter(const std::string& name, Tensor value, bool weight_decay) {
    for (const Parameter& p : params_) SPLATLM_CHECK(p.name != name, "module: parameter '", name, "' registered twice");
    value.set_requires_grad(true);
    params_.push_back({name, std::make_unique<Tensor>(std::move(value)), weight_decay});
    return *params_.back().tensor;
}

template <class F>
void Module::visit(const std::string& prefix, F&& f) const {
    for (const Parameter& p : params_) f(prefix + p.name, p);
    for (const auto& [name, child] : children_) child->visit(prefix + name + ".", f);
}

NamedTensors Module::named_parameters() const {
    NamedTensors out;
    visit("", [&](const std::string& name, const Parameter& p) { out.emplace_back(name, *p.tensor); });
    return out;
}

std::vector<bool> Module::weight_decay_mask() const {
    std::vector<bool> out;
    visit("", [&](const std::string&, const Parameter& p) { out.push_back(p.weight_decay); });
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

void Module::to(Device device) {
    visit("", [&](const std::string&, const Parameter& p) {
        if (p.tensor->device() == device) return;
        Tensor moved = p.tensor->to(device);  // contiguous on the target
        TensorImpl* impl = p.tensor->impl();
        impl->storage = moved.storage();
        impl->offset = 0;
        impl->strides = contiguous_strides(impl->shape);
        impl->grad = nullptr;
    });
}

Device Module::device() const {
    NamedTensors named = named_parameters();
    if (named.empty()) return Device::CPU;
    for (const auto& [name, t] : named)
        SPLATLM_CHECK(t.device() == named[0].second.device(), "module: parameter '", name, "' is on ",
                      device_name(t.device()), " but '", named[0].first, "' is on ",
                      device_name(named[0].second.device()), "; call to(device) on the whole model");
    return named[0].second.device();
}

void Module::set_training(bool on) {
    training_ = on;
    for (auto& [_, child] : children_) child->set_training(on);
}

}  // namespace splatlm
