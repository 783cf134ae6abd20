#include "tensor/rng.h"

#include <cmath>

namespace splatlm {

uint64_t rng_hash(uint64_t seed, uint64_t index) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + index * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

namespace {
// 24 random bits → float in (0, 1]: never 0, so log() below is finite.
inline float unit_open(uint64_t bits) { return (static_cast<float>(bits & 0xFFFFFF) + 1.f) * (1.f / 16777216.f); }
}  // namespace

void Rng::uniform(float* out, int64_t n, float lo, float hi) {
    const uint64_t base = counter_;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
        float u = static_cast<float>(rng_hash(seed_, base + i) >> 40) * (1.f / 16777216.f);  // [0, 1)
        out[i] = lo + (hi - lo) * u;
    }
    counter_ += n;
}

// Box–Muller on the two 32-bit halves of one hash: z = sqrt(-2 ln u1) cos(2π u2).
void Rng::normal(float* out, int64_t n, float mean, float stddev) {
    const uint64_t base = counter_;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
        uint64_t h = rng_hash(seed_, base + i);
        float u1 = unit_open(h), u2 = unit_open(h >> 32);
        out[i] = mean + stddev * std::sqrt(-2.f * std::log(u1)) * std::cos(6.2831853071795864f * u2);
    }
    counter_ += n;
}

uint64_t Rng::next_u64() { return rng_hash(seed_, counter_++); }

double Rng::next_double() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

}  // namespace splatlm
