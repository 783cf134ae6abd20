// bench_gemm.cpp — `splatlm bench gemm`: GFLOP/s of splatlm::gemm beside OpenBLAS's cblas_sgemm,
// same operands, same thread count, interleaved in the same run. Each shape is warmed up, then
// timed `repeats` times (each repeat long enough to read the clock reliably); the median counts.
// Every result is checked (against OpenBLAS, or against exact dot products on a sample of
// entries when OpenBLAS is missing) so a wrong kernel cannot post a figure.
//
// --device cuda: the same shapes through raw::matmul on CUDA tensors (cuBLAS, FP32), each timing
// ending in a wait for the GPU; checked against splatlm's CPU gemm. No GPU: one line, exit 1.
//
// --json: one object per shape and line:
//   {"op":"gemm","m":..,"n":..,"k":..,"trans":"NN","threads":..,"ms":..,"gflops":..,
//    "openblas_ms":..,"openblas_gflops":..,"ratio":..,"check":"openblas","max_rel_diff":..,"ok":true}
// (with "device":"cuda" added for --device cuda). ratio = gflops / openblas_gflops; the openblas_*
// fields and ratio are null without OpenBLAS or on CUDA, and check is then "sampled" or "cpu". ok is false when the result is off by more than rounding (the
// command then also fails).
#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench.h"
#include "bench/openblas_ref.h"
#include "cuda/runtime.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/ops.h"
#include "tensor/rng.h"
#include "train/args.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace splatlm {
namespace {

struct GemmShape {
    int64_t m, n, k;
    bool ta, tb;  // A stored as K×M (computes Aᵀ·B), B stored as N×K (A·Bᵀ)
    const char* role;
};

// Squares, then the products of a small transformer (width 128, MLP 512, fused QKV 384) on
// batches of 4096 and 768 token rows: forward x·W, input gradient dY·Wᵀ, weight gradient Xᵀ·dY.
const std::vector<GemmShape> kDefaultShapes = {
    {256, 256, 256, false, false, "square"},
    {512, 512, 512, false, false, "square"},
    {1024, 1024, 1024, false, false, "square"},
    {2048, 2048, 2048, false, false, "square"},
    {4096, 512, 128, false, false, "MLP up x·W"},
    {4096, 128, 512, false, false, "MLP down x·W"},
    {4096, 128, 512, false, true, "input grad dY·Wᵀ"},
    {768, 384, 128, false, false, "QKV x·W"},
    {768, 512, 128, false, false, "MLP up x·W"},
    {768, 128, 512, false, false, "MLP down x·W"},
    {128, 512, 768, true, false, "weight grad Xᵀ·dY"},
    {512, 128, 4096, true, false, "weight grad Xᵀ·dY"},
};

std::string trans_label(const GemmShape& s) { return std::string(s.ta ? "T" : "N") + (s.tb ? "T" : "N"); }
std::string op_label(const GemmShape& s) { return std::string(s.ta ? "Aᵀ" : "A") + "·" + (s.tb ? "Bᵀ" : "B"); }

// Operands of one shape in the layout the shape asks for, random in [-1, 1).
struct Operands {
    GemmShape s;
    std::vector<float> a, b;
    int64_t rsa, csa, rsb, csb;
    explicit Operands(const GemmShape& shape) : s(shape), a(size_t(s.m * s.k)), b(size_t(s.k * s.n)) {
        Rng rng(42);
        rng.uniform(a.data(), int64_t(a.size()), -1.f, 1.f);
        rng.uniform(b.data(), int64_t(b.size()), -1.f, 1.f);
        rsa = s.ta ? 1 : s.k, csa = s.ta ? s.m : 1;
        rsb = s.tb ? 1 : s.n, csb = s.tb ? s.k : 1;
    }
    float A(int64_t i, int64_t p) const { return a[size_t(i * rsa + p * csa)]; }
    float B(int64_t p, int64_t j) const { return b[size_t(p * rsb + j * csb)]; }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(150)); }

// Appends `repeats` timings (seconds per call) of fn to `out`, after one warm-up call that also
// calibrates how many calls a timing spans (enough for ~20 ms, so the clock reads reliably).
// finish() ends every timed stretch: for the GPU, a wait until the queued calls have run.
void time_calls(const std::function<void()>& fn, int repeats, std::vector<double>& out,
                const std::function<void()>& finish = [] {}) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    finish();
    const int calls = std::max(1, int(0.02 / std::max(seconds_since(t0), 1e-7)));
    for (int r = 0; r < repeats; ++r) {
        t0 = std::chrono::steady_clock::now();
        for (int c = 0; c < calls; ++c) fn();
        finish();
        out.push_back(seconds_since(t0) / calls);
    }
}

// Largest |ours − ref| over the result (ref: OpenBLAS's C when given, otherwise exact double dot
// products on 512 sampled entries), returned with max |ref| to make it relative.
struct Diff {
    double abs = 0, scale = 0;
};
Diff compare(const Operands& op, const std::vector<float>& c, const std::vector<float>* ref) {
    Diff d;
    if (ref) {
        for (size_t i = 0; i < c.size(); ++i) {
            d.abs = std::max(d.abs, double(std::fabs(c[i] - (*ref)[i])));
            d.scale = std::max(d.scale, double(std::fabs((*ref)[i])));
        }
        return d;
    }
    Rng pick(7);
    for (int t = 0; t < 512; ++t) {
        const int64_t i = int64_t(pick.next_u64() % uint64_t(op.s.m)), j = int64_t(pick.next_u64() % uint64_t(op.s.n));
        double exact = 0;
        for (int64_t p = 0; p < op.s.k; ++p) exact += double(op.A(i, p)) * op.B(p, j);
        d.abs = std::max(d.abs, std::fabs(c[size_t(i * op.s.n + j)] - exact));
        d.scale = std::max(d.scale, std::fabs(exact));
    }
    return d;
}

struct Result {
    double ms, gflops, ref_ms = 0, ref_gflops = 0, rel_diff;
    bool ok;
};

// Each float result is within K·ε·max|a|·max|b| of the exact one (|a|, |b| < 1 here), so two
// correct results differ by at most twice that.
void judge(const GemmShape& s, const Diff& d, Result& r) {
    r.rel_diff = d.scale > 0 ? d.abs / d.scale : d.abs;
    r.ok = d.abs <= 2.0 * double(s.k) * FLT_EPSILON;
}

// One operand on the GPU, stored as `rows_stored` × `cols_stored` and viewed transposed if asked.
Tensor device_operand(const std::vector<float>& values, int64_t rows_stored, int64_t cols_stored, bool transposed) {
    Tensor t = Tensor::from_vector(values, {rows_stored, cols_stored}).to(Device::CUDA);
    return transposed ? raw::transpose(t, 0, 1) : t;
}

// raw::matmul on CUDA tensors (cuBLAS), checked against splatlm's CPU gemm on the same operands.
Result run_shape_cuda(const GemmShape& s, int repeats) {
    Operands op(s);
    const Tensor a = s.ta ? device_operand(op.a, s.k, s.m, true) : device_operand(op.a, s.m, s.k, false);
    const Tensor b = s.tb ? device_operand(op.b, s.n, s.k, true) : device_operand(op.b, s.k, s.n, false);
    Tensor c;
    auto ours = [&] { c = raw::matmul(a, b); };
    std::vector<double> mine;
    time_calls(ours, repeats, mine, cuda::synchronize);
    Result r{};
    r.ms = median_of(mine) * 1e3, r.gflops = 2.0 * double(s.m) * double(s.n) * double(s.k) / (r.ms * 1e6);
    std::vector<float> ref(size_t(s.m * s.n));
    gemm(s.m, s.n, s.k, 1.f, op.a.data(), op.rsa, op.csa, op.b.data(), op.rsb, op.csb, 0.f, ref.data(), s.n, 1);
    judge(s, compare(op, c.to(Device::CPU).to_vector(), &ref), r);
    return r;
}

Result run_shape(const GemmShape& s, int repeats, const OpenBlasRef& blas) {
    Operands op(s);
    std::vector<float> c(size_t(s.m * s.n)), c_ref(c.size());
    const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
    auto ours = [&] {
        gemm(s.m, s.n, s.k, 1.f, op.a.data(), op.rsa, op.csa, op.b.data(), op.rsb, op.csb, 0.f, c.data(), s.n, 1);
    };
    auto theirs = [&] {
        blas.gemm(s.m, s.n, s.k, 1.f, op.a.data(), op.rsa, op.csa, op.b.data(), op.rsb, op.csb, 0.f, c_ref.data(),
                  s.n, 1);
    };
    Result r{};
    // Interleave ours and theirs in three rounds so that load from other processes hits both
    // alike. Between them, pause: OpenBLAS's idle workers keep spinning for ~0.1 s after a call
    // (its THREAD_TIMEOUT, 2^28 cycles) and would otherwise steal a core from the next timing.
    std::vector<double> mine, ref;
    const int rounds = std::min(3, repeats);
    for (int round = 0; round < rounds; ++round) {
        const int n = repeats * (round + 1) / rounds - repeats * round / rounds;
        settle();
        time_calls(ours, n, mine);
        if (!blas.available()) continue;
        settle();
        time_calls(theirs, n, ref);
    }
    r.ms = median_of(mine) * 1e3, r.gflops = flops / (r.ms * 1e6);
    if (blas.available()) r.ref_ms = median_of(ref) * 1e3, r.ref_gflops = flops / (r.ref_ms * 1e6);
    judge(s, compare(op, c, blas.available() ? &c_ref : nullptr), r);
    return r;
}

std::string json_number(double v, bool present) {
    if (!present) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

}  // namespace

int bench_gemm(int argc, char** argv) {
    Args args("bench gemm",
              {{"m", true, "rows of C (with --n and --k: benchmark this one shape)"},
               {"n", true, "columns of C"},
               {"k", true, "inner dimension"},
               {"trans", true, "NN (default), TN (Aᵀ·B), NT (A·Bᵀ) or TT"},
               {"repeats", true, "timed repeats per shape, median reported (default 7)"},
               {"threads", true, "threads for both splatlm and OpenBLAS (default: OpenMP's)"},
               {"device", true, "cpu (default), or cuda: cuBLAS through raw::matmul, checked against the CPU"},
               {"json", false, "one JSON object per line instead of the table"}},
              argc, argv, 3);
    if (args.help()) {
        std::printf("%s", args.usage().c_str());
        return 0;
    }
    std::vector<GemmShape> shapes = kDefaultShapes;
    if (args.has("m") || args.has("n") || args.has("k")) {
        SPLATLM_CHECK(args.has("m") && args.has("n") && args.has("k"), "bench gemm: give all of --m, --n and --k");
        const std::string t = args.get("trans", "NN");
        SPLATLM_CHECK(t == "NN" || t == "TN" || t == "NT" || t == "TT",
                      "bench gemm: --trans must be NN, TN, NT or TT, got '", t, "'");
        GemmShape s{args.get_int("m", 0), args.get_int("n", 0), args.get_int("k", 0), t[0] == 'T', t[1] == 'T', "custom"};
        SPLATLM_CHECK(s.m > 0 && s.n > 0 && s.k > 0, "bench gemm: sizes must be positive, got ", s.m, "x", s.n, "x",
                      s.k);
        shapes = {s};
    }
    const int repeats = int(args.get_int("repeats", 7));
    SPLATLM_CHECK(repeats >= 1, "bench gemm: --repeats must be at least 1, got ", repeats);
    int threads = 1;
#ifdef _OPENMP
    threads = int(args.get_int("threads", omp_get_max_threads()));
    SPLATLM_CHECK(threads >= 1, "bench gemm: --threads must be at least 1, got ", threads);
    omp_set_num_threads(threads);
#else
    SPLATLM_CHECK(args.get_int("threads", 1) == 1, "bench gemm: built without OpenMP, only --threads 1 is possible");
#endif
    const bool json = args.flag("json");
    const std::string device = args.get("device", "cpu");
    SPLATLM_CHECK(device == "cpu" || device == "cuda", "bench gemm: --device must be cpu or cuda, got '", device, "'");
    const bool on_gpu = device == "cuda";
    std::string why;
    SPLATLM_CHECK(!on_gpu || cuda::available(&why), "bench gemm --device cuda: no GPU: ", why);

    OpenBlasRef blas;
    blas.set_threads(threads);
    if (json && !on_gpu && !blas.available())  // keep stdout pure JSON
        std::fprintf(stderr, "reference column skipped: %s\n", blas.why().c_str());
    if (!json && on_gpu) {
        std::printf("GEMM fp32 on %s: cuBLAS (FP32 math, no TF32) via raw::matmul, median of %d repeats\n"
                    "checked against splatlm's CPU gemm; no OpenBLAS column\n",
                    cuda::devices().front().name.c_str(), repeats);
    } else if (!json) {
        std::printf("GEMM fp32, C = alpha·op(A)·op(B), %d thread%s, median of %d repeats\n", threads,
                    threads == 1 ? "" : "s", repeats);
        if (blas.available())
            std::printf("reference: OpenBLAS cblas_sgemm (%s), same threads and operands\n", blas.config().c_str());
        else
            std::printf("reference column skipped: %s\n", blas.why().c_str());
#ifdef _OPENMP
        // libgomp's default waits spin; beside another busy process that costs ~8 ms per call
        // (docs/BENCHMARKS.md), so say which policy this run had.
        const char* policy = std::getenv("OMP_WAIT_POLICY");
        std::printf("OMP_WAIT_POLICY=%s%s\n", policy ? policy : "(unset)",
                    policy ? "" : "; on a shared, busy host use OMP_WAIT_POLICY=passive (docs/BENCHMARKS.md)");
#endif
    }
    if (!json) {
        std::printf("\n%-16s %-6s %-20s %9s %9s %9s %9s %7s %10s\n", "M×N×K", "op", "role", "GFLOP/s", "ms",
                    "BLAS GF/s", "BLAS ms", "ratio", "max rel Δ");
    }
    bool all_ok = true;
    for (const GemmShape& s : shapes) {
        const Result r = on_gpu ? run_shape_cuda(s, repeats) : run_shape(s, repeats, blas);
        all_ok = all_ok && r.ok;
        const bool ref = !on_gpu && blas.available();
        if (json) {
            std::printf("{\"op\":\"gemm\",%s\"m\":%lld,\"n\":%lld,\"k\":%lld,\"trans\":\"%s\",\"threads\":%d,\"ms\":%s,"
                        "\"gflops\":%s,\"openblas_ms\":%s,\"openblas_gflops\":%s,\"ratio\":%s,\"check\":\"%s\","
                        "\"max_rel_diff\":%s,\"ok\":%s}\n",
                        on_gpu ? "\"device\":\"cuda\"," : "", (long long)s.m, (long long)s.n, (long long)s.k, trans_label(s).c_str(), threads,
                        json_number(r.ms, true).c_str(), json_number(r.gflops, true).c_str(),
                        json_number(r.ref_ms, ref).c_str(), json_number(r.ref_gflops, ref).c_str(),
                        json_number(r.gflops / r.ref_gflops, ref).c_str(), on_gpu ? "cpu" : ref ? "openblas" : "sampled",
                        json_number(r.rel_diff, true).c_str(), r.ok ? "true" : "false");
        } else {
            char dims[48];
            std::snprintf(dims, sizeof dims, "%lldx%lldx%lld", (long long)s.m, (long long)s.n, (long long)s.k);
            // Width-pad by hand: the op and role labels contain multi-byte characters.
            auto pad = [](std::string t, size_t w) {
                size_t shown = 0;
                for (unsigned char ch : t) shown += (ch & 0xC0) != 0x80;
                return t + std::string(w > shown ? w - shown : 0, ' ');
            };
            std::printf("%-16s %s %s %9.1f %9.3f ", dims, pad(op_label(s), 6).c_str(), pad(s.role, 20).c_str(),
                        r.gflops, r.ms);
            if (ref)
                std::printf("%9.1f %9.3f %7.2f", r.ref_gflops, r.ref_ms, r.gflops / r.ref_gflops);
            else
                std::printf("%9s %9s %7s", "-", "-", "-");
            std::printf(" %10.2e%s\n", r.rel_diff, r.ok ? "" : "  WRONG RESULT");
        }
        std::fflush(stdout);
    }
    SPLATLM_CHECK(all_ok, "bench gemm: a result disagreed with the reference beyond rounding (see table)");
    return 0;
}

}  // namespace splatlm
