// flash_tiles.h — the body of the flash-attention kernels (flash_attention.cu), one thread block's
// work, written once for both sides: the kernels call these with their block's team; the host tests
// call them with a one-thread team over every block and compare with the O(T²) reference.
//
//   y_t = Σ_{u ∈ W(t)} softmax_u(s_tu) v_u,  s_tu = q_t·k_u / √D,  W(t) = [0, t] or [t−w+1, t] (window w)
//
// Forward (per query tile of kRows rows): visit the key tiles of kCols keys that hold a visible key,
// keep per row the running max m and sum l, rescale the accumulator when m grows (online softmax),
// and save lse = m + log l. Backward recomputes p = exp(s − lse):
//   Δ_t = Σ_d dy_td y_td,   ds_tu = p_tu (dp_tu − Δ_t) / √D  with dp_tu = dy_t·v_u,
//   dq_t = Σ_u ds_tu k_u (per query tile),   dk_u = Σ_t ds_tu q_t,  dv_u = Σ_t p_tu dy_t (per key tile),
// so every output element is summed by one thread in a fixed order: no atomics, bitwise repeatable.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "cuda/head_view.h"
#include "tensor/elementwise_math.h"

namespace splatlm::cuda {

inline constexpr int kRows = 16;                // query rows per tile
inline constexpr int kCols = 16;                // keys per tile
inline constexpr int64_t kFlashMaxHeadDim = 128;  // shared memory is sized for up to this D

struct FlashProblem {
    int64_t B, H, T, D, window;  // window 0: full causal
    float scale;                 // 1/√D
};

// ---- which (query, key) pairs count ---------------------------------------------------------

// Key u is visible from query t: causal, and within the last `window` positions when window > 0.
SPLATLM_HD inline bool visible(int64_t t, int64_t u, int64_t window) { return u <= t && (window == 0 || u > t - window); }

struct TileRange {
    int64_t begin, end;  // tile indices [begin, end)
};

SPLATLM_HD inline int64_t tiles(int64_t T, int size) { return (T + size - 1) / size; }

// The key tiles holding a key visible from some row of query tile qt: from the first key its first
// row sees to its last row. Each holds one (its own diagonal key, or one the first row sees), so no
// fully masked tile is visited.
SPLATLM_HD inline TileRange key_tiles_for(int64_t qt, int64_t T, int64_t window) {
    const int64_t t0 = qt * kRows, t_last = (t0 + kRows < T ? t0 + kRows : T) - 1;
    const int64_t first_key = window > 0 && t0 - window + 1 > 0 ? t0 - window + 1 : 0;
    return {first_key / kCols, t_last / kCols + 1};
}

// The query tiles with a row that sees some key of key tile kt: from its first key (seen by itself)
// to the last row that still sees its last key (u_last + window − 1, or the end without a window).
SPLATLM_HD inline TileRange query_tiles_for(int64_t kt, int64_t T, int64_t window) {
    const int64_t u0 = kt * kCols, u_last = (u0 + kCols < T ? u0 + kCols : T) - 1;
    const int64_t last_row = window > 0 && u_last + window - 1 < T - 1 ? u_last + window - 1 : T - 1;
    return {u0 / kRows, last_row / kRows + 1};
}

// ---- small tile products, each output element owned by one thread ---------------------------

// s[r][c] = scale · a_r·b_c over D for an R × C tile, −∞ where query t0+r cannot see key u0+c (or
// either lies past T). a: R rows, b: C rows, both D floats a row, shared_ld(D) apart: a warp's lanes
// read column d of the 16 rows of b at once, so the padding keeps them in 16 different banks.
SPLATLM_HD inline void masked_scores(const float* a, const float* b, int64_t D, const FlashProblem& p, int64_t t0,
                                     int64_t u0, float* s, Team team) {
    const int64_t ld = shared_ld(D);
    for (int i = team.tid; i < kRows * kCols; i += team.count) {
        const int r = i / kCols, c = i % kCols;
        const int64_t t = t0 + r, u = u0 + c;
        if (t >= p.T || !visible(t, u, p.window)) {
            s[i] = -INFINITY;
            continue;
        }
        float dot = 0.f;
        for (int64_t d = 0; d < D; ++d) dot += a[r * ld + d] * b[c * ld + d];
        s[i] = p.scale * dot;
    }
}

// out[r][c] = a_r·b_c (kRows × kCols): dp = dy·vᵀ.
SPLATLM_HD inline void row_dots(const float* a, const float* b, int64_t D, float* out, Team team) {
    const int64_t ld = shared_ld(D);
    for (int i = team.tid; i < kRows * kCols; i += team.count) {
        float dot = 0.f;
        for (int64_t d = 0; d < D; ++d) dot += a[(i / kCols) * ld + d] * b[(i % kCols) * ld + d];
        out[i] = dot;
    }
}

// acc[r][d] += Σ_c w[r][c] x[c][d]  (kRows × D; w is kRows × kCols): dq += ds·k. acc[r][d] is
// element i = r·D + d's, owned by thread i mod count as in every loop over a tile here.
SPLATLM_HD inline void add_rows_times(float* acc, const float* w, const float* x, int64_t D, Team team) {
    const int64_t ld = shared_ld(D);
    for (int64_t i = team.tid; i < kRows * D; i += team.count) {
        const int64_t r = i / D, d = i % D;
        float sum = acc[r * ld + d];
        for (int c = 0; c < kCols; ++c) sum += w[r * kCols + c] * x[c * ld + d];
        acc[r * ld + d] = sum;
    }
}

// acc[c][d] += Σ_r w[r][c] x[r][d]  (kCols × D; wᵀ times x): dk += dsᵀ·q, dv += pᵀ·dy.
SPLATLM_HD inline void add_cols_times(float* acc, const float* w, const float* x, int64_t D, Team team) {
    const int64_t ld = shared_ld(D);
    for (int64_t i = team.tid; i < kCols * D; i += team.count) {
        const int64_t c = i / D, d = i % D;
        float sum = acc[c * ld + d];
        for (int r = 0; r < kRows; ++r) sum += w[r * kCols + c] * x[r * ld + d];
        acc[c * ld + d] = sum;
    }
}

// ---- online softmax ------------------------------------------------------------------------

// Merges one row's tile scores s[0..kCols) (−∞ where masked) into its running max m and sum l:
// m' = max(m, max s), l' = l·e^{m−m'} + Σ e^{s−m'}; s becomes e^{s−m'} (0 where masked). Returns
// e^{m−m'}, the factor the row's accumulator must be rescaled by (0 before anything was seen).
SPLATLM_HD inline float online_softmax_merge(float* s, float& m, float& l) {
    float m_new = m;
    for (int c = 0; c < kCols; ++c) m_new = s[c] > m_new ? s[c] : m_new;
    if (m_new == -INFINITY) {  // nothing visible to this row yet (or a row past T)
        for (int c = 0; c < kCols; ++c) s[c] = 0.f;
        return 1.f;
    }
    const float alpha = m == -INFINITY ? 0.f : exp_poly(m - m_new);
    float sum = 0.f;
    for (int c = 0; c < kCols; ++c) sum += s[c] = s[c] == -INFINITY ? 0.f : exp_poly(s[c] - m_new);
    l = l * alpha + sum;
    m = m_new;
    return alpha;
}

// p = e^{s − lse} (0 where masked) and ds = p·(dp − Δ)·scale for every entry of a kRows × kCols tile;
// s becomes p and dp becomes ds.
SPLATLM_HD inline void probabilities_and_dscores(float* s, float* dp, const float* lse, const float* delta,
                                                 float scale, Team team) {
    for (int i = team.tid; i < kRows * kCols; i += team.count) {
        const int r = i / kCols;
        const float p = s[i] == -INFINITY ? 0.f : exp_poly(s[i] - lse[r]);
        s[i] = p;
        dp[i] = p * (dp[i] - delta[r]) * scale;
    }
}

// ---- one block's work ----------------------------------------------------------------------

struct FlashForward {
    FlashProblem p;
    HeadView q, k, v, y;
    float* lse;  // [B, H, T], contiguous
};

struct FlashBackward {
    FlashProblem p;
    HeadView q, k, v, y, dy, dq, dk, dv;
    const float* lse;
    float* delta;  // [B, H, T], filled by flash_delta_row before the dq and dk/dv blocks run
};

// Shared memory (floats) of a forward block: q and acc (kRows rows), k and v (kCols rows), each row
// shared_ld(D) floats, scores, and per row m, l, alpha.
SPLATLM_HD inline size_t flash_forward_floats(int64_t D) {
    return (2 * kRows + 2 * kCols) * shared_ld(D) + kRows * kCols + 3 * kRows;
}

// Forward for block `block` = (b·H + h)·(query tiles) + query tile.
SPLATLM_HD inline void flash_forward_block(const FlashForward& a, int64_t block, float* shared, Team team) {
    const FlashProblem& p = a.p;
    const int64_t D = p.D, ld = shared_ld(D), n_tiles = tiles(p.T, kRows), bh = block / n_tiles;
    const int64_t qt = block % n_tiles, b = bh / p.H, h = bh % p.H, t0 = qt * kRows;
    const int rows = int(p.T - t0 < kRows ? p.T - t0 : kRows);
    float *q = shared, *acc = q + kRows * ld, *k = acc + kRows * ld, *v = k + kCols * ld, *s = v + kCols * ld;
    float *m = s + kRows * kCols, *l = m + kRows, *alpha = l + kRows;

    load_rows(a.q, b, h, t0, kRows, rows, D, ld, q, team);
    for (int64_t i = team.tid; i < kRows * D; i += team.count) acc[padded(i, D, ld)] = 0.f;
    for (int r = team.tid; r < kRows; r += team.count) m[r] = -INFINITY, l[r] = 0.f;
    const TileRange keys = key_tiles_for(qt, p.T, p.window);
    for (int64_t kt = keys.begin; kt < keys.end; ++kt) {
        const int64_t u0 = kt * kCols;
        const int cols = int(p.T - u0 < kCols ? p.T - u0 : kCols);
        team_sync();  // the previous tile's k, v, s are no longer read
        load_rows(a.k, b, h, u0, kCols, cols, D, ld, k, team);
        load_rows(a.v, b, h, u0, kCols, cols, D, ld, v, team);
        team_sync();
        masked_scores(q, k, D, p, t0, u0, s, team);
        team_sync();
        for (int r = team.tid; r < kRows; r += team.count) alpha[r] = online_softmax_merge(s + r * kCols, m[r], l[r]);
        team_sync();
        // same owner as in add_rows_times: no sync between
        for (int64_t i = team.tid; i < kRows * D; i += team.count) acc[padded(i, D, ld)] *= alpha[i / D];
        add_rows_times(acc, s, v, D, team);
    }
    team_sync();
    for (int64_t i = team.tid; i < rows * D; i += team.count) acc[padded(i, D, ld)] /= l[i / D];  // same owner as below
    store_rows(acc, rows, D, ld, a.y, b, h, t0, team);
    for (int r = team.tid; r < rows; r += team.count) a.lse[bh * p.T + t0 + r] = m[r] + logf(l[r]);
}

// Δ for row `row` = (b·H + h)·T + t: Σ_d dy·y.
SPLATLM_HD inline void flash_delta_row(const FlashBackward& a, int64_t row) {
    const int64_t T = a.p.T, bh = row / T, t = row % T, b = bh / a.p.H, h = bh % a.p.H;
    const float *dy = a.dy.row(b, h, t), *y = a.y.row(b, h, t);
    float dot = 0.f;
    for (int64_t d = 0; d < a.p.D; ++d) dot += dy[d * a.dy.sd] * y[d * a.y.sd];
    a.delta[row] = dot;
}

// Shared memory of a backward block (dq or dk/dv): four kRows/kCols-row tiles of inputs, two of
// accumulators (rows shared_ld(D) floats), the s and dp tiles, and lse, Δ per query row.
SPLATLM_HD inline size_t flash_backward_floats(int64_t D) {
    return (3 * kRows + 3 * kCols) * shared_ld(D) + 2 * kRows * kCols + 2 * kRows;
}

// One query tile's rows (q, dy, lse, Δ) into shared memory; rows past T get lse 0, Δ 0 (masked anyway).
SPLATLM_HD inline void load_query_tile(const FlashBackward& a, int64_t b, int64_t h, int64_t t0, float* q, float* dy,
                                       float* lse, float* delta, Team team) {
    const int64_t T = a.p.T, bh = b * a.p.H + h;
    const int rows = int(T - t0 < kRows ? T - t0 : kRows);
    load_rows(a.q, b, h, t0, kRows, rows, a.p.D, shared_ld(a.p.D), q, team);
    load_rows(a.dy, b, h, t0, kRows, rows, a.p.D, shared_ld(a.p.D), dy, team);
    for (int r = team.tid; r < kRows; r += team.count) {
        lse[r] = r < rows ? a.lse[bh * T + t0 + r] : 0.f;
        delta[r] = r < rows ? a.delta[bh * T + t0 + r] : 0.f;
    }
}

// Shared-memory layout common to both backward blocks (rows of the D-wide tiles ld floats apart).
struct BackwardTiles {
    float *q, *dy, *acc_q, *k, *v, *acc_k, *s, *dp, *lse, *delta;
    SPLATLM_HD BackwardTiles(float* shared, int64_t ld)
        : q(shared), dy(q + kRows * ld), acc_q(dy + kRows * ld), k(acc_q + kRows * ld), v(k + kCols * ld),
          acc_k(v + kCols * ld), s(acc_k + kCols * ld), dp(s + kRows * kCols), lse(dp + kRows * kCols),
          delta(lse + kRows) {}
};

// The s → p, dp → ds step for query tile t0 against key tile u0, both already in shared memory.
SPLATLM_HD inline void tile_gradients(const FlashBackward& a, const BackwardTiles& m, int64_t t0, int64_t u0, Team team) {
    masked_scores(m.q, m.k, a.p.D, a.p, t0, u0, m.s, team);
    row_dots(m.dy, m.v, a.p.D, m.dp, team);
    team_sync();
    probabilities_and_dscores(m.s, m.dp, m.lse, m.delta, a.p.scale, team);
    team_sync();
}

// dq for block = (b·H + h)·(query tiles) + query tile: Σ over its key tiles of ds·k.
SPLATLM_HD inline void flash_dq_block(const FlashBackward& a, int64_t block, float* shared, Team team) {
    const int64_t D = a.p.D, ld = shared_ld(D), n_tiles = tiles(a.p.T, kRows), bh = block / n_tiles;
    const int64_t qt = block % n_tiles, b = bh / a.p.H, h = bh % a.p.H, t0 = qt * kRows;
    const BackwardTiles m(shared, ld);
    load_query_tile(a, b, h, t0, m.q, m.dy, m.lse, m.delta, team);
    for (int64_t i = team.tid; i < kRows * D; i += team.count) m.acc_q[padded(i, D, ld)] = 0.f;
    const TileRange keys = key_tiles_for(qt, a.p.T, a.p.window);
    for (int64_t kt = keys.begin; kt < keys.end; ++kt) {
        const int64_t u0 = kt * kCols;
        const int cols = int(a.p.T - u0 < kCols ? a.p.T - u0 : kCols);
        team_sync();
        load_rows(a.k, b, h, u0, kCols, cols, D, ld, m.k, team);
        load_rows(a.v, b, h, u0, kCols, cols, D, ld, m.v, team);
        team_sync();
        tile_gradients(a, m, t0, u0, team);
        add_rows_times(m.acc_q, m.dp, m.k, D, team);
    }
    store_rows(m.acc_q, int(a.p.T - t0 < kRows ? a.p.T - t0 : kRows), D, ld, a.dq, b, h, t0, team);
}

// dk, dv for block = (b·H + h)·(key tiles) + key tile: Σ over the query tiles that see it.
SPLATLM_HD inline void flash_dkdv_block(const FlashBackward& a, int64_t block, float* shared, Team team) {
    const int64_t D = a.p.D, ld = shared_ld(D), n_tiles = tiles(a.p.T, kCols), bh = block / n_tiles;
    const int64_t kt = block % n_tiles, b = bh / a.p.H, h = bh % a.p.H, u0 = kt * kCols;
    const int cols = int(a.p.T - u0 < kCols ? a.p.T - u0 : kCols);
    const BackwardTiles m(shared, ld);
    float* acc_v = m.acc_q;  // kRows == kCols: the dq accumulator's room holds dv here
    load_rows(a.k, b, h, u0, kCols, cols, D, ld, m.k, team);
    load_rows(a.v, b, h, u0, kCols, cols, D, ld, m.v, team);
    for (int64_t i = team.tid; i < kCols * D; i += team.count) {
        const int64_t e = padded(i, D, ld);
        m.acc_k[e] = acc_v[e] = 0.f;
    }
    const TileRange queries = query_tiles_for(kt, a.p.T, a.p.window);
    for (int64_t qt = queries.begin; qt < queries.end; ++qt) {
        const int64_t t0 = qt * kRows;
        team_sync();
        load_query_tile(a, b, h, t0, m.q, m.dy, m.lse, m.delta, team);
        team_sync();
        tile_gradients(a, m, t0, u0, team);
        add_cols_times(m.acc_k, m.dp, m.q, D, team);
        add_cols_times(acc_v, m.s, m.dy, D, team);
    }
    store_rows(m.acc_k, cols, D, ld, a.dk, b, h, u0, team);
    store_rows(acc_v, cols, D, ld, a.dv, b, h, u0, team);
}

static_assert(kRows == kCols, "flash_dkdv_block keeps dv where flash_dq_block keeps dq");

}  // namespace splatlm::cuda
