// kv_step.h — one generation step of exact softmax attention over a KV cache on device memory (the
// CUDA side of nn/kv_cache.cpp), one thread block per (batch, head). Implemented in kv_step.cu when
// nvcc is present, by kv_step_stub.cpp ("built without CUDA") when it is not. The block body below is
// shared with the host tests.
//
//   store k_t, v_t in slot t mod S;  y_t = Σ_{u=first..t} softmax_u(q_t·k_u / √D) v_u
//
// in the CPU's order: scores u = first..t, the max, Σ e^{s−max} by one thread, then each output
// element summed over u in time order.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "cuda/head_view.h"

namespace splatlm::cuda {

inline constexpr int64_t kKVStepMaxPositions = 16384;  // the scores of one step live in shared memory

struct KVStep {
    int64_t H, S, D, t, first;  // S ring slots; positions first..t are visible
    float scale;                // 1/√D
    HeadView q, k, v;           // [B, H, D] any strides, seen as [B, H, 1, D]
    float *k_cache, *v_cache;   // [B, H, S, D], contiguous
    float* y;                   // [B, H, D], contiguous
};

// Shared memory (floats): the scores of the visible positions and their sum.
SPLATLM_HD inline size_t kv_step_floats(int64_t positions) { return positions + 1; }

SPLATLM_HD inline void kv_step_block(const KVStep& a, int64_t bh, float* shared, Team team) {
    const int64_t D = a.D, S = a.S, b = bh / a.H, h = bh % a.H, n = a.t - a.first + 1;
    float *kc = a.k_cache + bh * S * D, *vc = a.v_cache + bh * S * D, *w = shared, *z = shared + n;
    const float *q = a.q.row(b, h, 0), *k = a.k.row(b, h, 0), *v = a.v.row(b, h, 0);
    for (int64_t d = team.tid; d < D; d += team.count) {  // the position sees itself
        kc[(a.t % S) * D + d] = k[d * a.k.sd];
        vc[(a.t % S) * D + d] = v[d * a.v.sd];
    }
    team_sync();
    for (int64_t i = team.tid; i < n; i += team.count) {
        const float* ku = kc + ((a.first + i) % S) * D;
        float s = 0.f;
        for (int64_t d = 0; d < D; ++d) s += q[d * a.q.sd] * ku[d];
        w[i] = s * a.scale;
    }
    team_sync();
    if (team.tid == 0) {
        float m = -INFINITY, sum = 0.f;
        for (int64_t i = 0; i < n; ++i) m = w[i] > m ? w[i] : m;
        for (int64_t i = 0; i < n; ++i) sum += w[i] = expf(w[i] - m);
        *z = sum;
    }
    team_sync();
    for (int64_t d = team.tid; d < D; d += team.count) {
        float acc = 0.f;
        for (int64_t i = 0; i < n; ++i) acc += w[i] * vc[((a.first + i) % S) * D + d];
        a.y[bh * D + d] = acc / *z;
    }
}

// Runs the step for every (batch, head): B·H blocks. Launches on the default stream; does not wait.
void kv_step(const KVStep& args, int64_t batch_heads);

}  // namespace splatlm::cuda
