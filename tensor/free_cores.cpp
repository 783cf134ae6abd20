// free_cores.cpp — the OpenMP team sized to the cores other processes leave free (free_cores.h).
#include "tensor/free_cores.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace splatlm {

std::optional<CpuTicks> parse_proc_stat(const std::string& text) {
    std::istringstream lines(text);
    std::string line;
    std::optional<CpuTicks> ticks;
    int cores = 0;
    while (std::getline(lines, line)) {
        if (line.rfind("cpu", 0) != 0) continue;
        if (line.size() > 3 && line[3] != ' ') {  // "cpuN ..."
            ++cores;
            continue;
        }
        std::istringstream fields(line.substr(3));
        int64_t user, nice, system, idle, iowait, irq, softirq;
        if (!(fields >> user >> nice >> system >> idle >> iowait >> irq >> softirq)) return std::nullopt;
        ticks = CpuTicks{user + nice + system + irq + softirq, 0};
    }
    if (!ticks || cores == 0) return std::nullopt;
    ticks->cores = cores;
    return ticks;
}

int threads_for_free_cores(int cores, double others_busy, int max_threads) {
    const int taken = static_cast<int>(std::floor(std::max(0.0, others_busy) + 0.5));
    return std::clamp(cores - taken, 1, std::max(1, max_threads));
}

int ThreadSizer::next(double now, double others_busy) {
    const int wanted = threads_for_free_cores(cores_, others_busy, max_threads_);
    if (probing_) {  // the last interval ran with every thread: did the others make room?
        probing_ = false;
        if (wanted < max_threads_) {
            probe_wait_ = std::min(2 * probe_wait_, kLongestProbeWait);
            next_probe_ = now + probe_wait_;
        }
    } else if (wanted < max_threads_ && now >= next_probe_) {
        probing_ = true;
        return threads_ = max_threads_;
    }
    if (wanted == max_threads_) probe_wait_ = kFirstProbeWait / 2, next_probe_ = now + kFirstProbeWait;
    return threads_ = wanted;
}

namespace {

std::optional<CpuTicks> read_proc_stat() {
    std::ifstream in("/proc/stat");
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return parse_proc_stat(text.str());
}

double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double own_cpu_seconds() {  // all threads of this process, spinning ones included
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

int omp_max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void set_omp_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

}  // namespace

FreeCoreThreads::FreeCoreThreads(int max_threads)
    : threads_before_(omp_max_threads()),
      max_threads_(max_threads > 0 ? max_threads : threads_before_),
      last_ticks_(read_proc_stat()),
      sizer_(last_ticks_ ? last_ticks_->cores : max_threads_, max_threads_),
      last_wall_(wall_seconds()),
      last_own_cpu_(own_cpu_seconds()) {
    set_omp_threads(max_threads_);
}

FreeCoreThreads::~FreeCoreThreads() { set_omp_threads(threads_before_); }

int FreeCoreThreads::update() {
    const double wall = wall_seconds();
    if (!last_ticks_ || wall - last_wall_ < kSampleSeconds) return sizer_.threads();
    const std::optional<CpuTicks> ticks = read_proc_stat();
    if (!ticks) return sizer_.threads();
    const double own = own_cpu_seconds(), tick_seconds = 1.0 / double(sysconf(_SC_CLK_TCK));
    const double others_busy = (double(ticks->busy - last_ticks_->busy) * tick_seconds - (own - last_own_cpu_)) / (wall - last_wall_);
    set_omp_threads(sizer_.next(wall, others_busy));
    last_ticks_ = ticks;
    last_wall_ = wall;
    last_own_cpu_ = own;
    return sizer_.threads();
}

}  // namespace splatlm
