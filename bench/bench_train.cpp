// bench_train.cpp — `splatlm bench train`: tokens/s of one full training step (forward, backward,
// gradient clipping, AdamW) for a GPT config, median over steps after warm-up, with the step's
// model-FLOP utilisation (6 × parameters × tokens ÷ time, against `bench peak`'s measured FMA
// throughput per core × threads) and its peak memory (resident set, and tensor bytes). With
// --compare it runs bench/pytorch_reference.py on the same model and thread count in the same run
// and prints the ratio (PyTorch is only a reference on the developer's machine, never a dependency).
// --compete starts one CPU-bound process beside the training (bounded in time) and compares the
// default thread sizing (tensor/free_cores.h) with a fixed team and with the one-thread figure.
// --device cuda trains on the GPU (the model initialised on the CPU, then moved, as `train` does);
// each step's time then ends with a wait for the GPU.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "cuda/runtime.h"
#include "nn/flat_parameters.h"
#include "nn/gpt.h"
#include "tensor/error.h"
#include "tensor/free_cores.h"
#include "tensor/storage.h"
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
    int min_threads, max_threads;     // the team sizes the measured steps ran with
    double peak_rss_mb, peak_tensor_mb;  // during the measured steps: the process, and live tensors
};

// The process's peak resident set since the last reset_peak_rss(), in MiB (VmHWM), or -1.
double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
    return -1;
}
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// fixed_threads > 0: that many threads every step; 0: the default, FreeCoreThreads re-sizes the
// team between steps as a training does.
TrainBenchResult measure(const GPTConfig& config, int64_t batch, int steps, int warmup, Device device, int fixed_threads) {
    GPT model(config, 1);
    model.to(device);
    FlatParameters flat(model);
    AdamW adam(flat, {});
    Rng rng(7);
    const int64_t T = config.context;
    std::vector<double> ms;
    std::optional<FreeCoreThreads> free_cores;  // puts the team back as it found it when it goes
    if (fixed_threads > 0)
        free_cores.emplace(fixed_threads);  // never updated: a fixed team
    else
        free_cores.emplace();
    int min_threads = 1 << 30, max_threads = 0;
    for (int s = 0; s < warmup + steps; ++s) {
        Indices ids{{batch, T}, std::vector<int32_t>(batch * T)}, targets{{batch * T}, std::vector<int32_t>(batch * T)};
        for (auto& id : ids.ids) id = int32_t(rng.next_u64() % config.vocab);
        for (auto& id : targets.ids) id = int32_t(rng.next_u64() % config.vocab);
        if (s == warmup) reset_peak_rss(), reset_cpu_peak_memory();
        const int threads = fixed_threads > 0 ? fixed_threads : free_cores->update();
        const auto t0 = std::chrono::steady_clock::now();
        flat.zero_grad();
        backward(model.loss(ids, targets));
        adam.step(1e-3f, gradient_clip(flat, 1.0).scale);
        if (device == Device::CUDA) cuda::synchronize();
        const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (s < warmup) continue;
        ms.push_back(elapsed);
        min_threads = std::min(min_threads, threads), max_threads = std::max(max_threads, threads);
    }
    const double median = median_of(ms);
    return {batch * T / (median / 1000.0), median, model.parameter_count(), min_threads, max_threads, peak_rss_mb(),
            double(cpu_memory_stats().peak_bytes) / (1 << 20)};
}

// A CPU-bound child process (a floating-point loop), killed when this object goes, when this
// process dies, or after max_seconds at the latest.
class Competitor {
public:
    explicit Competitor(unsigned max_seconds) : pid_(fork()) {
        SPLATLM_CHECK(pid_ >= 0, "bench train --compete: cannot start the competing process");
        if (pid_ > 0) return;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(max_seconds);
        volatile double x = 1;
        for (;;) x = x * 1.0000001 + 1e-9;
    }
    ~Competitor() {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_;
};

std::string threads_text(const TrainBenchResult& r) {
    return r.min_threads == r.max_threads ? std::to_string(r.min_threads)
                                          : std::to_string(r.min_threads) + "–" + std::to_string(r.max_threads);
}

// --compete: the one-thread figure alone, then beside one competing process with a fixed team of
// all threads (what OpenMP does on its own), with one thread, and with the default sizing. Each
// figure is the median step, so the sizing's rare probes with every thread hardly show in it.
int compete(const GPTConfig& c, int64_t batch, int steps, int warmup, int threads, bool json) {
    const TrainBenchResult one = measure(c, batch, steps, warmup, Device::CPU, 1);
    TrainBenchResult fixed{}, fixed_one{}, sized{};
    {
        Competitor rival(300);
        fixed = measure(c, batch, steps, warmup, Device::CPU, threads);
        fixed_one = measure(c, batch, steps, warmup, Device::CPU, 1);
        sized = measure(c, batch, steps, warmup, Device::CPU, 0);
    }
    if (json) {
        std::printf("{\"kind\":\"train_compete\",\"attention\":\"%s\",\"alone_1_thread_tokens_per_s\":%.1f,"
                    "\"beside_fixed_tokens_per_s\":%.1f,\"fixed_threads\":%d,\"beside_1_thread_tokens_per_s\":%.1f,"
                    "\"beside_default_tokens_per_s\":%.1f,"
                    "\"default_threads_min\":%d,\"default_threads_max\":%d}\n",
                    c.attention.c_str(), one.tokens_per_s, fixed.tokens_per_s, threads, fixed_one.tokens_per_s, sized.tokens_per_s, sized.min_threads,
                    sized.max_threads);
        return 0;
    }
    std::printf("shared machine: one competing CPU-bound process beside the training (%s attention)\n", c.attention.c_str());
    std::printf("  alone, 1 thread:                   %9.0f tokens/s\n", one.tokens_per_s);
    std::printf("  beside it, %d threads fixed:        %9.0f tokens/s  (%.2fx the one-thread figure)\n", threads,
                fixed.tokens_per_s, fixed.tokens_per_s / one.tokens_per_s);
    std::printf("  beside it, 1 thread fixed:         %9.0f tokens/s  (%.2fx the one-thread figure)\n", fixed_one.tokens_per_s,
                fixed_one.tokens_per_s / one.tokens_per_s);
    std::printf("  beside it, default (free cores):   %9.0f tokens/s  (%.2fx the one-thread figure; %s threads)\n",
                sized.tokens_per_s, sized.tokens_per_s / one.tokens_per_s, threads_text(sized).c_str());
    return 0;
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
               {"threads", true, "a fixed team of N threads (default: sized to the free cores between steps, as training does)"},
               {"compare", false, "also run bench/pytorch_reference.py on the same model"},
               {"compete", false, "start one CPU-bound process beside the training and compare with the one-thread figure"},
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
    const int fixed_threads = args.flag("threads") ? int(args.get_int("threads", 0)) : 0;
    SPLATLM_CHECK(!args.flag("threads") || (fixed_threads >= 1 && fixed_threads <= 1024), "bench train: --threads must be 1 … 1024, got ",
                  args.get("threads", ""));
    const Device device = parse_device(args.get("device", "cpu"));
    if (device == Device::CUDA) cuda::require_gpu("bench train --device cuda");
    int threads = 1;
#ifdef _OPENMP
    threads = fixed_threads > 0 ? fixed_threads : omp_get_max_threads();
#endif
    if (args.flag("compete")) {
        SPLATLM_CHECK(device == Device::CPU, "bench train: --compete measures CPU threads; drop --device cuda");
        return compete(c, batch, steps, warmup, threads, args.flag("json"));
    }
    TrainBenchResult ours = measure(c, batch, steps, warmup, device, fixed_threads);
    // Model FLOPs of a step: 6 per parameter per token (forward 2, backward 4); attention's own
    // products (T·d per token and layer) are not counted, so the utilisation is a lower bound.
    const double model_gflops = 6.0 * double(ours.params) * double(batch * c.context) / 1e9;
    const double achieved = model_gflops / (ours.ms_per_step / 1000.0);
    const double peak = device == Device::CPU ? fma_peak_gflops_per_core(ours.max_threads) * ours.max_threads : 0;
    Json ref = args.flag("compare") ? run_pytorch(c, batch, steps, ours.max_threads, device) : Json();
    if (args.flag("json")) {
        std::printf("{\"kind\":\"train\",\"device\":\"%s\",\"attention\":\"%s\",\"tokens_per_s\":%.1f,\"ms_per_step\":%.3f,\"params\":%lld,"
                    "\"threads\":%d,\"batch\":%lld,\"context\":%lld,\"layers\":%lld,\"heads\":%lld,\"width\":%lld,"
                    "\"vocab\":%lld,\"model_gflops_per_s\":%.1f,\"peak_gflops_per_s\":%.1f,\"peak_rss_mb\":%.1f,\"peak_tensor_mb\":%.1f}\n",
                    device_name(device), c.attention.c_str(), ours.tokens_per_s, ours.ms_per_step, (long long)ours.params, ours.max_threads,
                    (long long)batch, (long long)c.context, (long long)c.layers, (long long)c.heads, (long long)c.width,
                    (long long)c.vocab, achieved, peak, ours.peak_rss_mb, ours.peak_tensor_mb);
        if (!ref.is_null()) std::printf("%s\n", ref.dump().c_str());
        return 0;
    }
    std::printf("training step on %s, %lld layers, %lld heads, width %lld, context %lld, batch %lld, vocab %lld, %s threads%s\n",
                device_name(device), (long long)c.layers, (long long)c.heads, (long long)c.width, (long long)c.context, (long long)batch,
                (long long)c.vocab, threads_text(ours).c_str(), fixed_threads > 0 ? " (fixed)" : " (sized to the free cores)");
    std::printf("  splatlm (%s): %9.0f tokens/s  %8.2f ms/step  %lld parameters\n", c.attention.c_str(),
                ours.tokens_per_s, ours.ms_per_step, (long long)ours.params);
    if (device == Device::CPU)
        std::printf("  model FLOPs (6·params·tokens): %.1f GFLOP/s = %.0f%% of the measured FMA peak (%.1f GFLOP/s on %d threads)\n",
                    achieved, 100 * achieved / peak, peak, ours.max_threads);
    std::printf("  peak memory during the steps: resident set %.0f MiB, tensors %.0f MiB\n", ours.peak_rss_mb, ours.peak_tensor_mb);
    if (args.flag("compare")) {
        if (ref.is_null())
            std::printf("  PyTorch: not available (pip install torch, or point SPLATLM_PYTHON at a python that has it) — reference skipped\n");
        else
            std::printf("  PyTorch %s (%s): %9.0f tokens/s  %8.2f ms/step  → splatlm/PyTorch = %.2fx; peak resident set %.0f MiB\n",
                        ref.at("torch").as_string().c_str(), ref.at("impl").as_string().c_str(),
                        ref.at("tokens_per_s").as_double(), ref.at("ms_per_step").as_double(),
                        ours.tokens_per_s / ref.at("tokens_per_s").as_double(), ref.at("peak_rss_mb").as_double());
    }
    return 0;
}

}  // namespace splatlm
