// The OpenMP team sized to the free cores (tensor/free_cores.h): reading /proc/stat, the free-core
// arithmetic, the probing schedule, and the promise that makes changing the team safe — a training
// whose thread count changes between steps is bitwise the one on a fixed count.
// Run: ./bin/tests "[free_cores]"
#include "nn/flat_parameters.h"
#include "nn/gpt.h"
#include "splat/register.h"
#include "tensor/free_cores.h"
#include "tests/helpers.h"
#include "train/adamw.h"

using namespace splatlm;
using namespace splatlm::test;

TEST_CASE("parse_proc_stat sums the busy columns of the cpu line and counts the cores", "[free_cores]") {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const std::string text =
        "cpu  1000 200 300 5000 40 5 6 70 0 0\n"
        "cpu0 500 100 150 2500 20 2 3 35 0 0\n"
        "cpu1 500 100 150 2500 20 3 3 35 0 0\n"
        "intr 12345\nctxt 678\n";
    const std::optional<CpuTicks> ticks = parse_proc_stat(text);
    REQUIRE(ticks);
    CHECK(ticks->busy == 1000 + 200 + 300 + 5 + 6);  // idle, iowait and steal are not busy
    CHECK(ticks->cores == 2);
    CHECK_FALSE(parse_proc_stat("cpu  1 2 3\ncpu0 1 2 3 4 5 6 7\n"));  // too few columns
    CHECK_FALSE(parse_proc_stat("intr 1\n"));
    CHECK_FALSE(parse_proc_stat("cpu  1 2 3 4 5 6 7 8\n"));  // no cpuN lines
}

TEST_CASE("threads_for_free_cores leaves the cores that others keep busy", "[free_cores]") {
    CHECK(threads_for_free_cores(2, 0.0, 2) == 2);
    CHECK(threads_for_free_cores(2, 0.3, 2) == 2);   // a light load: keep both
    CHECK(threads_for_free_cores(2, 0.67, 2) == 1);  // a CPU-bound process sharing with our two threads
    CHECK(threads_for_free_cores(2, 1.0, 2) == 1);
    CHECK(threads_for_free_cores(2, 3.5, 2) == 1);   // never fewer than one
    CHECK(threads_for_free_cores(8, 2.2, 4) == 4);   // never more than asked for
    CHECK(threads_for_free_cores(8, 5.8, 4) == 2);
    CHECK(threads_for_free_cores(2, -0.1, 2) == 2);  // tick rounding can make it slightly negative
}

TEST_CASE("ThreadSizer shrinks under load, probes with every thread, backs off when probes fail", "[free_cores]") {
    ThreadSizer sizer(2, 2);
    REQUIRE(sizer.threads() == 2);
    CHECK(sizer.next(0.2, 0.9) == 1);  // the first interval was a probe and the core was taken
    CHECK(sizer.next(0.4, 1.0) == 1);
    CHECK(sizer.next(1.1, 1.0) == 1);  // first wait: 1 s after the failed first interval
    CHECK(sizer.next(1.3, 1.0) == 2);  // probe
    CHECK(sizer.next(1.5, 0.7) == 1);  // failed: the next wait is 2 s
    CHECK(sizer.next(3.4, 1.0) == 1);
    CHECK(sizer.next(3.6, 1.0) == 2);  // probe
    CHECK(sizer.next(3.8, 0.7) == 1);  // failed: 4 s
    CHECK(sizer.next(7.7, 1.0) == 1);
    CHECK(sizer.next(7.9, 1.0) == 2);  // probe
    CHECK(sizer.next(8.1, 0.1) == 2);  // the others made room: keep every thread
    CHECK(sizer.next(8.3, 0.0) == 2);
    CHECK(sizer.next(8.5, 1.0) == 1);  // load again: the waits start over, 1 s after the last full team
    CHECK(sizer.next(9.2, 1.0) == 1);
    CHECK(sizer.next(9.4, 1.0) == 2);  // probe
    CHECK(sizer.next(9.6, 0.2) == 2);  // the competitor left
}

TEST_CASE("ThreadSizer never probes beyond its maximum and keeps one thread on one core", "[free_cores]") {
    ThreadSizer one(1, 1);
    for (double t = 0.2; t < 5; t += 0.2) REQUIRE(one.next(t, 1.0) == 1);
    ThreadSizer four(8, 4);
    CHECK(four.next(0.2, 6.0) == 2);
    CHECK(four.next(0.4, 3.0) == 4);  // 5 free cores: all four
}

#ifdef _OPENMP
namespace {
// Parameters after `steps` AdamW steps of a GPT big enough that its kernels run threaded (rows ×
// width and the GEMMs above their thresholds), with the team set by threads_at(step).
template <class ThreadsAt>
std::vector<float> train_with(const std::string& attention, int steps, ThreadsAt threads_at) {
    register_splat_attentions();
    GPTConfig config{.vocab = 64, .context = 64, .layers = 2, .heads = 2, .width = 64, .attention = attention, .splat_decay = true};
    GPT model(config, 3);
    FlatParameters flat(model);
    AdamW adam(flat, {});
    const int before = omp_get_max_threads();
    for (int s = 0; s < steps; ++s) {
        omp_set_num_threads(threads_at(s));
        Indices ids = random_ids(8, 64, 64, 100 + s), targets = random_ids(1, 8 * 64, 64, 200 + s);
        targets.shape = {8 * 64};
        flat.zero_grad();
        backward(model.loss(ids, targets));
        adam.step(1e-2f, gradient_clip(flat, 1.0).scale);
    }
    omp_set_num_threads(before);
    return std::vector<float>(flat.values(), flat.values() + flat.size());
}
}  // namespace

TEST_CASE("FreeCoreThreads sets its maximum team and puts back the one it found", "[free_cores]") {
    const int before = omp_get_max_threads();
    omp_set_num_threads(3);
    {
        FreeCoreThreads one(1);
        REQUIRE(omp_get_max_threads() == 1);
        REQUIRE(one.update() == 1);  // a team of at most one stays one, whatever the load
    }
    REQUIRE(omp_get_max_threads() == 3);
    {
        FreeCoreThreads all;
        REQUIRE(omp_get_max_threads() == 3);
    }
    REQUIRE(omp_get_max_threads() == 3);
    omp_set_num_threads(before);
}

TEST_CASE("a training whose team changes between steps is bitwise the one on a fixed team", "[free_cores]") {
    for (const std::string attention : {"softmax", "splat"}) {
        INFO(attention);
        const std::vector<float> fixed = train_with(attention, 4, [](int) { return 2; });
        const std::vector<float> changing = train_with(attention, 4, [](int s) { return s % 2 ? 1 : 2; });
        const std::vector<float> initial = train_with(attention, 0, [](int) { return 2; });
        REQUIRE(fixed != initial);  // it trained
        REQUIRE(fixed == changing);
    }
}
#endif
