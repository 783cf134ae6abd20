// host_model.h — a CPU copy of a model for the work that reads or writes parameters on the host
// (splat statistics, pictures, the dashboard, splat adaptation) while training runs on the GPU.
#pragma once
#include <memory>

#include "nn/gpt.h"
#include "train/train_config.h"

namespace splatlm {

// The model itself when it is on the CPU; else a CPU copy of it (made when asked: the parameters
// change every step), built from the run's config and holding the same parameter values.
struct HostModel {
    GPT* model;
    std::unique_ptr<GPT> copy;
    GPT& operator*() { return *model; }
    GPT* operator->() { return model; }
};
HostModel on_host(GPT& model, const TrainConfig& config);

// Copies every parameter value of `from` into `to` (the same parameters in the same order, e.g. one
// config at two context lengths without positions; any devices).
void copy_parameters(GPT& from, GPT& to);

}  // namespace splatlm
