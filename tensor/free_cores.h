// free_cores.h — how many OpenMP threads the CPU kernels should use right now: the cores that
// other processes leave free, so a training does not collapse when the machine is shared.
//
// Why: every parallel region ends at a barrier. When another CPU-bound process takes one of two
// cores, one of our two threads waits for a scheduler time slice at every barrier, and a step of
// hundreds of small regions becomes ten times slower than one thread would be. Sizing the team to
// the free cores avoids that without any environment variable.
//
// How: between steps the caller asks `FreeCoreThreads::update()`. At most every kSampleSeconds it
// reads the machine's busy time from /proc/stat and this process's own CPU time; the difference is
// the cores others keep busy, and the team becomes the cores they leave free. Niced processes are
// counted like any other: with the kernel's autogroups (Debian's default) a nice value only ranks
// processes within one session, so a niced job in another terminal still takes its full share.
// Whether a busy core would be given up if we asked for it (a lower-priority job) is something
// only trying tells: while the team is short, ThreadSizer now and then runs one sample interval
// with every thread and keeps them if the others then leave the cores free; a failed probe doubles
// the wait before the next (1 s … 32 s), so under steady competition probes cost well under 1%.
//
// Results do not depend on it: every CPU kernel gives bitwise the same result for any thread count
// (tests/test_free_cores.cpp trains with the count changing between steps). Library code never
// calls update() on its own; the trainer and `bench train` do, once per step.
// Test: ./bin/tests "[free_cores]"
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

namespace splatlm {

// The aggregate "cpu" line of /proc/stat in clock ticks (user + nice + system + irq + softirq:
// everything but idle, iowait and steal), and the number of "cpuN" lines.
struct CpuTicks {
    int64_t busy = 0;
    int cores = 0;
};
std::optional<CpuTicks> parse_proc_stat(const std::string& text);  // nullopt when it is not /proc/stat

// Threads to use on `cores` cores when other processes keep `others_busy` cores busy on average:
// the free cores (a core counts as taken from half its time on), at least 1, at most max_threads.
int threads_for_free_cores(int cores, double others_busy, int max_threads);

// The decision, apart from the measuring: fed one sample at a time (the time now, and the cores
// others kept busy since the previous sample), returns the team for the next interval, probing
// with every thread now and then while it is short (see the top of this file).
class ThreadSizer {
public:
    static constexpr double kFirstProbeWait = 1.0, kLongestProbeWait = 32.0;  // seconds
    ThreadSizer(int cores, int max_threads) : cores_(cores), max_threads_(std::max(1, max_threads)), threads_(max_threads_) {}
    int next(double now, double others_busy);
    int threads() const { return threads_; }

private:
    int cores_, max_threads_, threads_;
    bool probing_ = true;  // the first interval runs with every thread, as a probe does
    double probe_wait_ = kFirstProbeWait / 2, next_probe_ = 0;  // doubled on each failed probe
};

// ThreadSizer on this machine's /proc/stat and clocks, applied with omp_set_num_threads.
class FreeCoreThreads {
public:
    static constexpr double kSampleSeconds = 0.2;
    // max_threads <= 0: omp_get_max_threads() now (OMP_NUM_THREADS, else the core count).
    explicit FreeCoreThreads(int max_threads = 0);
    ~FreeCoreThreads();  // puts omp_set_num_threads back to what it was before construction
    FreeCoreThreads(const FreeCoreThreads&) = delete;
    FreeCoreThreads& operator=(const FreeCoreThreads&) = delete;

    int update();  // re-measures when a sample is due, sets the OpenMP team size, returns it
    int threads() const { return sizer_.threads(); }

private:
    int threads_before_, max_threads_;
    std::optional<CpuTicks> last_ticks_;  // nullopt without /proc/stat: the team stays at max_threads
    ThreadSizer sizer_;
    double last_wall_ = 0, last_own_cpu_ = 0;
};

}  // namespace splatlm
