// bench_train.cpp — `splatlm bench train`: tokens/s of one full training step (forward, backward,
// gradient clipping, AdamW) for a GPT config, median over steps after warm-up. With --compare it
// runs bench/pytorch_reference.py on the same model and thread count in the same run and prints
// the ratio (PyTorch is only a reference on the developer's machine, never a dependency).
// --device cuda trains on the GPU (the model initialised on the CPU, then moved, as `train` does);
// each step's time then ends with a wait for the GPU.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "cuda/runtime.h"
#include "nn/flat_parameters.h"
#include "nn/gpt.h"
#include "tensor/error.h"
#include "train/adamw.h"
#include "train/args.h"
#include "train/json.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace splatlm {

namespace {

struct TrainBenchResult {
    double tokens_per_s, ms_per_step;
    int64_t params;
};

TrainBenchResult measure(const GPTConfig& config, int64_t batch, int steps, int warmup, Device device) {
    GPT model(config, 1);
    model.to(device);
    FlatParameters flat(model);
    AdamW adam(flat, {});
    Rng rng(7);
    const int64_t T = config.context;
    std::vector<double> ms;
    for (int s = 0; s < warmup + steps; ++s) {
        Indices ids{{batch, T}, std::vector<int32_t>(batch * T)}, targets{{batch * T}, std::vector<int32_t>(batch * T)};
        for (auto& id : ids.ids) id = int32_t(rng.next_u64() % config.vocab);
        for (auto& id : targets.ids) id = int32_t(rng.next_u64() % config.vocab);
        const auto t0 = std::chrono::steady_clock::now();
        flat.zero_grad();
        backward(model.loss(ids, targets));
        clip_grad_norm(flat, 1.0);
        adam.step(1e-3f);
        if (device == Device::CUDA) cuda::synchronize();
        const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (s >= warmup) ms.push_back(elapsed);
    }
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    const double median = ms[ms.size() / 2];
    return {batch * T / (median / 1000.0), median, model.parameter_count()};
}

// Runs the PyTorch reference with $SPLATLM_PYTHON (default python3, e.g. a virtualenv's python
// that has torch); returns its JSON line, or a null Json when it is unavailable.
Json run_pytorch(const GPTConfig& c, int64_t batch, int steps, int threads, Device device) {
    const char* python = std::getenv("SPLATLM_PYTHON");
    char cmd[1024];
    std::snprintf(cmd, sizeof cmd,
                  "%s bench/pytorch_reference.py --json --device %s --threads %d --steps %d --batch %lld --context %lld "
                  "--layers %lld --heads %lld --width %lld --vocab %lld",
                  python && *python ? python : "python3", device_name(device), threads, steps, (long long)batch, (long long)c.context,
                  (long long)c.layers, (long long)c.heads, (long long)c.width, (long long)c.vocab);
    FILE* p = popen(cmd, "r");
    if (!p) return Json();
    std::string out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int status = pclose(p);
    if (status != 0 || out.empty()) return Json();
    return Json::parse(out.substr(0, out.find('\n')));
}

}  // namespace

int bench_train(int argc, char** argv) {
    Args args("bench train",
              {{"layers", true, "default 4"}, {"heads", true, "default 4"}, {"width", true, "default 128"},
               {"context", true, "default 64"}, {"batch", true, "default 12"}, {"vocab", true, "default 256 (char)"},
               {"attention", true, "attention kind (default softmax)"}, {"steps", true, "measured steps (default 20)"},
               {"warmup", true, "unmeasured steps first (default 3)"},
               {"compare", false, "also run bench/pytorch_reference.py on the same model"},
               {"device", true, "cpu (default) or cuda"},
               {"json", false, "one JSON object per line"}},
              argc, argv, 3);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    GPTConfig c{.vocab = args.get_int("vocab", 256), .context = args.get_int("context", 64),
                .layers = args.get_int("layers", 4), .heads = args.get_int("heads", 4),
                .width = args.get_int("width", 128), .attention = args.get("attention", "softmax"),
                .splat_decay = true};  // splat kinds as the default model trains them
    const int64_t batch = args.get_int("batch", 12);
    const int steps = int(args.get_int("steps", 20)), warmup = int(args.get_int("warmup", 3));
    SPLATLM_CHECK(steps > 0 && warmup >= 0 && batch > 0, "bench train: need --steps > 0, --warmup >= 0, --batch > 0");
    const Device device = parse_device(args.get("device", "cpu"));
    if (device == Device::CUDA) cuda::require_gpu("bench train --device cuda");
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    TrainBenchResult ours = measure(c, batch, steps, warmup, device);
    Json ref = args.flag("compare") ? run_pytorch(c, batch, steps, threads, device) : Json();
    if (args.flag("json")) {
        std::printf("{\"kind\":\"train\",\"device\":\"%s\",\"attention\":\"%s\",\"tokens_per_s\":%.1f,\"ms_per_step\":%.3f,\"params\":%lld,"
                    "\"threads\":%d,\"batch\":%lld,\"context\":%lld,\"layers\":%lld,\"heads\":%lld,\"width\":%lld,"
                    "\"vocab\":%lld}\n",
                    device_name(device), c.attention.c_str(), ours.tokens_per_s, ours.ms_per_step, (long long)ours.params, threads,
                    (long long)batch, (long long)c.context, (long long)c.layers, (long long)c.heads, (long long)c.width,
                    (long long)c.vocab);
        if (!ref.is_null()) std::printf("%s\n", ref.dump().c_str());
        return 0;
    }
    std::printf("training step on %s, %lld layers, %lld heads, width %lld, context %lld, batch %lld, vocab %lld, %d threads\n",
                device_name(device), (long long)c.layers, (long long)c.heads, (long long)c.width, (long long)c.context, (long long)batch,
                (long long)c.vocab, threads);
    std::printf("  splatlm (%s): %9.0f tokens/s  %8.2f ms/step  %lld parameters\n", c.attention.c_str(),
                ours.tokens_per_s, ours.ms_per_step, (long long)ours.params);
    if (args.flag("compare")) {
        if (ref.is_null())
            std::printf("  PyTorch: not available (pip install torch, or point SPLATLM_PYTHON at a python that has it) — reference skipped\n");
        else
            std::printf("  PyTorch %s (%s): %9.0f tokens/s  %8.2f ms/step  → splatlm/PyTorch = %.2fx\n",
                        ref.at("torch").as_string().c_str(), ref.at("impl").as_string().c_str(),
                        ref.at("tokens_per_s").as_double(), ref.at("ms_per_step").as_double(),
                        ours.tokens_per_s / ref.at("tokens_per_s").as_double());
    }
    return 0;
}

}  // namespace splatlm
