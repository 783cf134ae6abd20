// gemm.cpp — single-precision GEMM in the GotoBLAS/BLIS style.
//
// Blocking (loop order, outermost first):
//   jc: N in blocks of NC columns
//     pc: K in passes of kc ≤ KC (balanced, so there is no sliver pass)
//       pack B[pc, jc] into kc×NR column panels              (~512 KiB: stays in each core's L2)
//       ic: M in blocks of MC rows
//         pack A[ic, pc] into MR×kc row panels                (one panel is 8 KiB: lives in L1)
//         ir over MR panels, jr over NR panels: micro-kernel  (MR×NR tile of C in registers)
// Packing copies each operand into the exact order the micro-kernel reads it, contiguous and
// aligned, which is also what makes arbitrary (row, column) strides free: a transposed operand
// only changes the gather loop of its packing. Edge panels are zero-padded, so the kernel always
// runs a full MR×NR tile and only the write-back is partial. The first K pass applies beta; later
// passes accumulate into C. The micro-kernel itself is in gemm_kernel.h, the transposing copy
// that packs an operand whose rows (A) or columns (B) are contiguous along K in gemm_pack.h.
//
// Threads (OpenMP): the smaller operand is packed once by the whole team (one barrier), then
// chunks of rows (or columns) of C are handed out dynamically, each run through the scheme above
// with no barrier in between (on a shared, busy host a barrier can cost a whole time slice). K is
// never split, so every element of C is summed in the same order whatever the thread count:
// results are bitwise independent of it.
//
// Threading policy (thread_count), a function of the problem shape and omp_get_max_threads()
// only: threads = min(omp_get_max_threads(), max(1, M·N·K / kWorkPerThread)), so each thread
// gets at least 64³ multiply-adds; inside an active parallel region, one thread (the caller's
// region already uses the cores). Nothing depends on timing or on earlier calls. On a host
// shared with other busy processes the trainer lowers omp_get_max_threads() to the free cores
// between steps (free_cores.h); this policy itself knows nothing of other processes.
//
// Shortcuts, chosen by shape and strides only: tiny products and short A (M ≤ 2·MR, as when
// decoding a few rows) run the micro-kernel on the operands in place (packing would cost as much
// as the arithmetic; a short A against a transposed B goes through Cᵀ = Bᵀ·Aᵀ), vector-shaped
// ones (M == 1 or N == 1) stream their operands once, and a column-major C is computed as Cᵀ = Bᵀ·Aᵀ.
#include "tensor/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "tensor/error.h"
#include "tensor/gemm_kernel.h"
#include "tensor/gemm_pack.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace splatlm {
namespace {

using gemm_detail::DirectA;
using gemm_detail::DirectB;
using gemm_detail::micro_kernel;
using gemm_detail::PackedA;
using gemm_detail::PackedB;
using gemm_detail::MR;
using gemm_detail::NR;
using gemm_detail::pack_transposed;
using gemm_detail::Tile;
using gemm_detail::update;

constexpr int64_t KC = 256;      // K pass: an MR×KC panel of A (8 KiB) stays in L1 across a row of tiles
constexpr int64_t NC = 512 / NR * NR;  // B block of KC×NC floats (~512 KiB) stays in L2 across the whole A block;
                                       // whole NR panels, or packing a full block overruns its kc·NC floats
constexpr int64_t MC = 32 * MR;  // A block rows; a multiple of MR so only the last block has an edge
constexpr int64_t kSmallWork = 40 * 40 * 40;  // M·N·K up to which unpacked operands win (crossover 32³..48³)
constexpr int64_t kFewRows = 2 * MR;  // an A this short reads B in place: a packed B panel would serve ≤ 2 tiles
constexpr int64_t kWorkPerThread = 64 * 64 * 64;  // fewer multiply-adds than this per thread: use fewer threads
constexpr int64_t kChunksPerThread = 4;  // work pieces per thread when threaded (dynamic balance)
constexpr int64_t kMinChunk = 64;        // ... but no piece narrower than this many rows or columns

struct Matrix {
    const float* p;
    int64_t rs, cs;
    const float* at(int64_t i, int64_t j) const { return p + i * rs + j * cs; }
};

struct OutMatrix {
    float* p;
    int64_t rs, cs;
    float* at(int64_t i, int64_t j) const { return p + i * rs + j * cs; }
};

// 64-byte aligned scratch owned by the calling thread, grown on demand and reused across calls
// (allocated before any parallel region, so worker threads never allocate or throw).
float* scratch(size_t floats) {
    struct Buffer {
        std::unique_ptr<float, decltype(&std::free)> p{nullptr, &std::free};
        size_t size = 0;
    };
    thread_local Buffer buffer;
    if (buffer.size < floats) {
        size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
        buffer.p.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
        SPLATLM_CHECK(buffer.p, "gemm: cannot allocate ", bytes, " bytes of packing space");
        buffer.size = floats;
    }
    return buffer.p.get();
}

// The threading policy (top of file): the shape and the OpenMP thread limit, nothing else.
int thread_count(int64_t M, int64_t N, int64_t K) {
#ifdef _OPENMP
    if (omp_in_parallel()) return 1;
    int64_t by_work = std::max<int64_t>(1, M * N * K / kWorkPerThread);
    return static_cast<int>(std::min<int64_t>(omp_get_max_threads(), by_work));
#else
    return 1;
#endif
}

// Rows [0, m) (m ≤ MR) and columns [0, kc) of A into one MR×kc panel: dst[p·MR + i] = A(i, p).
// Rows m..MR are zero. Unit strides get their own loops so the compiler can vectorise them; rows
// contiguous along K are a transpose, done in register blocks (gemm_pack.h).
void pack_a_panel(Matrix A, int m, int64_t kc, float* dst) {
    if (A.cs == 1) {
        pack_transposed<MR>(A.p, A.rs, m, kc, dst);
    } else if (m == MR && A.rs == 1) {
        for (int64_t p = 0; p < kc; ++p)
            for (int i = 0; i < MR; ++i) dst[p * MR + i] = A.p[p * A.cs + i];
    } else {
        for (int64_t p = 0; p < kc; ++p)
            for (int i = 0; i < MR; ++i) dst[p * MR + i] = i < m ? *A.at(i, p) : 0.f;
    }
}

// Rows [0, kc) and columns [0, n) (n ≤ NR) of B into one kc×NR panel: dst[p·NR + j] = B(p, j).
void pack_b_panel(Matrix B, int n, int64_t kc, float* dst) {
    if (n == NR && B.cs == 1) {
        for (int64_t p = 0; p < kc; ++p)
            for (int j = 0; j < NR; ++j) dst[p * NR + j] = B.p[p * B.rs + j];
    } else if (B.rs == 1) {  // Bᵀ stored row-major: its columns are contiguous along K, a transpose
        pack_transposed<NR>(B.p, B.cs, n, kc, dst);
    } else {
        for (int64_t p = 0; p < kc; ++p)
            for (int j = 0; j < NR; ++j) dst[p * NR + j] = j < n ? *B.at(p, j) : 0.f;
    }
}

// The packed mc×kc block of A times the packed kc×nc block of B into C, one MR×NR tile at a
// time: row of tiles by row of tiles, so one panel of A stays in L1 while B streams from L2.
void macro_kernel(const float* pa, const float* pb, int64_t mc, int64_t nc, int64_t kc, OutMatrix C, float alpha,
                  float beta) {
    for (int64_t i = 0; i < mc; i += MR)
        for (int64_t j = 0; j < nc; j += NR) {
            Tile tile{C.at(i, j), C.rs, C.cs, int(std::min<int64_t>(MR, mc - i)), int(std::min<int64_t>(NR, nc - j)),
                      alpha, beta};
            micro_kernel(kc, PackedA{pa + i * kc}, PackedB{pb + j * kc}, tile);
        }
}

int64_t round_up(int64_t x, int64_t unit) { return (x + unit - 1) / unit * unit; }

struct Problem {
    int64_t M, N, K, kc;  // kc: the depth of a K pass (K split into equal passes of at most KC)
    float alpha, beta;
    Matrix A, B;
    OutMatrix C;
};

// Packs the mc×kc block of A at (ic, pc) as mc/MR panels.
void pack_a_block(const Problem& pr, int64_t ic, int64_t pc, int64_t mc, int64_t kc, float* dst) {
    for (int64_t i = 0; i < mc; i += MR)
        pack_a_panel({pr.A.at(ic + i, pc), pr.A.rs, pr.A.cs}, int(std::min<int64_t>(MR, mc - i)), kc, dst + i * kc);
}

// Packs the kc×nc block of B at (pc, jc) as nc/NR panels.
void pack_b_block(const Problem& pr, int64_t pc, int64_t jc, int64_t kc, int64_t nc, float* dst) {
    for (int64_t j = 0; j < nc; j += NR)
        pack_b_panel({pr.B.at(pc, jc + j), pr.B.rs, pr.B.cs}, int(std::min<int64_t>(NR, nc - j)), kc, dst + j * kc);
}

// A whole operand packed ahead, block after block in the order the loops visit them: block
// (ic, pc) of A starts at ic·K + pc·round_up(mc, MR), block (pc, jc) of B at jc·K + pc·round_up(nc, NR),
// its panels kc floats × MR (NR) apart. Called by every thread of gemm_blocked's team: the panels
// are shared out by an orphaned `omp for`, whose closing barrier publishes them to the team.
// `extent` is M (A: blocks of MC, panels of MR rows) or N (B: blocks of NC, panels of NR columns);
// pack_panel(start, pc, width, kc, dst) packs the panel at row or column `start`, depth pc.
template <class PackPanel>
void pack_ahead(const Problem& pr, int64_t extent, int64_t block, int64_t unit, float* dst, PackPanel pack_panel) {
    const int64_t passes = (pr.K + pr.kc - 1) / pr.kc, blocks = (extent + block - 1) / block, per_block = block / unit;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < blocks * passes * per_block; ++t) {
        const int64_t b0 = t / (passes * per_block) * block, pc = t / per_block % passes * pr.kc, i = t % per_block * unit;
        const int64_t span = std::min(block, extent - b0), kc = std::min(pr.kc, pr.K - pc);
        if (i < span)
            pack_panel(b0 + i, pc, int(std::min(unit, span - i)), kc, dst + b0 * pr.K + pc * round_up(span, unit) + i * kc);
    }
}

void pack_ahead_a(const Problem& pr, float* dst) {
    pack_ahead(pr, pr.M, MC, MR, dst, [&](int64_t i, int64_t pc, int m, int64_t kc, float* d) {
        pack_a_panel({pr.A.at(i, pc), pr.A.rs, pr.A.cs}, m, kc, d);
    });
}

void pack_ahead_b(const Problem& pr, float* dst) {
    pack_ahead(pr, pr.N, NC, NR, dst, [&](int64_t j, int64_t pc, int n, int64_t kc, float* d) {
        pack_b_panel({pr.B.at(pc, j), pr.B.rs, pr.B.cs}, n, kc, d);
    });
}

// Rows [i0, i1) × columns [j0, j1) of C by the blocked scheme. An operand packed ahead (pre_a:
// then i0 = 0, i1 = M; pre_b: then j0 = 0, j1 = N) is read in place, the other is packed into
// `work`, which this call owns (block_floats() of it).
void gemm_region(const Problem& pr, int64_t i0, int64_t i1, int64_t j0, int64_t j1, const float* pre_a,
                 const float* pre_b, float* work) {
    float* own_b = work;
    float* own_a = work + pr.kc * NC;
    for (int64_t jc = j0; jc < j1; jc += NC) {
        const int64_t nc = std::min(NC, j1 - jc);
        for (int64_t pc = 0; pc < pr.K; pc += pr.kc) {
            const int64_t kc = std::min(pr.kc, pr.K - pc);
            const float* pb = pre_b ? pre_b + jc * pr.K + pc * round_up(nc, NR) : own_b;
            if (!pre_b) pack_b_block(pr, pc, jc, kc, nc, own_b);
            for (int64_t ic = i0; ic < i1; ic += MC) {
                const int64_t mc = std::min(MC, i1 - ic);
                const float* pa = pre_a ? pre_a + ic * pr.K + pc * round_up(mc, MR) : own_a;
                if (!pre_a) pack_a_block(pr, ic, pc, mc, kc, own_a);
                macro_kernel(pa, pb, mc, nc, kc, {pr.C.at(ic, jc), pr.C.rs, pr.C.cs}, pr.alpha,
                             pc == 0 ? pr.beta : 1.f);
            }
        }
    }
}

size_t block_floats(const Problem& pr) { return size_t(pr.kc * (NC + MC)); }

// Threads: the smaller operand (B when splitting rows of C, A when splitting columns) is packed
// once up front by the whole team; the other dimension is cut into chunks that threads take
// dynamically, each packing its own blocks of the larger operand. One barrier after the shared
// packing, none between chunks: a thread that the OS parks for a while (the host is shared) just
// takes fewer chunks.
void gemm_blocked(const Problem& pr, int threads) {
    const size_t per_thread = block_floats(pr);
    if (threads <= 1) return gemm_region(pr, 0, pr.M, 0, pr.N, nullptr, nullptr, scratch(per_thread));
    const bool split_m = pr.M >= pr.N;
    const int64_t unit = split_m ? MR : NR, extent = split_m ? pr.M : pr.N;
    const int64_t chunk = round_up(std::max(extent / (kChunksPerThread * threads), kMinChunk), unit);
    const int64_t chunks = (extent + chunk - 1) / chunk;
    const size_t pre = size_t(split_m ? pr.K * round_up(pr.N, NR) : round_up(pr.M, MR) * pr.K);
    float* buf = scratch(pre + per_thread * size_t(threads));
    float* pre_packed = buf + per_thread * size_t(threads);
#pragma omp parallel num_threads(threads)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        split_m ? pack_ahead_b(pr, pre_packed) : pack_ahead_a(pr, pre_packed);
        float* work = buf + per_thread * size_t(tid);
#pragma omp for schedule(dynamic) nowait
        for (int64_t c = 0; c < chunks; ++c) {
            const int64_t lo = c * chunk, hi = std::min(lo + chunk, extent);
            if (split_m)
                gemm_region(pr, lo, hi, 0, pr.N, nullptr, pre_packed, work);
            else
                gemm_region(pr, 0, pr.M, lo, hi, pre_packed, nullptr, work);
        }
    }
}

// Tiny products, and short A (decoding a few rows at a time), where packing would cost as much
// as the arithmetic: the micro-kernel reads A and B in place (B needs unit column stride), one
// MR×NR tile of C at a time. Columns of tiles split across threads; each tile is computed the
// same way on any thread, so results do not depend on the thread count.
void gemm_direct(int64_t M, int64_t N, int64_t K, float alpha, Matrix A, Matrix B, float beta, OutMatrix C,
                 [[maybe_unused]] int threads) {
    const int64_t column_tiles = (N + NR - 1) / NR;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int64_t jt = 0; jt < column_tiles; ++jt)
        for (int64_t i = 0; i < M; i += MR) {
            const int64_t j = jt * NR;
            const int m = int(std::min<int64_t>(MR, M - i)), n = int(std::min<int64_t>(NR, N - j));
            micro_kernel(K, DirectA{A.at(i, 0), A.rs, A.cs, m}, DirectB(B.at(0, j), B.rs, n),
                         Tile{C.at(i, j), C.rs, C.cs, m, n, alpha, beta});
        }
}

// M == 1 with unit column stride in B (a row vector times a matrix): rows of B stream through
// once, scaled and summed into a strip of W accumulators; the packed kernel would waste MR−1
// of its MR rows here.
void gemm_row(int64_t N, int64_t K, float alpha, Matrix A, Matrix B, float beta, OutMatrix C) {
    constexpr int64_t W = 512;
    float acc[W];
    for (int64_t j0 = 0; j0 < N; j0 += W) {
        const int64_t w = std::min(W, N - j0);
        std::fill(acc, acc + w, 0.f);
        for (int64_t p = 0; p < K; ++p) {
            const float a = *A.at(0, p);
            const float* b = B.at(p, j0);
            for (int64_t j = 0; j < w; ++j) acc[j] += a * b[j];
        }
        for (int64_t j = 0; j < w; ++j) {
            float* c = C.at(0, j0 + j);
            *c = update(acc[j], *c, alpha, beta);
        }
    }
}

// A short A times a B with unit row stride (a transposed weight, such as the tied output head
// when decoding a few rows): Cᵀ = Bᵀ·Aᵀ, with Aᵀ copied to a K×M scratch of unit column stride so
// that the in-place micro-kernel reads Bᵀ as its A operand and the copy as its B.
void gemm_short_transposed(int64_t M, int64_t N, int64_t K, float alpha, Matrix A, Matrix B, float beta,
                           OutMatrix C, int threads) {
    float* at = scratch(size_t(K * M));
    for (int64_t p = 0; p < K; ++p)
        for (int64_t i = 0; i < M; ++i) at[p * M + i] = *A.at(i, p);
    gemm_direct(N, M, K, alpha, Matrix{B.p, B.cs, B.rs}, Matrix{at, M, 1}, beta, OutMatrix{C.p, C.cs, C.rs}, threads);
}

// N == 1 with contiguous rows of A and a contiguous column of B (a matrix times a vector):
// one dot product per row, in L independent lanes summed in a fixed order at the end.
void gemm_column(int64_t M, int64_t K, float alpha, Matrix A, Matrix B, float beta, OutMatrix C) {
    constexpr int64_t L = 32;
    for (int64_t i = 0; i < M; ++i) {
        const float* a = A.at(i, 0);
        const float* b = B.p;
        float lane[L] = {};
        int64_t p = 0;
        for (; p + L <= K; p += L)
            for (int64_t l = 0; l < L; ++l) lane[l] += a[p + l] * b[p + l];
        for (; p < K; ++p) lane[p % L] += a[p] * b[p];
        float sum = 0.f;
        for (int64_t l = 0; l < L; ++l) sum += lane[l];
        float* c = C.at(i, 0);
        *c = update(sum, *c, alpha, beta);
    }
}

void scale(int64_t M, int64_t N, float beta, OutMatrix C) {
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            float* c = C.at(i, j);
            *c = beta == 0.f ? 0.f : beta * *c;
        }
}

void check_sizes(const char* op, int64_t M, int64_t N, int64_t K) {
    SPLATLM_CHECK(M >= 0 && N >= 0 && K >= 0, op, ": sizes must be non-negative, got M=", M, " N=", N, " K=", K);
}

}  // namespace

void gemm_reference(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t rsa, int64_t csa,
                    const float* B, int64_t rsb, int64_t csb, float beta, float* C, int64_t rsc, int64_t csc) {
    check_sizes("gemm_reference", M, N, K);
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            double acc = 0;
            for (int64_t p = 0; p < K; ++p) acc += double(A[i * rsa + p * csa]) * B[p * rsb + j * csb];
            float& c = C[i * rsc + j * csc];
            c = float(alpha * acc + (beta == 0.f ? 0.0 : double(beta) * c));
        }
}

void gemm(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t rsa, int64_t csa, const float* B,
          int64_t rsb, int64_t csb, float beta, float* C, int64_t rsc, int64_t csc) {
    check_sizes("gemm", M, N, K);
    if (M == 0 || N == 0) return;
    SPLATLM_CHECK(C && (K == 0 || (A && B)), "gemm: null operand for M=", M, " N=", N, " K=", K);
    if (K == 0) return scale(M, N, beta, {C, rsc, csc});
    // Column-major C: compute Cᵀ = Bᵀ·Aᵀ instead, so the kernel writes contiguous rows.
    if (csc != 1 && rsc == 1)
        return gemm(N, M, K, alpha, B, csb, rsb, A, csa, rsa, beta, C, csc, rsc);
    const Matrix a{A, rsa, csa}, b{B, rsb, csb};
    const OutMatrix c{C, rsc, csc};
    const int threads = thread_count(M, N, K);
    if (M == 1 && csb == 1) return gemm_row(N, K, alpha, a, b, beta, c);
    if (N == 1 && csa == 1 && rsb == 1) return gemm_column(M, K, alpha, a, b, beta, c);
    if (M <= kFewRows && rsb == 1 && csb != 1) return gemm_short_transposed(M, N, K, alpha, a, b, beta, c, threads);
    if ((M * N * K <= kSmallWork || M <= kFewRows) && csb == 1) return gemm_direct(M, N, K, alpha, a, b, beta, c, threads);
    const int64_t passes = (K + KC - 1) / KC;
    gemm_blocked({M, N, K, (K + passes - 1) / passes, alpha, beta, a, b, c}, threads);
}

void gemm_batched(int64_t batch, int64_t M, int64_t N, int64_t K, float alpha, const float* const* A, int64_t rsa,
                  int64_t csa, const float* const* B, int64_t rsb, int64_t csb, float beta, float* const* C,
                  int64_t rsc, int64_t csc) {
    check_sizes("gemm_batched", M, N, K);
    SPLATLM_CHECK(batch >= 0, "gemm_batched: batch must be non-negative, got ", batch);
    if (batch == 0 || M == 0 || N == 0) return;
    SPLATLM_CHECK(A && B && C, "gemm_batched: null pointer array for batch=", batch);
    for (int64_t b = 0; b < batch; ++b)
        SPLATLM_CHECK(C[b] && (K == 0 || (A[b] && B[b])), "gemm_batched: null operand in item ", b, " of ", batch,
                      " (M=", M, " N=", N, " K=", K, ")");
    // Small products: one whole product per thread (gemm is single-threaded inside the region).
    // Large ones: one at a time, each using every thread.
    [[maybe_unused]] const bool across_batch = batch > 1 && thread_count(M, N, K) < thread_count(batch * M, N, K);
#pragma omp parallel for schedule(dynamic) if (across_batch)
    for (int64_t b = 0; b < batch; ++b) gemm(M, N, K, alpha, A[b], rsa, csa, B[b], rsb, csb, beta, C[b], rsc, csc);
}

std::string gemm_micro_kernel() {
    return std::string(gemm_detail::kMicroKernel) + " " + std::to_string(MR) + "x" + std::to_string(NR);
}

}  // namespace splatlm
