// doctor.cpp — `splatlm doctor`: what this build and machine offer (OpenMP threads, the GEMM
// micro-kernel, CUDA support, the GPUs) and a small self-test on each GPU. No GPU is not a failure; a failing self-test is.
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/commands.h"
#include "cuda/runtime.h"
#include "tensor/gemm.h"
#include "train/args.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace splatlm {

namespace {

// Device memory for the self-test's scope: released (to the cache) even when a copy throws.
struct DeviceBuffer {
    void* ptr;
    explicit DeviceBuffer(size_t bytes) : ptr(cuda::device_malloc(bytes)) {}
    ~DeviceBuffer() { cuda::device_free(ptr); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

// Upload 1M floats of a known pattern, copy them device to device, download and compare; then
// allocate the same size again and check that this made no new raw cudaMalloc (both blocks of
// that size sit in the cache). Throws on a CUDA error; returns false (after saying why) on a wrong result.
bool gpu_self_test() {
    constexpr size_t n = size_t(1) << 20, bytes = n * sizeof(float);
    std::vector<float> pattern(n), back(n, 0.f);
    for (size_t i = 0; i < n; ++i) pattern[i] = float(i % 4099) * 0.25f - 512.f;
    {
        DeviceBuffer a(bytes), b(bytes);
        cuda::copy_to_device(a.ptr, pattern.data(), bytes);
        cuda::copy_device_to_device(b.ptr, a.ptr, bytes);
        cuda::copy_to_host(back.data(), b.ptr, bytes);
    }
    size_t wrong = 0;
    for (size_t i = 0; i < n; ++i) wrong += back[i] != pattern[i];
    std::printf("    copies: 1M floats host -> device -> device -> host: %s\n", wrong ? "FAILED" : "ok");
    if (wrong) std::printf("    %zu of %zu values came back wrong\n", wrong, n);

    const int64_t raw_before = cuda::allocator_stats().raw_allocations;
    { DeviceBuffer again(bytes); }
    const int64_t raw_after = cuda::allocator_stats().raw_allocations;
    const bool reused = raw_after == raw_before;
    std::printf("    allocator: second allocation of %zu bytes %s (raw cudaMalloc calls %lld -> %lld)\n", bytes,
                reused ? "reused a cached block" : "FAILED to reuse the cache", (long long)raw_before,
                (long long)raw_after);
    return !wrong && reused;
}

}  // namespace

int cmd_doctor(int argc, char** argv) {
    Args args("doctor", {}, argc, argv, 2);
    if (args.help()) return std::printf("%s", args.usage().c_str()), 0;
#ifdef _OPENMP
    std::printf("OpenMP: %d threads (omp_get_max_threads)\n", omp_get_max_threads());
#else
    std::printf("OpenMP: built without OpenMP (single-threaded CPU kernels)\n");
#endif
    std::printf("GEMM micro-kernel: %s\n", gemm_micro_kernel().c_str());
    std::printf("CUDA: %s\n", cuda::built_with_cuda() ? "support built" : "support not built (CPU-only build)");
    std::string why;
    const std::vector<cuda::DeviceInfo> gpus = cuda::devices(&why);
    if (gpus.empty()) {
        std::printf("GPUs: none (no GPU: %s); CPU only, nothing to test\n", why.c_str());
        return 0;
    }
    constexpr double GiB = double(1 << 30);
    int failures = 0;
    for (size_t i = 0; i < gpus.size(); ++i) {
        const cuda::DeviceInfo& g = gpus[i];
        std::printf("GPU %zu: %s, %.2f GiB free of %.2f GiB, compute capability %d.%d\n", i, g.name.c_str(),
                    g.free_bytes / GiB, g.total_bytes / GiB, g.major, g.minor);
        try {
            cuda::empty_cache();  // the allocator serves one device: nothing cached may cross over
            cuda::set_device(int(i));
            failures += !gpu_self_test();
        } catch (const std::exception& e) {
            std::printf("    self-test FAILED: %s\n", e.what());
            ++failures;
        }
    }
    std::printf("%s\n", failures ? "doctor: a GPU self-test FAILED" : "doctor: all GPUs passed their self-test");
    return failures ? 1 : 0;
}

}  // namespace splatlm
