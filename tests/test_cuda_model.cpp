// The whole model on the GPU ("[cuda][gpu]", skipped visibly without one): every attention kind's
// loss, gradients and generation steps against the same model on the CPU, and the optimiser's
// fused kernels against the CPU loops. The trainer end to end on the GPU is in test_train.cpp.
#include "nn/flat_parameters.h"
#include "nn/gpt.h"
#include "splat/register.h"
#include "tests/helpers.h"
#include "train/adamw.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

namespace {

// Every kind with a GPU path; sparse routing (splat_top) is refused on CUDA (docs/SPLAT.md §12).
#define GPU_KINDS                                                                                            \
    "softmax", "local", "linear", "splat", "splat_local", "splat+variants", "splat_local+variants", "splat+conv", \
        "softmax+mixed", "splat+forget", "delta", "splat_delta+conv"

GPTConfig config_for(const std::string& name) {
    GPTConfig c{.vocab = 23, .context = 40, .layers = 2, .heads = 2, .width = 16, .window = 5};
    c.attention = name.substr(0, name.find('+'));
    if (name.ends_with("+variants")) c.splat_decay = c.splat_gate = true, c.splat_levels = 2, c.splats = 4;
    if (name.ends_with("+forget")) c.splat_decay = c.splat_token_decay = true;  // input-dependent decay
    if (name.ends_with("+conv")) c.short_conv = 3, c.positions = "none";
    if (name.ends_with("+mixed")) c.layer_kinds = "splat,linear";
    return c;
}

// The largest |a − b| relative to the largest |b| (1e-30 guards an all-zero b).
double max_relative_gap(const Tensor& a, const Tensor& b) {
    const std::vector<float> x = a.to_vector(), y = b.to_vector();
    REQUIRE(x.size() == y.size());
    double gap = 0, scale = 1e-30;
    for (size_t i = 0; i < x.size(); ++i) gap = std::max(gap, std::abs(double(x[i]) - y[i])), scale = std::max(scale, std::abs(double(y[i])));
    return gap / scale;
}

}  // namespace

TEST_CASE("Module::to(CPU) on a CPU model changes nothing", "[cuda]") {
    register_splat_attentions();
    GPT model(config_for("splat"), 3);
    const std::vector<float> before = model.parameters()[0].to_vector();
    const float* where = model.parameters()[0].data();
    model.to(Device::CPU);
    REQUIRE(model.device() == Device::CPU);
    REQUIRE(model.parameters()[0].data() == where);
    REQUIRE(model.parameters()[0].to_vector() == before);
}

TEST_CASE("GPT on the GPU: loss, every gradient and generation steps equal the CPU's", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    register_splat_attentions();
    const std::string kind = GENERATE(GPU_KINDS);
    INFO(kind);
    GPT cpu(config_for(kind), 11), gpu(config_for(kind), 11);  // the same seed: the same initial weights
    spread_parameters(cpu.parameters(), 5);
    spread_parameters(gpu.parameters(), 5);
    gpu.to(Device::CUDA);
    REQUIRE(gpu.device() == Device::CUDA);
    FlatParameters cpu_flat(cpu), gpu_flat(gpu);
    REQUIRE(gpu_flat.device() == Device::CUDA);
    const Indices ids = random_ids(3, 40, 23, 1), targets = random_ids(3, 40, 23, 2);

    Tensor cpu_loss = cpu.loss(ids, targets), gpu_loss = gpu.loss(ids, targets);
    REQUIRE(gpu_loss.device() == Device::CUDA);
    REQUIRE(std::abs(gpu_loss.item() - cpu_loss.item()) <= 1e-5 * std::abs(cpu_loss.item()));
    backward(cpu_loss);
    backward(gpu_loss);
    // Float sums in another order (cuBLAS tiles, block reductions, chunked scans): per tensor, the
    // largest gap within 1e-3 of the largest gradient entry.
    const NamedTensors cpu_params = cpu.named_parameters(), gpu_params = gpu.named_parameters();
    for (size_t i = 0; i < cpu_params.size(); ++i) {
        INFO(cpu_params[i].first);
        REQUIRE(gpu_params[i].second.grad().device() == Device::CUDA);
        REQUIRE(max_relative_gap(gpu_params[i].second.grad(), cpu_params[i].second.grad()) < 1e-3);
    }

    // Generation: one token at a time on the GPU reproduces the parallel CPU logits.
    cpu.set_training(false);
    gpu.set_training(false);
    Tensor logits = cpu.forward(ids);
    GPT::Cache cache = gpu.new_cache(3);
    for (int64_t t = 0; t < 40; ++t) {
        Tensor step = gpu.step({ids.ids[t], ids.ids[40 + t], ids.ids[80 + t]}, cache);
        REQUIRE(step.device() == Device::CUDA);
        REQUIRE(max_relative_gap(step, raw::select(logits, 1, t)) < 1e-4);
    }
}

TEST_CASE("GPT on the GPU: two runs give the same bits", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    register_splat_attentions();
    const std::string kind = GENERATE(GPU_KINDS);
    INFO(kind);
    const Indices ids = random_ids(2, 40, 23, 4), targets = random_ids(2, 40, 23, 5);
    auto run = [&] {
        GPT model(config_for(kind), 8);
        model.to(Device::CUDA);
        FlatParameters flat(model);
        Tensor loss = model.loss(ids, targets);
        backward(loss);
        std::vector<float> out = Tensor::view_of(model.parameters()[0].grad().storage(), {flat.size()}, {1}, 0).to_vector();
        out.push_back(loss.item());
        return out;
    };
    REQUIRE(run() == run());
}

TEST_CASE("AdamW and gradient clipping on the GPU equal the CPU loops", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    register_splat_attentions();
    GPT cpu(config_for("splat+variants"), 2), gpu(config_for("splat+variants"), 2);
    gpu.to(Device::CUDA);
    FlatParameters cpu_flat(cpu), gpu_flat(gpu);
    AdamW cpu_adam(cpu_flat, {.weight_decay = 0.3f}), gpu_adam(gpu_flat, {.weight_decay = 0.3f});
    for (int step = 0; step < 3; ++step) {
        // The same large gradients on both sides, so clipping scales them.
        const Tensor g = random({cpu_flat.size()}, 40 + step, 5.f);
        std::copy_n(g.data(), cpu_flat.size(), cpu_flat.grads());
        Tensor gpu_grads = Tensor::view_of(gpu.parameters()[0].grad().storage(), {gpu_flat.size()}, {1}, 0);
        raw::copy_into(gpu_grads, g.to(Device::CUDA));
        const GradClip cpu_clip = gradient_clip(cpu_flat, 1.0), gpu_clip = gradient_clip(gpu_flat, 1.0);
        REQUIRE(std::abs(gpu_clip.norm - cpu_clip.norm) <= 1e-9 * cpu_clip.norm);  // double partials, fixed order
        REQUIRE(cpu_clip.scale < 1.f);
        cpu_adam.step(1e-2f, cpu_clip.scale);
        gpu_adam.step(1e-2f, gpu_clip.scale);
    }
    const NamedTensors c = cpu.named_parameters(), g = gpu.named_parameters();
    for (size_t i = 0; i < c.size(); ++i) {
        INFO(c[i].first);
        REQUIRE(max_relative_gap(g[i].second, c[i].second) < 1e-6);
    }
    REQUIRE(max_relative_gap(gpu_adam.v(), cpu_adam.v()) < 1e-6);
}

TEST_CASE("a model split across devices is named, not used", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    GPT model(config_for("softmax"), 1);
    Tensor first = model.parameters()[0];
    first.impl()->storage = first.to(Device::CUDA).storage();
    REQUIRE_THROWS_WITH(model.device(), Contains("is on cuda") && Contains("is on cpu"));
    REQUIRE_THROWS_WITH(FlatParameters{model}, Contains("call to(device) on the whole model"));
}
