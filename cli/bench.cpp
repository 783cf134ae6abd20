// bench.cpp — `splatlm bench KIND`: picks one benchmark of bench/ by name (bench/bench.h) and
// lists them for --help.
#include <cstdio>
#include <cstring>

#include "bench/bench.h"
#include "cli/commands.h"
#include "tensor/error.h"

namespace splatlm {

int cmd_bench(int argc, char** argv) {
    struct Kind {
        const char* name;
        const char* summary;
        int (*run)(int, char**);
    };
    static const Kind kinds[] = {
        {"peak", "FP32 FMA throughput per core, measured (what bench train's model-FLOP utilisation is against)", bench_peak},
        {"gemm", "single-precision GEMM GFLOP/s (with OpenBLAS beside it when installed)", bench_gemm},
        {"train", "tokens/s of a full training step (with PyTorch beside it: --compare)", bench_train},
        {"attention", "fwd and fwd+bwd time and peak memory of each attention op against n", bench_attention},
        {"generate", "time to generate one token with one attention layer against the context position", bench_generate},
        {"serve", "loopback load test of splatlm serve: requests/s, tokens/s, latency, session memory", bench_serve},
        {"allreduce", "dist/'s gradient all-reduce: bytes vs time under mpirun -np N (checked bitwise first)", bench_allreduce},
        {"dist-step", "one data-parallel step under mpirun -np N: compute, idle, all-reduce, optimizer per rank", bench_dist_step},
    };
    if (argc < 3 || !std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h")) {
        std::printf("usage: splatlm bench KIND [options]   (splatlm bench KIND --help)\n\nkinds:\n");
        for (const Kind& k : kinds) std::printf("  %-10s %s\n", k.name, k.summary);
        return argc < 3 ? 2 : 0;
    }
    for (const Kind& k : kinds)
        if (!std::strcmp(argv[2], k.name)) return k.run(argc, argv);
    fail("unknown benchmark '", argv[2], "' (see splatlm bench --help)");
}

}  // namespace splatlm
