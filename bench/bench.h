// bench.h — the benchmarks behind `splatlm bench KIND [options]` (the subcommand itself, which
// picks one by name, is cli/bench.cpp). Each kind measures one thing (median of repeated runs
// after warm-up), prints a human table, or with --json one JSON object per line. Each gets the
// full argv (argv[1] == "bench", argv[2] == its kind) and returns the process exit code.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

namespace splatlm {

// "a,b,,c" → {"a", "b", "c"}: the --kinds lists.
inline std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> parts;
    const std::string list = text + ",";
    for (size_t a = 0, b; (b = list.find(',', a)) != std::string::npos; a = b + 1)
        if (b > a) parts.push_back(list.substr(a, b - a));
    return parts;
}

// The median of repeated timings (the upper one of an even count).
inline double median_of(std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
}

// The FP32 FMA throughput of one core, measured with `threads` threads busy at once (bench_peak.cpp).
double fma_peak_gflops_per_core(int threads);

int bench_peak(int argc, char** argv);
int bench_gemm(int argc, char** argv);
int bench_train(int argc, char** argv);
int bench_attention(int argc, char** argv);
int bench_generate(int argc, char** argv);
int bench_serve(int argc, char** argv);
int bench_allreduce(int argc, char** argv);
int bench_dist_step(int argc, char** argv);

}  // namespace splatlm
