// bench_allreduce.cpp — `mpirun -np N splatlm bench allreduce`: the gradient all-reduce of dist/
// alone, bytes against time, after checking its result bit for bit.
//
// Check first: every rank fills the buffer with values that depend on its rank (sines, so each sum
// rounds), all-reduces it, and compares every float with a reference that any rank can compute:
// the sum in the order dist/communicator.h promises (chunk c: ((g[c+1] + g[c+2]) + …) + g[c]).
// A mismatch — a wrong sum or a different order — fails the benchmark (`make test` runs it with 3
// ranks). Then, per size, the median over --repeats all-reduces (each after a barrier, so no rank is
// still busy with the previous one). busbw = 2·(N−1)/N · bytes / time is what each link carried:
// comparable across N, and what docs/DISTRIBUTED.md's scaling model uses.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "dist/communicator.h"
#include "tensor/error.h"
#include "train/args.h"

namespace splatlm {

namespace {

float contribution(int rank, int64_t i) { return std::sin(0.37f * float(i) + 1.91f * float(rank)) * float(1 + rank); }

// Element i of the all-reduce in the documented ring order, from every rank's values (`all`, filled
// beforehand: summing straight from contribution() would let the compiler fuse a multiply into
// the add, which the ring — adding stored floats — never does).
float expected_sum(const std::vector<std::vector<float>>& all, int64_t count, int64_t i) {
    const int ranks = int(all.size());
    int chunk = 0;
    while (count * (chunk + 1) / ranks <= i) ++chunk;
    float sum = all[(chunk + 1) % ranks][i];
    for (int k = 2; k <= ranks; ++k) sum = sum + all[(chunk + k) % ranks][i];
    return sum;
}

// Number of floats that differ from the reference, summed over the ranks.
int64_t check_all_reduce(dist::Communicator& comm, int64_t count) {
    std::vector<std::vector<float>> all(size_t(comm.size()), std::vector<float>(size_t(count)));
    for (int r = 0; r < comm.size(); ++r)
        for (int64_t i = 0; i < count; ++i) all[r][i] = contribution(r, i);
    std::vector<float> data = all[comm.rank()];
    comm.all_reduce_sum(data.data(), count);
    float wrong = 0;
    for (int64_t i = 0; i < count; ++i) wrong += data[i] != expected_sum(all, count, i);
    return int64_t(std::lround(comm.mean(wrong) * comm.size()));
}

double median_seconds(dist::Communicator& comm, std::vector<float>& data, int repeats) {
    std::vector<double> times;
    for (int r = 0; r < repeats + 2; ++r) {  // two warm-up rounds
        comm.barrier();
        const auto t0 = std::chrono::steady_clock::now();
        comm.all_reduce_sum(data.data(), int64_t(data.size()));
        if (r >= 2) times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return median_of(times);
}

std::vector<int64_t> parse_sizes(const std::string& text) {
    std::vector<int64_t> sizes;
    std::string list = text + ",";
    for (size_t a = 0, b; (b = list.find(',', a)) != std::string::npos; a = b + 1)
        if (b > a) sizes.push_back(parse_int(list.substr(a, b - a), "bench allreduce --sizes"));
    for (int64_t s : sizes) SPLATLM_CHECK(s > 0 && s <= (int64_t(1) << 28), "bench allreduce: --sizes must be in 1..2^28 floats, got ", s);
    return sizes;
}

}  // namespace

int bench_allreduce(int argc, char** argv) {
    Args args("bench allreduce",
              {{"dist", true, "none | mpi (default mpi: run under mpirun -np N)"},
               {"sizes", true, "comma-separated buffer sizes in floats (default 256,4096,65536,1048576,4194304,16777216)"},
               {"check-sizes", true, "sizes checked bit for bit before timing (default 1,7,1000,100003)"},
               {"repeats", true, "timed all-reduces per size (default 20)"},
               {"timeout", true, "seconds a rank waits for the others (default 60)"},
               {"json", false, "one JSON object per line"}},
              argc, argv, 3);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    const std::vector<int64_t> sizes = parse_sizes(args.get("sizes", "256,4096,65536,1048576,4194304,16777216"));
    const std::vector<int64_t> checked = parse_sizes(args.get("check-sizes", "1,7,1000,100003"));
    const int repeats = int(args.get_int("repeats", 20));
    SPLATLM_CHECK(repeats > 0, "bench allreduce: --repeats must be positive");
    std::unique_ptr<dist::Communicator> comm = dist::connect(args.get("dist", "mpi"), args.get_double("timeout", 60));
    const bool root = comm->is_root(), json = args.flag("json");
    for (int64_t count : checked) {
        const int64_t wrong = check_all_reduce(*comm, count);
        if (root) std::printf("check %lld floats on %d ranks: %s\n", (long long)count, comm->size(), wrong ? "WRONG" : "ok (bitwise, ring order)");
        if (wrong) {
            if (root) std::fprintf(stderr, "bench allreduce: %lld floats differ from the ring-order reference\n", (long long)wrong);
            return 1;
        }
    }
    if (root && !json)
        std::printf("%s all-reduce on %d ranks (median of %d)\n%14s %12s %12s %12s\n", comm->kind().c_str(), comm->size(),
                    repeats, "bytes", "time µs", "algbw GB/s", "busbw GB/s");
    for (int64_t count : sizes) {
        std::vector<float> data(static_cast<size_t>(count), 1.f);
        const double seconds = median_seconds(*comm, data, repeats);
        const double bytes = 4.0 * double(count), algbw = bytes / seconds / 1e9,
                     busbw = algbw * 2.0 * (comm->size() - 1) / comm->size();
        if (!root) continue;
        if (json)
            std::printf("{\"dist\":\"%s\",\"ranks\":%d,\"bytes\":%.0f,\"us\":%.1f,\"algbw_gbs\":%.3f,\"busbw_gbs\":%.3f}\n",
                        comm->kind().c_str(), comm->size(), bytes, seconds * 1e6, algbw, busbw);
        else
            std::printf("%14.0f %12.1f %12.3f %12.3f\n", bytes, seconds * 1e6, algbw, busbw);
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace splatlm
