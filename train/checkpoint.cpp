#include "train/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "cuda/runtime.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "tensor/ops.h"
#include "train/safetensors.h"

namespace splatlm {

namespace {

constexpr const char* kFormat = "splatlm-checkpoint-1";

std::string rng_text(const Rng& rng) { return std::to_string(rng.seed()) + " " + std::to_string(rng.counter()); }

// "seed counter", both full-range unsigned 64-bit.
Rng parse_rng(const std::string& text, const std::string& where) {
    unsigned long long seed = 0, counter = 0;
    int used = 0;
    SPLATLM_CHECK(std::sscanf(text.c_str(), "%llu %llu%n", &seed, &counter, &used) == 2 && used == int(text.size()),
                  where, ": malformed RNG state '", text, "'");
    Rng rng;
    rng.set_state(seed, counter);
    return rng;
}

const std::string& meta(const SafetensorsFile& file, const std::string& key) {
    auto it = file.metadata.find(key);
    SPLATLM_CHECK(it != file.metadata.end(), file.path, ": metadata has no '", key, "' (not a splatlm checkpoint?)");
    return it->second;
}

// Copies `file`'s tensors named prefix+<param name> into the given tensors, insisting the sets of
// names and every shape agree exactly.
void copy_named(const SafetensorsFile& file, const std::string& prefix, const NamedTensors& into) {
    size_t expected = 0;
    for (const auto& [name, t] : file.tensors) expected += name.rfind(prefix, 0) == 0;
    SPLATLM_CHECK(expected == into.size(), file.path, ": holds ", expected, " tensors named '", prefix,
                  "*', the model has ", into.size(), " parameters");
    for (const auto& [name, dst] : into) {
        const Tensor& src = file.at(prefix + name);
        SPLATLM_CHECK(src.shape() == dst.shape(), file.path, ": tensor '", prefix + name, "' has shape ",
                      shape_str(src.shape()), " but the config expects ", shape_str(dst.shape()));
        Tensor target = dst;
        raw::copy_into(target, src.to(dst.device()));
    }
}

// Views of a flat optimiser buffer laid out like the (flattened) parameters, named prefix + name.
NamedTensors like_parameters(GPT& model, const Tensor& flat, const std::string& prefix) {
    NamedTensors out;
    for (const auto& [name, p] : model.named_parameters()) {
        SPLATLM_CHECK(p.storage()->size() == flat.numel(), "checkpoint: parameters are not in flat buffers");
        out.emplace_back(prefix + name, Tensor::view_of(flat.storage(), p.shape(), p.strides(), p.offset()));
    }
    return out;
}

// The tensors as the file writer needs them: on the host (a model training on the GPU is copied).
NamedTensors on_host(NamedTensors tensors) {
    for (auto& [_, t] : tensors) t = t.to(Device::CPU);
    return tensors;
}

}  // namespace

void save_checkpoint(const std::string& dir, const TrainConfig& config, const Tokenizer& tokenizer, GPT& model,
                     AdamW& optimizer, const TrainingProgress& progress) {
    ensure_directory(dir);
    const std::string step = std::to_string(progress.step);
    NamedTensors moments = like_parameters(model, optimizer.m(), "m.");
    for (auto& named : like_parameters(model, optimizer.v(), "v.")) moments.push_back(named);
    save_safetensors(dir + "/optimizer.safetensors", on_host(moments),
                     {{"format", kFormat},
                      {"step", step},
                      {"adamw_t", std::to_string(optimizer.steps_taken())},
                      {"data_rng", rng_text(progress.data_rng)},
                      {"dropout_rng", rng_text(model.dropout_rng())}});
    const std::string tok = tokenizer.serialize();
    write_file_atomic(dir + "/tokenizer.txt", tok);
    save_safetensors(dir + "/model.safetensors", on_host(model.named_parameters()),
                     {{"format", kFormat}, {"step", step}, {"config", config.to_json().dump()}, {"tokenizer", tok}});
}

LoadedModel load_model(const std::string& dir) {
    SafetensorsFile file = load_safetensors(dir + "/model.safetensors");
    SPLATLM_CHECK(meta(file, "format") == kFormat, file.path, ": format '", meta(file, "format"), "', expected ", kFormat);
    LoadedModel out;
    try {
        out.config = TrainConfig::from_json(Json::parse(meta(file, "config")));
        out.tokenizer = load_tokenizer(meta(file, "tokenizer"));
    } catch (const Error& e) {
        fail(file.path, ": ", e.what());
    }
    SPLATLM_CHECK(out.tokenizer->vocab_size() == out.config.model.vocab, file.path, ": tokenizer has ",
                  out.tokenizer->vocab_size(), " tokens, the config says ", out.config.model.vocab);
    out.step = parse_int(meta(file, "step"), file.path + " step");
    out.model = std::make_unique<GPT>(out.config.model, out.config.seed);
    copy_named(file, "", out.model->named_parameters());
    return out;
}

LoadedModel load_model_on(const std::string& dir, const std::string& device, const std::string& who) {
    const Device target = parse_device(device);
    if (target == Device::CUDA) cuda::require_gpu(who + " --device cuda");
    LoadedModel out = load_model(dir);
    out.model->to(target);
    return out;
}

TrainingProgress load_optimizer_state(const std::string& dir, GPT& model, AdamW& optimizer, int64_t model_step) {
    SafetensorsFile file = load_safetensors(dir + "/optimizer.safetensors");
    SPLATLM_CHECK(meta(file, "format") == kFormat, file.path, ": format '", meta(file, "format"), "', expected ", kFormat);
    TrainingProgress progress;
    progress.step = parse_int(meta(file, "step"), file.path + " step");
    SPLATLM_CHECK(progress.step == model_step, dir, ": model is at step ", model_step, " but the optimizer state at step ",
                  progress.step, " (interrupted save?)");
    copy_named(file, "m.", like_parameters(model, optimizer.m(), ""));
    copy_named(file, "v.", like_parameters(model, optimizer.v(), ""));
    optimizer.set_steps_taken(parse_int(meta(file, "adamw_t"), file.path + " adamw_t"));
    progress.data_rng = parse_rng(meta(file, "data_rng"), file.path);
    Rng dropout = parse_rng(meta(file, "dropout_rng"), file.path);
    model.dropout_rng().set_state(dropout.seed(), dropout.counter());
    return progress;
}

}  // namespace splatlm
