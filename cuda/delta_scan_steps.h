// delta_scan_steps.h — the body of the delta-rule kernels (delta_scan.cu): one thread block per
// (batch, head) scans t in order with the D×P state S in shared memory, the recurrence of
// nn/delta_rule.cpp step for step (same sums in the same order, so CUDA and CPU agree to rounding),
// written once for both sides: the kernels call it with their block's team, the host tests with a
// one-thread team.
//
//   forward:  u_t = v_t − S_{t−1}k_t,  S_t = S_{t−1} + β_t u_t k_tᵀ,  o_t = S_t q_t;
//             S is saved before every kDeltaChunk-th token ([B, H, C, D, P], as the CPU op saves it).
//   backward: per chunk from the last: S_{t−1} and u_t of the chunk recomputed from its saved state,
//             then the reverse scan with dS the adjoint of S_t (g = dS k_t):
//               dq_t = S_{t−1}ᵀ do_t + β_t k_t (u_t·do_t),  dS += do_t q_tᵀ,
//               dv_t = β_t g,  dβ_t = g·u_t,  dk_t = β_t (dSᵀ u_t − S_{t−1}ᵀ g),  dS −= β_t g k_tᵀ.
//
// Where the chunk's states go: the reverse scan needs S_{t−1} for each of the chunk's 64 tokens
// (64·D·P floats, 4 MiB at D = P = 128) — far past shared memory. Stepping S backwards instead
// (S_{t−1} = (S_t − β v kᵀ)(I − β k kᵀ)⁻¹) divides by 1 − β‖k‖², which is near 0 for unit keys and
// β near 1: unstable. So the recompute writes each S_{t−1} (and u_t) to a per-block scratch buffer in
// global memory (delta_scratch_floats per block, from the caching allocator), as the CPU keeps them in
// a per-thread vector; only S and dS live in shared memory. Cost: B·H·64·(D·P + D) floats of scratch
// during the backward (e.g. 32 heads at D = 64, P = 128: 64.5 MiB).
//
// Why sequential per head rather than DeltaNet's chunked WY form: it is the CPU's recurrence, needs
// no cross-block work and is deterministic; its parallelism is B·H blocks × D·P threads of work per
// step. The chunked (WY/UT) form is the upgrade when one long sequence of few heads matters.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cuda/head_view.h"

namespace splatlm::cuda {

inline constexpr int64_t kDeltaChunk = 64;      // tokens between the states the forward keeps (CPU and GPU)
inline constexpr int64_t kDeltaMaxDim = 128;    // D and P each: S and dS (2·D·(P+1) floats) fit in shared memory

SPLATLM_HD inline int64_t delta_chunks(int64_t T) { return (T + kDeltaChunk - 1) / kDeltaChunk; }

// q, k: [B, H, T, P]; v: [B, H, T, D]; β_t at beta.row(b, h, t)[0] (any strides).
struct DeltaShape {
    int64_t B, H, T, P, D;
};

struct DeltaInputs {
    DeltaShape s;
    HeadView q, k, v, beta;
};

struct DeltaForward {
    DeltaInputs in;
    HeadView o;
    float* saved;  // [B, H, C, D, P], contiguous: S before tokens 0, 64, 128, ...
};

struct DeltaBackward {
    DeltaInputs in;
    HeadView grad, dq, dk, dv, dbeta;
    const float* saved;
    float* scratch;  // delta_scratch_floats(D, P) per block, contiguous
};

// Shared memory (floats): S (D rows ld = shared_ld(P) apart: the row loops have thread i read row i),
// then q_t, k_t (P), v_t, u_t (D), and two scalars (β_t, and the backward's u_t·do_t).
struct DeltaShared {
    int64_t ld;
    float *S, *q, *k, *v, *u, *scalar;
    SPLATLM_HD DeltaShared(float* shared, int64_t D, int64_t P)
        : ld(shared_ld(P)), S(shared), q(S + D * ld), k(q + P), v(k + P), u(v + D), scalar(u + D) {}
    SPLATLM_HD static size_t floats(int64_t D, int64_t P) { return D * shared_ld(P) + 2 * P + 2 * D + 2; }
};

SPLATLM_HD inline size_t delta_forward_floats(int64_t D, int64_t P) { return DeltaShared::floats(D, P); }
// The backward's dS (D×ld) follows the forward's layout.
SPLATLM_HD inline size_t delta_backward_floats(int64_t D, int64_t P) { return DeltaShared::floats(D, P) + D * shared_ld(P); }
// Per block: S_{t−1} (D×P) for each token of a chunk, then u_t (D) for each.
SPLATLM_HD inline size_t delta_scratch_floats(int64_t D, int64_t P) { return kDeltaChunk * (D * P + D); }

// n elements of x's row (b, h, t) (stride x.sd) into dst.
SPLATLM_HD inline void load_vector(const HeadView& x, int64_t b, int64_t h, int64_t t, int64_t n, float* dst,
                                   Team team) {
    const float* row = x.row(b, h, t);
    for (int64_t i = team.tid; i < n; i += team.count) dst[i] = row[i * x.sd];
}

// The D×P state between shared memory (rows ld apart) and a contiguous D×P buffer, either way.
SPLATLM_HD inline void store_state(const float* S, int64_t ld, int64_t D, int64_t P, float* dst, Team team) {
    for (int64_t e = team.tid; e < D * P; e += team.count) dst[e] = S[padded(e, P, ld)];
}
SPLATLM_HD inline void load_state(const float* src, int64_t D, int64_t P, float* S, int64_t ld, Team team) {
    for (int64_t e = team.tid; e < D * P; e += team.count) S[padded(e, P, ld)] = src ? src[e] : 0.f;
}

// The write of token t: k_t, v_t and β_t loaded, u = v − S k, S += (β u_i) k_j — DeltaState::write's
// loops. The caller has synced since its last read of k, v, u; every thread is synced on return.
SPLATLM_HD inline void delta_write(const DeltaInputs& in, int64_t b, int64_t h, int64_t t, const DeltaShared& st,
                                   Team team) {
    const int64_t D = in.s.D, P = in.s.P;
    load_vector(in.k, b, h, t, P, st.k, team);
    load_vector(in.v, b, h, t, D, st.v, team);
    if (team.tid == 0) st.scalar[0] = in.beta.row(b, h, t)[0];
    team_sync();
    for (int64_t i = team.tid; i < D; i += team.count) {
        const float* row = st.S + i * st.ld;
        float sk = 0.f;
        for (int64_t j = 0; j < P; ++j) sk += row[j] * st.k[j];
        st.u[i] = st.v[i] - sk;
    }
    team_sync();
    const float beta = st.scalar[0];
    for (int64_t e = team.tid; e < D * P; e += team.count) st.S[padded(e, P, st.ld)] += beta * st.u[e / P] * st.k[e % P];
    team_sync();
}

// Forward for block (b·H + h).
SPLATLM_HD inline void delta_forward_block(const DeltaForward& a, int64_t bh, float* shared, Team team) {
    const DeltaInputs& in = a.in;
    const int64_t D = in.s.D, P = in.s.P, b = bh / in.s.H, h = bh % in.s.H;
    const DeltaShared st(shared, D, P);
    float* saved = a.saved + bh * delta_chunks(in.s.T) * D * P;
    load_state(nullptr, D, P, st.S, st.ld, team);
    for (int64_t t = 0; t < in.s.T; ++t) {
        team_sync();  // S is complete, and the previous step's reads of q are done
        if (t % kDeltaChunk == 0) store_state(st.S, st.ld, D, P, saved + t / kDeltaChunk * D * P, team);
        load_vector(in.q, b, h, t, P, st.q, team);
        delta_write(in, b, h, t, st, team);
        float* o = a.o.row(b, h, t);
        for (int64_t i = team.tid; i < D; i += team.count) {  // o = S q
            const float* row = st.S + i * st.ld;
            float acc = 0.f;
            for (int64_t j = 0; j < P; ++j) acc += row[j] * st.q[j];
            o[i * a.o.sd] = acc;
        }
    }
}

// One token of the reverse scan (backward_head's loop body in nn/delta_rule.cpp): S0 = S_{t−1} and
// u = u_t in the scratch buffer, dS the adjoint of S_t in shared memory (adjoint of S_{t−1} on return).
SPLATLM_HD inline void delta_reverse_step(const DeltaBackward& a, int64_t b, int64_t h, int64_t t, const float* S0,
                                          const float* u, const DeltaShared& st, float* dS, Team team) {
    const DeltaInputs& in = a.in;
    const int64_t D = in.s.D, P = in.s.P, ld = st.ld;
    float *go = st.v, *g = st.u;  // the forward's v and u slots hold do_t and g here
    team_sync();                  // the previous token's reads are done
    load_vector(in.q, b, h, t, P, st.q, team);
    load_vector(in.k, b, h, t, P, st.k, team);
    load_vector(a.grad, b, h, t, D, go, team);
    if (team.tid == 0) st.scalar[0] = in.beta.row(b, h, t)[0];
    team_sync();
    if (team.tid == 0) {
        float u_go = 0.f;
        for (int64_t i = 0; i < D; ++i) u_go += u[i] * go[i];
        st.scalar[1] = u_go;
    }
    team_sync();
    const float beta = st.scalar[0], u_go = st.scalar[1];
    float* dq = a.dq.row(b, h, t);
    for (int64_t j = team.tid; j < P; j += team.count) {  // dq = β k (u·do) + S0ᵀ do
        float acc = beta * st.k[j] * u_go;
        for (int64_t i = 0; i < D; ++i) acc += S0[i * P + j] * go[i];
        dq[j * a.dq.sd] = acc;
    }
    for (int64_t e = team.tid; e < D * P; e += team.count) dS[padded(e, P, ld)] += go[e / P] * st.q[e % P];
    team_sync();
    float* dv = a.dv.row(b, h, t);
    for (int64_t i = team.tid; i < D; i += team.count) {  // g = dS k, dv = β g
        const float* row = dS + i * ld;
        float acc = 0.f;
        for (int64_t j = 0; j < P; ++j) acc += row[j] * st.k[j];
        g[i] = acc;
        dv[i * a.dv.sd] = beta * acc;
    }
    team_sync();
    if (team.tid == 0) {
        float gu = 0.f;
        for (int64_t i = 0; i < D; ++i) gu += g[i] * u[i];
        a.dbeta.row(b, h, t)[0] = gu;
    }
    float* dk = a.dk.row(b, h, t);
    for (int64_t j = team.tid; j < P; j += team.count) {  // dk = β (dSᵀ u − S0ᵀ g)
        float acc = 0.f;
        for (int64_t i = 0; i < D; ++i) acc += dS[i * ld + j] * u[i] - S0[i * P + j] * g[i];
        dk[j * a.dk.sd] = beta * acc;
    }
    team_sync();
    for (int64_t e = team.tid; e < D * P; e += team.count) dS[padded(e, P, ld)] -= beta * g[e / P] * st.k[e % P];
}

// Backward for block (b·H + h).
SPLATLM_HD inline void delta_backward_block(const DeltaBackward& a, int64_t bh, float* shared, Team team) {
    const DeltaInputs& in = a.in;
    const int64_t D = in.s.D, P = in.s.P, DP = D * P, b = bh / in.s.H, h = bh % in.s.H, C = delta_chunks(in.s.T);
    const DeltaShared st(shared, D, P);
    float* dS = shared + DeltaShared::floats(D, P);
    float *states = a.scratch + bh * delta_scratch_floats(D, P), *errors = states + kDeltaChunk * DP;
    load_state(nullptr, D, P, dS, st.ld, team);
    for (int64_t c = C - 1; c >= 0; --c) {
        const int64_t t0 = c * kDeltaChunk, t1 = t0 + kDeltaChunk < in.s.T ? t0 + kDeltaChunk : in.s.T;
        team_sync();  // the previous chunk's reverse scan is done with the scratch
        load_state(a.saved + (bh * C + c) * DP, D, P, st.S, st.ld, team);
        for (int64_t t = t0; t < t1; ++t) {  // S_{t−1} and u_t of the chunk, recomputed
            team_sync();
            store_state(st.S, st.ld, D, P, states + (t - t0) * DP, team);
            delta_write(in, b, h, t, st, team);
            for (int64_t i = team.tid; i < D; i += team.count) errors[(t - t0) * D + i] = st.u[i];
        }
        for (int64_t t = t1 - 1; t >= t0; --t)
            delta_reverse_step(a, b, h, t, states + (t - t0) * DP, errors + (t - t0) * D, st, dS, team);
    }
}

}  // namespace splatlm::cuda
