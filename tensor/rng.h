// rng.h — seeded, counter-based random numbers. Value i of a draw is a pure function of
// (seed, counter + i), so results never depend on thread count or on how a loop is split,
// and the whole state is two integers (saved in checkpoints for bitwise-identical resume).
#pragma once
#include <cstdint>

namespace splatlm {

class Rng {
  public:
    explicit Rng(uint64_t seed = 0) : seed_(seed) {}

    // Fill n floats and advance the counter by n.
    void uniform(float* out, int64_t n, float lo = 0.f, float hi = 1.f);
    void normal(float* out, int64_t n, float mean = 0.f, float stddev = 1.f);
    uint64_t next_u64();        // one raw 64-bit draw (advances the counter by 1)
    double next_double();       // uniform in [0, 1)

    uint64_t seed() const { return seed_; }
    uint64_t counter() const { return counter_; }
    void set_state(uint64_t seed, uint64_t counter) { seed_ = seed, counter_ = counter; }

  private:
    uint64_t seed_;
    uint64_t counter_ = 0;
};

// SplitMix64 finaliser applied to (seed, index): a strong 64-bit hash, the core of Rng.
uint64_t rng_hash(uint64_t seed, uint64_t index);

}  // namespace splatlm
