// checkpoint.cpp — step directories written whole and published by one rename, pruning, finding
// the newest, and reading a checkpoint back (layout in train/checkpoint.h, docs/CHECKPOINTS.md).
#include "train/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "cuda/runtime.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "tensor/ops.h"
#include "train/host_model.h"
#include "train/memory_budget.h"
#include "train/safetensors.h"

namespace splatlm {

namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "splatlm-checkpoint-1";
constexpr const char* kStepPrefix = "step-";
constexpr const char* kTempPrefix = ".tmp-";

std::string checkpoints_of(const std::string& run_dir) { return run_dir + "/checkpoints"; }

// "step-000000012" → 12; -1 for any other name (temporaries, stray files).
int64_t step_of(const std::string& name) {
    if (name.rfind(kStepPrefix, 0) != 0 || name.size() == std::string(kStepPrefix).size()) return -1;
    int64_t step = 0;
    for (char ch : name.substr(std::string(kStepPrefix).size())) {
        if (ch < '0' || ch > '9' || step > (INT64_MAX - 9) / 10) return -1;
        step = step * 10 + (ch - '0');
    }
    return step;
}

// The published step directories of a run, oldest first.
std::vector<std::pair<int64_t, std::string>> step_directories(const std::string& run_dir) {
    std::vector<std::pair<int64_t, std::string>> steps;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(checkpoints_of(run_dir), ec))
        if (const int64_t step = step_of(entry.path().filename()); step >= 0 && entry.is_directory())
            steps.emplace_back(step, entry.path().string());
    std::sort(steps.begin(), steps.end());
    return steps;
}

// Removes a directory tree by first renaming it to a hidden temporary, so a crash mid-way never
// leaves a partial directory under a published name.
void retire(const std::string& path, const std::string& checkpoints) {
    const std::string doomed = checkpoints + "/" + kTempPrefix + "old-" + fs::path(path).filename().string() + "-" +
                               std::to_string(::getpid());
    std::error_code ec;
    fs::rename(path, doomed, ec);
    SPLATLM_CHECK(!ec, "checkpoint: cannot move '", path, "' aside: ", ec.message());
    fs::remove_all(doomed, ec);
}

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

std::string save_checkpoint(const std::string& run_dir, const TrainConfig& config, const Tokenizer& tokenizer,
                            GPT& model, AdamW& optimizer, const TrainingProgress& progress) {
    const std::string checkpoints = checkpoints_of(run_dir);
    ensure_directory(checkpoints);
    char name[32];
    std::snprintf(name, sizeof name, "%s%09lld", kStepPrefix, (long long)progress.step);
    const std::string published = checkpoints + "/" + name;
    const std::string temp = checkpoints + "/" + kTempPrefix + name + "-" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove_all(temp, ec);
    ensure_directory(temp);

    const std::string step = std::to_string(progress.step);
    NamedTensors moments = like_parameters(model, optimizer.m(), "m.");
    for (auto& named : like_parameters(model, optimizer.v(), "v.")) moments.push_back(named);
    save_safetensors(temp + "/optimizer.safetensors", on_host(moments),
                     {{"format", kFormat},
                      {"step", step},
                      {"adamw_t", std::to_string(optimizer.steps_taken())},
                      {"data_rng", rng_text(progress.data_rng)},
                      {"dropout_rng", rng_text(model.dropout_rng())}});
    const std::string tok = tokenizer.serialize();
    write_file_atomic(temp + "/tokenizer.txt", tok);
    save_safetensors(temp + "/model.safetensors", on_host(model.named_parameters()),
                     {{"format", kFormat}, {"step", step}, {"config", config.to_json().dump()}, {"tokenizer", tok}});

    // Publish: the files are fsynced (file_io.h), so one rename makes the whole step visible.
    if (fs::exists(published)) retire(published, checkpoints);  // the same step saved again
    fs::rename(temp, published, ec);
    SPLATLM_CHECK(!ec, "checkpoint: cannot publish '", temp, "' as '", published, "': ", ec.message());
    sync_directory(checkpoints);

    const auto steps = step_directories(run_dir);
    for (size_t i = 0; i + size_t(config.keep_checkpoints) < steps.size(); ++i) retire(steps[i].second, checkpoints);
    return published;
}

std::string checkpoint_directory(const std::string& dir) {
    const auto steps = step_directories(dir);
    if (!steps.empty()) return steps.back().second;
    SPLATLM_CHECK(fs::exists(dir + "/model.safetensors"), "no checkpoint in '", dir, "' (expected ", dir,
                  "/checkpoints/step-*/ or ", dir, "/model.safetensors)");
    return dir;
}

bool has_checkpoint(const std::string& run_dir) {
    return !step_directories(run_dir).empty() || fs::exists(run_dir + "/model.safetensors");
}

int remove_stale_temporaries(const std::string& run_dir) {
    int removed = 0;
    for (const std::string& dir : {run_dir, checkpoints_of(run_dir)}) {
        std::error_code ec;
        std::vector<fs::path> stale;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            const std::string name = entry.path().filename();
            // ".tmp-…" (step directories) and ".<file>.tmp-<pid>-<n>" (file_io.h's atomic writes)
            if (name.rfind(kTempPrefix, 0) == 0 || (name[0] == '.' && name.find(".tmp-") != std::string::npos))
                stale.push_back(entry.path());
        }
        for (const fs::path& p : stale) removed += fs::remove_all(p, ec) > 0;
    }
    return removed;
}

LoadedModel load_model(const std::string& dir, Verify verify) {
    LoadedModel out;
    out.dir = checkpoint_directory(dir);
    SafetensorsFile file = load_safetensors(out.dir + "/model.safetensors", verify == Verify::checksums);
    SPLATLM_CHECK(meta(file, "format") == kFormat, file.path, ": format '", meta(file, "format"), "', expected ", kFormat);
    try {
        out.config = TrainConfig::from_json(Json::parse(meta(file, "config")));
        out.tokenizer = load_tokenizer(meta(file, "tokenizer"));
    } catch (const Error& e) {
        fail(file.path, ": ", e.what());
    }
    SPLATLM_CHECK(out.tokenizer->vocab_size() == out.config.model.vocab, file.path, ": tokenizer has ",
                  out.tokenizer->vocab_size(), " tokens, the config says ", out.config.model.vocab);
    out.step = parse_int(meta(file, "step"), file.path + " step");
    check_memory_budget(out.config, MemoryUse::inspect, file.path);
    out.model = std::make_unique<GPT>(out.config.model, out.config.seed);
    copy_named(file, "", out.model->named_parameters());
    return out;
}

LoadedModel load_model_on(const std::string& dir, const std::string& device, const std::string& who, Verify verify) {
    const Device target = parse_device(device);
    if (target == Device::CUDA) cuda::require_gpu(who + " --device cuda");
    LoadedModel out = load_model(dir, verify);
    out.model->to(target);
    return out;
}

void set_context(LoadedModel& loaded, int64_t context, const std::string& who) {
    GPTConfig& m = loaded.config.model;
    if (context == m.context) return;
    SPLATLM_CHECK(m.positions == "none", who, ": the model in ", loaded.dir, " has learned positions for ", m.context,
                  " tokens, so it cannot read ", context, " (train it with --positions none)");
    m.context = context;
    auto longer = std::make_unique<GPT>(m, loaded.config.seed);
    copy_parameters(*loaded.model, *longer);
    loaded.model = std::move(longer);
}

std::string non_finite_weights(GPT& model) {
    std::string report;
    for (const auto& [name, p] : model.named_parameters()) {
        int64_t bad = 0;
        for (float x : p.to(Device::CPU).to_vector()) bad += !std::isfinite(x);
        if (bad > 0) report += (report.empty() ? "" : ", ") + name + " (" + std::to_string(bad) + ")";
    }
    return report.empty() ? "" : "NaN/Inf weights in " + report;
}

void require_finite_weights(const LoadedModel& loaded, const std::string& who) {
    const std::string report = non_finite_weights(*loaded.model);
    SPLATLM_CHECK(report.empty(), who, ": the checkpoint in ", loaded.dir, " is broken: ", report);
}

TrainingProgress load_optimizer_state(const std::string& dir, GPT& model, AdamW& optimizer, int64_t model_step,
                                      Verify verify) {
    SafetensorsFile file = load_safetensors(dir + "/optimizer.safetensors", verify == Verify::checksums);
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
