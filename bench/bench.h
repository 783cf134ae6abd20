// bench.h — `splatlm bench KIND [options]`: each kind measures one thing (median of repeated runs
// after warm-up), prints a human table, or with --json one JSON object per line.
#pragma once

namespace splatlm {

int run_bench(int argc, char** argv);  // argv[1] == "bench", argv[2] == kind
int bench_gemm(int argc, char** argv);
int bench_train(int argc, char** argv);
int bench_attention(int argc, char** argv);
int bench_generate(int argc, char** argv);

}  // namespace splatlm
