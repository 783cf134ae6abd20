// random.cu — device random fills: cuRAND's Philox4x32-10 draws raw 32-bit words (or normals), and
// a grid-stride kernel turns words into uniforms or dropout masks with random_math.h.
#include <mutex>
#include <vector>

#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/library_check.h"
#include "cuda/random.h"
#include "cuda/random_math.h"

namespace splatlm::cuda {

namespace {

// One Philox generator per device, created on first use and kept (never destroyed: at exit the
// driver reclaims it). Every fill sets seed and offset afresh, so a draw depends on nothing before
// it; the lock keeps one thread's seed from leaking into another's draw.
std::mutex generator_mutex;

curandGenerator_t generator_for_current_device(uint64_t seed, uint64_t offset) {
    static std::vector<curandGenerator_t> generators;
    int device = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    if (generators.size() <= size_t(device)) generators.resize(size_t(device) + 1, nullptr);
    if (!generators[device]) {
        CURAND_CHECK(curandCreateGenerator(&generators[device], CURAND_RNG_PSEUDO_PHILOX4_32_10));
        // The legacy ordering is the one cuRAND promises to keep in every release (the default may
        // change), so a seed's words are the same on any GPU and any cuRAND version.
        CURAND_CHECK(curandSetGeneratorOrdering(generators[device], CURAND_ORDERING_PSEUDO_LEGACY));
    }
    CURAND_CHECK(curandSetPseudoRandomGeneratorSeed(generators[device], seed));
    CURAND_CHECK(curandSetGeneratorOffset(generators[device], offset));
    return generators[device];
}

// n random 32-bit words into the 4-byte slots of dst, to be converted in place.
void draw_bits(float* dst, int64_t n, uint64_t seed, uint64_t offset) {
    std::lock_guard<std::mutex> lock(generator_mutex);
    CURAND_CHECK(curandGenerate(generator_for_current_device(seed, offset), reinterpret_cast<unsigned int*>(dst), size_t(n)));
}

// Reads each word before writing the float into the same slot (one thread per slot).
__global__ void bits_to_uniform(const unsigned int* bits, float* out, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        out[i] = uniform_from_bits(bits[i]);
}

__global__ void bits_to_dropout_mask(const unsigned int* bits, float* out, int64_t n, float p) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        out[i] = dropout_scale(uniform_from_bits(bits[i]), p);
}

}  // namespace

void fill_uniform(float* dst, int64_t n, uint64_t seed, uint64_t offset) {
    if (n == 0) return;
    draw_bits(dst, n, seed, offset);
    bits_to_uniform<<<grid_stride_blocks(n), kThreads>>>(reinterpret_cast<const unsigned int*>(dst), dst, n);
    CUDA_CHECK(cudaGetLastError());
}

void fill_normal(float* dst, int64_t n, float mean, float stddev, uint64_t seed, uint64_t offset) {
    SPLATLM_CHECK(n % 2 == 0, "random normal (CUDA): cuRAND draws normals in pairs, got an odd count ", n);
    if (n == 0) return;
    std::lock_guard<std::mutex> lock(generator_mutex);
    CURAND_CHECK(curandGenerateNormal(generator_for_current_device(seed, offset), dst, size_t(n), mean, stddev));
}

void fill_dropout_mask(float* dst, int64_t n, float p, uint64_t seed) {
    if (n == 0) return;
    draw_bits(dst, n, seed, 0);
    bits_to_dropout_mask<<<grid_stride_blocks(n), kThreads>>>(reinterpret_cast<const unsigned int*>(dst), dst, n, p);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace splatlm::cuda
