// PLACEHOLDER until the GEMM work lands.
#include "bench/bench.h"
#include "tensor/error.h"
namespace splatlm {
int bench_gemm(int, char**) { fail("bench gemm: not implemented yet"); }
}  // namespace splatlm
