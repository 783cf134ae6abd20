// bench_dist_step.cpp — `mpirun -np N splatlm bench dist-step`: where the time of one data-parallel
// training step goes, per rank: compute (forward + backward on this rank's rows), idle (waiting at a
// barrier for the slowest rank), communication (the bucketed gradient all-reduce of
// train/data_parallel.h), and the optimizer (clip + AdamW, the same on every rank).
//
// The model and global batch are a preset's (`small` by default; char vocabulary, random tokens: the
// time does not depend on the text). Each phase is the median over --steps steps after two warm-up
// steps. The barrier separates waiting from moving bytes; a real step has no barrier, so there the
// idle time shows up inside the all-reduce instead.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "autograd/graph.h"
#include "bench/bench.h"
#include "nn/gpt.h"
#include "tensor/error.h"
#include "train/adamw.h"
#include "train/args.h"
#include "train/data_parallel.h"
#include "train/train_config.h"

namespace splatlm {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int bench_dist_step(int argc, char** argv) {
    Args args("bench dist-step",
              {{"preset", true, "model and global batch of this preset (default small)"},
               {"dist", true, "none | mpi (default mpi: run under mpirun -np N)"},
               {"steps", true, "timed steps (default 20)"},
               {"bucket-mb", true, "MB per all-reduce bucket (default 4, as training)"},
               {"json", false, "one JSON object per line"}},
              argc, argv, 3);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
    TrainConfig c;
    apply_preset(c, args.get("preset", "small"));
    c.model.vocab = 256;
    c.dist = args.get("dist", "mpi");
    c.dist_bucket_mb = args.get_double("bucket-mb", 4);
    c.dist_timeout = 120;
    c.validate();
    const int steps = int(args.get_int("steps", 20));
    SPLATLM_CHECK(steps > 0, "bench dist-step: --steps must be positive");
    std::unique_ptr<dist::Communicator> comm = connect_ranks(c);
    GPT model(c.model, c.seed);
    model.set_training(true);
    FlatParameters flat(model);
    AdamW adam(flat, AdamWOptions{});
    const int64_t B = c.batch, T = c.model.context;
    Rng rng(c.seed);
    std::vector<int32_t> windows(size_t(B * (T + 1)));
    for (int32_t& id : windows) id = int32_t(rng.next_u64() % 256);
    const Batch batch = rank_batch(windows, B, T, *comm);

    std::vector<double> compute, idle, communicate, optimize;
    for (int step = 0; step < steps + 2; ++step) {
        auto t = Clock::now();
        flat.zero_grad();
        backward(model.loss(batch.inputs, batch.targets));
        const double t_compute = since(t);
        t = Clock::now();
        comm->barrier();
        const double t_idle = since(t);
        t = Clock::now();
        average_gradients(flat, *comm, c.dist_bucket_mb);
        const double t_comm = since(t);
        t = Clock::now();
        adam.step(1e-4f, gradient_clip(flat, c.grad_clip).scale);
        if (step < 2) continue;
        compute.push_back(t_compute), idle.push_back(t_idle), communicate.push_back(t_comm), optimize.push_back(since(t));
    }
    // Every rank's medians reach rank 0 through the all-reduce itself (each fills its own slots).
    const int N = comm->size();
    std::vector<float> table(size_t(4 * N), 0.f);
    const double mine[4] = {median_of(compute), median_of(idle), median_of(communicate), median_of(optimize)};
    for (int k = 0; k < 4; ++k) table[4 * comm->rank() + k] = float(mine[k] * 1e3);
    comm->all_reduce_sum(table.data(), int64_t(table.size()));
    if (!comm->is_root()) return 0;
    const double mb = flat.size() * 4.0 / (1 << 20);
    if (!args.flag("json"))
        std::printf("%s preset, %d ranks × %lld rows of %lld tokens, %.2f MB of gradients in %g-MB buckets: ms per step (median of %d)\n"
                    "%6s %10s %10s %10s %10s %10s\n",
                    args.get("preset", "small").c_str(), N, (long long)(B / N), (long long)T, mb, c.dist_bucket_mb,
                    steps, "rank", "compute", "idle", "comm", "optimizer", "comm %");
    for (int r = 0; r < N; ++r) {
        const float* m = &table[4 * r];
        const double total = m[0] + m[1] + m[2] + m[3];
        if (args.flag("json"))
            std::printf("{\"ranks\":%d,\"rank\":%d,\"grad_mb\":%.3f,\"bucket_mb\":%.3f,\"compute_ms\":%.3f,\"idle_ms\":%.3f,"
                        "\"comm_ms\":%.3f,\"optimizer_ms\":%.3f}\n",
                        N, r, mb, c.dist_bucket_mb, m[0], m[1], m[2], m[3]);
        else
            std::printf("%6d %10.2f %10.2f %10.2f %10.2f %9.1f%%\n", r, m[0], m[1], m[2], m[3], 100.0 * m[2] / total);
    }
    return 0;
}

}  // namespace splatlm
