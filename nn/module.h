// module.h — a tree of modules with named parameters ("blocks.0.attn.qkv.weight").
//
// A module registers its parameters and children in its constructor; named_parameters() walks the
// tree in registration order, which is stable, so checkpoints and optimiser state line up by name.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace splatlm {

class Module {
  public:
    virtual ~Module() = default;
    Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    NamedTensors named_parameters() const;
    // Whether AdamW applies weight decay to each parameter, aligned with named_parameters():
    // matrices of Linear layers yes; biases, norms and embeddings no.
    std::vector<bool> weight_decay_mask() const;
    std::vector<Tensor> parameters() const;
    int64_t parameter_count() const;
    // Moves every parameter to `device` in place (same TensorImpl, so every holder follows; gradients
    // are dropped). Build FlatParameters after moving: it keeps the device the parameters are on.
    void to(Device device);
    Device device() const;  // where the parameters live (CPU for a module without any)
    // Training mode switches dropout on; evaluation mode is deterministic.
    void set_training(bool on);
    bool training() const { return training_; }

  protected:
    // The tensor becomes a leaf that requires grad; the reference stays valid for the module's life.
    Tensor& add_parameter(const std::string& name, Tensor value, bool weight_decay = false);
    template <class M>
    M& add_module(const std::string& name, std::unique_ptr<M> child) {
        M& ref = *child;
        children_.emplace_back(name, std::move(child));
        return ref;
    }

  private:
    struct Parameter {
        std::string name;
        std::unique_ptr<Tensor> tensor;
        bool weight_decay;
    };
    template <class F>
    void visit(const std::string& prefix, F&& f) const;  // f(full name, Parameter) in registration order
    std::vector<Parameter> params_;
    std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
    bool training_ = true;
};

}  // namespace splatlm
