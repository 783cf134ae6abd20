// bench_attention.cpp — `splatlm bench attention`: forward and forward+backward time and peak
// memory of each attention op on [1, H, n, D] inputs (the op alone, without the q/k/v and output
// projections every kind shares), for n from 256 up. Peak memory counts tensor storage alive
// during the call (inputs excluded): outputs, saved activations and gradients. --device cuda runs the
// same ops on the GPU; each timing then ends with a wait for the GPU, and peak memory is the
// caching allocator's peak of device memory in use.
#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "cuda/runtime.h"
#include "bench/bench.h"
#include "nn/causal_attention.h"
#include "nn/linear_attention.h"
#include "splat/splat_local.h"
#include "splat/splat_op.h"
#include "tensor/error.h"
#include "train/args.h"

namespace splatlm {

namespace {

using AttentionOp = std::function<Tensor(const Tensor& q, const Tensor& k, const Tensor& v)>;

struct Kind {
    std::string name;
    AttentionOp op;
    int64_t max_n;  // beyond this the O(n²) kinds take minutes: skipped, and the table says so
};

std::vector<Kind> kinds(int64_t window, int64_t splats, int64_t top, bool decay, int64_t n, int64_t heads, int64_t d,
                        Device device) {
    // Splat parameters as a model initialises them: centres ~ N(0, 0.5²), scale √d, amplitude 1.
    Rng rng(11);
    Tensor centres = Tensor::randn({heads, splats, d}, rng, 0.5f).to(device);
    Tensor log_scale = Tensor::full({heads, splats}, 0.5f * std::log(float(d)), device),
           log_amp = Tensor::zeros({heads, splats}, device);
    Tensor gate_logit = Tensor::zeros({heads}, device);  // splat_local's gate at its initial value, g = ½
    for (Tensor* t : {&centres, &log_scale, &log_amp, &gate_logit}) t->set_requires_grad();
    SplatOptions options;
    options.top = top;
    if (decay) options.log_decay = initial_log_decay(heads, splats, n).to(device);  // as a model of context n starts
    // Exact softmax is O(n²): past 16k tokens a CPU call takes minutes; the GPU's flash kernel goes on.
    const int64_t softmax_max_n = device == Device::CUDA ? int64_t(1) << 40 : 16384;
    return {
        {"splat", [=](const Tensor& q, const Tensor& k, const Tensor& v) {
             return splat_attention(q, k, v, centres, log_scale, log_amp, options);
         }, int64_t(1) << 40},
        {"splat_local", [=](const Tensor& q, const Tensor& k, const Tensor& v) {
             return splat_local_attention(q, k, v, window, centres, log_scale, log_amp, gate_logit, options);
         }, int64_t(1) << 40},
        {"softmax", [](const Tensor& q, const Tensor& k, const Tensor& v) { return causal_softmax_attention(q, k, v); },
         softmax_max_n},
        {"local", [window](const Tensor& q, const Tensor& k, const Tensor& v) {
             return causal_softmax_attention(q, k, v, window);
         }, int64_t(1) << 40},
        {"linear", [](const Tensor& q, const Tensor& k, const Tensor& v) { return causal_linear_attention(q, k, v); },
         int64_t(1) << 40},
    };
}

struct Measurement {
    double fwd_ms, fwdbwd_ms, peak_mb;
};

// Storage in use on the device and its peak since the last reset, in bytes.
struct MemoryMeter {
    Device device;
    void reset() const { device == Device::CUDA ? cuda::reset_peak_memory() : reset_cpu_peak_memory(); }
    int64_t live() const {
        return device == Device::CUDA ? int64_t(cuda::allocator_stats().bytes_in_use) : cpu_memory_stats().live_bytes;
    }
    int64_t peak() const {
        return device == Device::CUDA ? int64_t(cuda::allocator_stats().peak_bytes_in_use) : cpu_memory_stats().peak_bytes;
    }
    void finish() const {  // a GPU timing ends when the queued kernels have run
        if (device == Device::CUDA) cuda::synchronize();
    }
};

Measurement measure(const AttentionOp& op, int64_t n, int64_t d, int64_t heads, int repeats, Device device) {
    Rng rng(3);
    Tensor q = Tensor::randn({1, heads, n, d}, rng).to(device), k = Tensor::randn({1, heads, n, d}, rng).to(device),
           v = Tensor::randn({1, heads, n, d}, rng).to(device), g = Tensor::randn({1, heads, n, d}, rng).to(device);
    for (Tensor* t : {&q, &k, &v}) t->set_requires_grad();
    const MemoryMeter memory{device};
    std::vector<double> fwd, both;
    double peak = 0;
    for (int r = 0; r < repeats + 1; ++r) {  // the first round warms up
        {
            NoGradGuard no_grad;
            const auto t0 = std::chrono::steady_clock::now();
            Tensor y = op(q, k, v);
            memory.finish();
            if (r > 0) fwd.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        for (Tensor* t : {&q, &k, &v}) t->zero_grad();
        memory.reset();
        const int64_t base = memory.live();
        const auto t0 = std::chrono::steady_clock::now();
        backward(op(q, k, v), g);
        memory.finish();
        if (r > 0) both.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        peak = std::max(peak, (memory.peak() - base) / 1048576.0);
    }
    return {median_of(fwd), median_of(both), peak};
}

// The device's copy bandwidth: a 256 MiB device-to-device copy reads and writes every byte, median
// of 5 after a warm-up. The yardstick for the kernels' achieved bandwidth.
double copy_bandwidth_gbps() {
    const int64_t n = int64_t(64) << 20;  // floats
    Tensor a = Tensor::zeros({n}, Device::CUDA), b = Tensor::empty({n}, Device::CUDA);
    std::vector<double> seconds;
    for (int r = 0; r < 6; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        cuda::copy_device_to_device(b.data(), a.data(), n * sizeof(float));
        cuda::synchronize();
        if (r > 0) seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return 2.0 * n * sizeof(float) / median_of(seconds) / 1e9;
}

}  // namespace

int bench_attention(int argc, char** argv) {
    Args args("bench attention",
              {{"n", true, "one sequence length (default: 256, 1024, 4096, 16384, 65536)"},
               {"d", true, "head dimension (default 64)"},
               {"heads", true, "heads (default 1)"},
               {"window", true, "window of `local` and `splat_local` (default 32)"},
               {"k", true, "splats per head of `splat` and `splat_local` (default 16)"},
               {"top", true, "sparse routing of `splat` and `splat_local`: splats per token, 0 = all (default 0)"},
               {"decay", true, "true|false: the splat kinds with the model's learned recency decay (default true, as the default model)"},
               {"kinds", true, "comma-separated kinds (default: all)"},
               {"repeats", true, "measured repeats (default 3)"},
               {"device", true, "cpu (default) or cuda (default lengths then 1k … 256k)"},
               {"json", false, "one JSON object per line"}},
              argc, argv, 3);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    const Device device = parse_device(args.get("device", "cpu"));
    if (device == Device::CUDA) cuda::require_gpu("bench attention --device cuda");
    const int64_t d = args.get_int("d", 64), heads = args.get_int("heads", 1), window = args.get_int("window", 32),
                  splats = args.get_int("k", 16), top = args.get_int("top", 0);
    const int repeats = int(args.get_int("repeats", 3));
    const std::string decay_text = args.get("decay", "true");
    SPLATLM_CHECK(decay_text == "true" || decay_text == "false", "bench attention: --decay must be true or false, got '",
                  decay_text, "'");
    const bool decay = decay_text == "true";
    SPLATLM_CHECK(d > 0 && heads > 0 && window > 0 && splats > 0 && repeats > 0, "bench attention: sizes must be positive");
    SPLATLM_CHECK(top >= 0 && top <= splats, "bench attention: --top must be in [0, k = ", splats, "], got ", top);
    std::vector<int64_t> lengths = {256, 1024, 4096, 16384, 65536};
    if (device == Device::CUDA) lengths = {1024, 4096, 16384, 65536, 262144};
    if (args.has("n")) lengths = {args.get_int("n", 0)};
    std::string wanted = ",";  // ",kind,kind," so a kind is found with its commas
    wanted += args.get("kinds", "splat,splat_local,softmax,local,linear");
    wanted += ",";
    const bool json = args.flag("json");
    // On the GPU each row also gives the forward's achieved bandwidth over its least possible traffic
    // (read q, k, v once, write y once: 4·H·n·D floats) as a fraction of the copy bandwidth.
    const double copy_gbps = device == Device::CUDA ? copy_bandwidth_gbps() : 0;
    if (device == Device::CUDA && !json) std::printf("device copy bandwidth: %.0f GB/s\n", copy_gbps);
    if (!json) std::printf("attention op on %s, D=%lld, heads=%lld, K=%lld, top=%lld, decay %s, median of %d\n%-11s %8s %12s %12s %10s\n",
                           device_name(device), (long long)d, (long long)heads, (long long)splats, (long long)top, decay ? "on" : "off", repeats, "kind", "n",
                           "fwd ms", "fwd+bwd ms", "peak MB");
    for (int64_t n : lengths)
        for (const Kind& kind : kinds(window, splats, top, decay, n, heads, d, device)) {
            if (wanted.find("," + kind.name + ",") == std::string::npos) continue;
            if (n > kind.max_n) {
                if (!json) std::printf("%-11s %8lld   skipped: O(n²) time, minutes per call\n", kind.name.c_str(), (long long)n);
                continue;
            }
            Measurement m = measure(kind.op, n, d, heads, repeats, device);
            const double fwd_gbps =  // 0 on the CPU: not measured there
                device == Device::CUDA ? 4.0 * heads * n * d * sizeof(float) / (m.fwd_ms * 1e-3) / 1e9 : 0;
            const bool splat_kind = kind.name == "splat" || kind.name == "splat_local";
            if (json)
                std::printf("{\"device\":\"%s\",\"kind\":\"%s\",\"n\":%lld,\"k\":%lld,\"top\":%lld,\"decay\":%s,\"d\":%lld,"
                            "\"heads\":%lld,\"fwd_ms\":%.3f,\"fwdbwd_ms\":%.3f,\"peak_mb\":%.2f,\"fwd_gbps\":%.1f,"
                            "\"copy_gbps\":%.1f}\n",
                            device_name(device), kind.name.c_str(), (long long)n, (long long)(splat_kind ? splats : 0),
                            (long long)(splat_kind ? top : 0), splat_kind && decay ? "true" : "false", (long long)d,
                            (long long)heads, m.fwd_ms, m.fwdbwd_ms, m.peak_mb, fwd_gbps, copy_gbps);
            else if (device == Device::CUDA)
                std::printf("%-11s %8lld %12.2f %12.2f %10.2f   fwd %6.0f GB/s = %3.0f%% of copy\n", kind.name.c_str(),
                            (long long)n, m.fwd_ms, m.fwdbwd_ms, m.peak_mb, fwd_gbps, 100 * fwd_gbps / copy_gbps);
            else
                std::printf("%-11s %8lld %12.2f %12.2f %10.2f\n", kind.name.c_str(), (long long)n, m.fwd_ms, m.fwdbwd_ms,
                            m.peak_mb);
            std::fflush(stdout);
        }
    return 0;
}

}  // namespace splatlm
