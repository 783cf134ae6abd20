#include "train/host_model.h"

#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

void copy_parameters(GPT& from, GPT& to) {
    const NamedTensors src = from.named_parameters(), dst = to.named_parameters();
    SPLATLM_CHECK(src.size() == dst.size(), "copy_parameters: ", src.size(), " parameters into ", dst.size());
    for (size_t i = 0; i < src.size(); ++i) {
        Tensor into = dst[i].second;
        raw::copy_into(into, src[i].second.to(into.device()));
    }
}

HostModel on_host(GPT& model, const TrainConfig& c) {
    if (model.device() == Device::CPU) return {&model, nullptr};
    auto copy = std::make_unique<GPT>(c.model, c.seed);
    copy_parameters(model, *copy);
    GPT* raw_copy = copy.get();
    return {raw_copy, std::move(copy)};
}

}  // namespace splatlm
