// Tests of splatlm::gemm and gemm_batched against gemm_reference (double accumulation), and of the
// transposing copy its packing uses (tensor/gemm_pack.h) against the plain loop, bit for bit.
#include <catch2/catch.hpp>

#include <array>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/gemm_kernel.h"
#include "tensor/gemm_pack.h"
#include "tensor/rng.h"
#ifdef _OPENMP
#include <omp.h>
#endif

using namespace splatlm;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Values with magnitude in [0.25, 1) and a random sign: never zero, so a dropped or doubled
// term of a dot product moves the result by at least 1/16, far beyond the tolerance.
std::vector<float> random_values(Rng& rng, int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    rng.uniform(v.data(), n, 0.25f, 1.f);
    for (float& x : v)
        if (rng.next_u64() & 1) x = -x;
    return v;
}

// A rows×cols matrix inside a larger buffer: `pad` extra elements per leading dimension and a
// border of sentinels, so non-unit leading dimensions are exercised and stray writes are seen.
struct Mat {
    int64_t rows, cols, rs, cs, offset;
    std::vector<float> buf;
    Mat(Rng& rng, int64_t r, int64_t c, bool col_major, int64_t pad) : rows(r), cols(c) {
        const int64_t ld = (col_major ? r : c) + pad, outer = col_major ? c : r;
        rs = col_major ? 1 : ld, cs = col_major ? ld : 1, offset = pad;
        buf = random_values(rng, offset + ld * outer + pad);
    }
    float* p() { return buf.data() + offset; }
    float& at(int64_t i, int64_t j) { return p()[i * rs + j * cs]; }
    float max_abs() {
        float m = 0;
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < cols; ++j) m = std::max(m, std::fabs(at(i, j)));
        return m;
    }
};

struct Case {
    int64_t M, N, K;
    bool ta = false, tb = false;  // A stored K×M (Aᵀ given), B stored N×K
    bool c_col_major = false;
    int64_t pad = 0;
    float alpha = 1.f, beta = 0.f;
    bool nan_c = false;  // fill C with NaN first (only meaningful with beta == 0)
};

// Runs gemm and gemm_reference on the same operands and checks every element of C against
// the reference, and that nothing outside C's window of its buffer changed.
//
// Tolerance per element: ε·(3·|alpha|·K·max|a|·max|b| + 2·|beta|·max|c|), ε = FLT_EPSILON.
// The p-th addition of a float dot product errs by at most ε·|partial sum|. With random signs
// the partial sums stay near sqrt(p)·max|a|·max|b| and the errors partly cancel, so the total
// stays well under K·ε·max|a|·max|b| (the rigorous bound, up to K²/2·ε·max|a|·max|b|, needs every
// partial sum to grow one way, which random data never does). The factor 3 and the beta term
// cover the roundings of alpha·acc + beta·c. A dropped or repeated product (≥ 1/16 in magnitude)
// exceeds the tolerance for every K here (K·ε ≤ 1.2e-4).
void check_case(const Case& t, uint64_t seed) {
    INFO("M=" << t.M << " N=" << t.N << " K=" << t.K << " ta=" << t.ta << " tb=" << t.tb << " c_col=" << t.c_col_major
              << " pad=" << t.pad << " alpha=" << t.alpha << " beta=" << t.beta << " nan_c=" << t.nan_c);
    Rng rng(seed);
    Mat A = t.ta ? Mat(rng, t.K, t.M, false, t.pad) : Mat(rng, t.M, t.K, false, t.pad);
    Mat B = t.tb ? Mat(rng, t.N, t.K, false, t.pad) : Mat(rng, t.K, t.N, false, t.pad);
    Mat C(rng, t.M, t.N, t.c_col_major, t.pad);
    if (t.nan_c)
        for (int64_t i = 0; i < t.M; ++i)
            for (int64_t j = 0; j < t.N; ++j) C.at(i, j) = kNaN;
    // Operand strides as gemm sees them: a transposed storage is just swapped strides.
    const int64_t rsa = t.ta ? A.cs : A.rs, csa = t.ta ? A.rs : A.cs;
    const int64_t rsb = t.tb ? B.cs : B.rs, csb = t.tb ? B.rs : B.cs;
    Mat expected = C;
    gemm_reference(t.M, t.N, t.K, t.alpha, A.p(), rsa, csa, B.p(), rsb, csb, t.beta, expected.p(), C.rs, C.cs);
    const float max_c = t.nan_c ? 0.f : C.max_abs();
    gemm(t.M, t.N, t.K, t.alpha, A.p(), rsa, csa, B.p(), rsb, csb, t.beta, C.p(), C.rs, C.cs);

    const double tol = FLT_EPSILON * (3.0 * std::fabs(t.alpha) * double(t.K) * A.max_abs() * B.max_abs() +
                                      2.0 * std::fabs(t.beta) * max_c);
    double worst = 0;
    std::vector<char> inside(C.buf.size(), 0);
    for (int64_t i = 0; i < t.M; ++i)
        for (int64_t j = 0; j < t.N; ++j) {
            const double d = std::fabs(double(C.at(i, j)) - expected.at(i, j));
            worst = std::isnan(d) ? INFINITY : std::max(worst, d);
            inside[size_t(C.offset + i * C.rs + j * C.cs)] = 1;
        }
    INFO("worst |gemm - reference| = " << worst << ", tolerance " << tol);
    CHECK(worst <= tol);
    size_t changed_outside = 0;
    for (size_t e = 0; e < C.buf.size(); ++e)
        changed_outside += !inside[e] && std::memcmp(&C.buf[e], &expected.buf[e], sizeof(float)) != 0;
    CHECK(changed_outside == 0);
}

}  // namespace

TEST_CASE("gemm matches the reference on odd sizes, every transpose", "[gemm]") {
    const int64_t sizes[] = {1, 3, 17, 33, 127, 257};
    uint64_t seed = 1;
    // Every (M, N, K) combination; the transpose pair cycles so each one meets many shapes,
    // and leading dimensions alternate between tight and padded.
    for (int64_t M : sizes)
        for (int64_t N : sizes)
            for (int64_t K : sizes) {
                Case t{M, N, K};
                t.ta = seed & 1, t.tb = seed & 2, t.pad = seed % 3 == 0 ? 0 : 5;
                check_case(t, seed++);
            }
}

TEST_CASE("gemm handles a dimension of 1000 in all four transposes", "[gemm]") {
    // {16, 1000, 300} and {9, 257, 1000}: short A past the tiny-product size, B read in place or as
    // dot products with a transposed B (batched decoding through a tied output head).
    const Case shapes[] = {{1000, 33, 17}, {17, 1000, 127}, {127, 257, 1000}, {1000, 127, 33}, {3, 1000, 1000},
                           {16, 1000, 300}, {9, 257, 1000}};
    uint64_t seed = 100;
    for (Case t : shapes)
        for (int tr = 0; tr < 4; ++tr) {
            t.ta = tr & 1, t.tb = tr & 2, t.pad = 3;
            check_case(t, seed++);
        }
}

TEST_CASE("gemm writes a column-major C", "[gemm]") {
    uint64_t seed = 200;
    for (Case t : {Case{33, 127, 17}, Case{257, 3, 33}, Case{127, 257, 257}, Case{1, 17, 3}})
        for (int tr = 0; tr < 4; ++tr) {
            t.ta = tr & 1, t.tb = tr & 2, t.c_col_major = true, t.pad = tr;
            t.beta = 0.5f;
            check_case(t, seed++);
        }
}

TEST_CASE("gemm applies alpha and beta", "[gemm]") {
    const float ab[][2] = {{1.f, 0.f}, {0.5f, 0.f}, {1.f, 1.f}, {-2.f, 0.75f}, {0.3f, -1.5f}, {0.f, 2.f}};
    uint64_t seed = 300;
    for (const auto& [alpha, beta] : ab)
        for (Case t : {Case{17, 33, 3}, Case{127, 257, 300}, Case{257, 33, 600}}) {  // K = 600: two K passes
            t.alpha = alpha, t.beta = beta, t.pad = 2, t.tb = seed & 1;
            check_case(t, seed++);
        }
}

TEST_CASE("gemm with beta = 0 ignores NaN in C", "[gemm]") {
    uint64_t seed = 400;
    for (Case t : {Case{3, 17, 1}, Case{33, 33, 33}, Case{257, 127, 600}, Case{127, 33, 257}}) {
        t.nan_c = true, t.alpha = 1.5f, t.c_col_major = seed & 1;
        check_case(t, seed++);
    }
}

TEST_CASE("gemm with K = 0 scales C by beta and M or N = 0 touches nothing", "[gemm]") {
    uint64_t seed = 500;
    for (float beta : {0.f, 0.5f}) {
        Case t{17, 33, 0};
        t.beta = beta, t.nan_c = beta == 0.f;
        check_case(t, seed++);
    }
    check_case(Case{0, 33, 17}, seed++);
    check_case(Case{33, 0, 17}, seed++);
}

TEST_CASE("gemm rejects negative sizes, naming itself and the sizes", "[gemm]") {
    float a = 1, b = 1, c = 0;
    using Catch::Matchers::Contains;
    REQUIRE_THROWS_WITH(gemm(-1, 2, 3, 1.f, &a, 1, 1, &b, 1, 1, 0.f, &c, 1, 1), Contains("gemm") && Contains("M=-1"));
    REQUIRE_THROWS_WITH(gemm(1, 2, -3, 1.f, &a, 1, 1, &b, 1, 1, 0.f, &c, 1, 1), Contains("gemm") && Contains("K=-3"));
    const float* pa = &a;
    const float* pb = &b;
    float* pc = &c;
    REQUIRE_THROWS_WITH(gemm_batched(1, 1, -2, 1, 1.f, &pa, 1, 1, &pb, 1, 1, 0.f, &pc, 1, 1),
                        Contains("gemm_batched") && Contains("N=-2"));
    REQUIRE_THROWS_WITH(gemm_batched(-1, 1, 1, 1, 1.f, &pa, 1, 1, &pb, 1, 1, 0.f, &pc, 1, 1),
                        Contains("gemm_batched") && Contains("-1"));
    REQUIRE_THROWS_AS(gemm(2, 2, 2, 1.f, nullptr, 2, 1, &b, 2, 1, 0.f, &c, 2, 1), Error);
}

namespace {

struct Batch {
    int64_t M, N, K, count;
    std::vector<std::vector<float>> a, b, c;
    std::vector<const float*> pa, pb;
    std::vector<float*> pc;
    Batch(Rng& rng, int64_t M_, int64_t N_, int64_t K_, int64_t count_) : M(M_), N(N_), K(K_), count(count_) {
        for (int64_t i = 0; i < count; ++i) {
            a.push_back(random_values(rng, M * K));
            b.push_back(random_values(rng, K * N));
            c.push_back(random_values(rng, M * N));
        }
        for (int64_t i = 0; i < count; ++i) pa.push_back(a[size_t(i)].data()), pb.push_back(b[size_t(i)].data());
        for (auto& x : c) pc.push_back(x.data());
    }
    // A row-major, B transposed (stored N×K), C row-major.
    void run(float alpha, float beta) {
        gemm_batched(count, M, N, K, alpha, pa.data(), K, 1, pb.data(), 1, K, beta, pc.data(), N, 1);
    }
};

}  // namespace

TEST_CASE("gemm_batched matches the reference item by item", "[gemm]") {
    Rng rng(600);
    // Small items (parallel across the batch) and large ones (parallel inside each product).
    for (auto [M, N, K, count] : {std::array<int64_t, 4>{17, 33, 9, 7}, std::array<int64_t, 4>{127, 257, 300, 3},
                                  std::array<int64_t, 4>{1, 1, 1, 5}, std::array<int64_t, 4>{33, 33, 33, 0}}) {
        INFO("batch " << count << " of " << M << "x" << N << "x" << K);
        Batch batch(rng, M, N, K, count);
        std::vector<std::vector<float>> expected = batch.c;
        for (int64_t i = 0; i < count; ++i)
            gemm_reference(M, N, K, 0.5f, batch.pa[size_t(i)], K, 1, batch.pb[size_t(i)], 1, K, -1.f,
                           expected[size_t(i)].data(), N, 1);
        batch.run(0.5f, -1.f);
        const double tol = FLT_EPSILON * (3.0 * 0.5 * double(K) + 2.0);  // as in check_case, |values| < 1
        for (int64_t i = 0; i < count; ++i) {
            double worst = 0;
            for (size_t e = 0; e < expected[size_t(i)].size(); ++e)
                worst = std::max(worst, double(std::fabs(batch.c[size_t(i)][e] - expected[size_t(i)][e])));
            INFO("item " << i);
            CHECK(worst <= tol);
        }
    }
}

namespace {

// pack_transposed<W> against the loop it replaces, on every row count and K depths on both sides
// of the block size, into a buffer of NaN sentinels: the panel must match bit for bit (its zero
// padding included) and nothing around it may change.
template <int W>
void check_pack_transposed(uint64_t seed) {
    constexpr int64_t kGuard = 16;
    for (int64_t kc : {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 37, 256})
        for (int64_t pad : {0, 5})
            for (int rows = 1; rows <= W; ++rows) {
                INFO("W=" << W << " rows=" << rows << " kc=" << kc << " ld=" << kc + pad);
                Rng rng(seed++);
                const int64_t ld = kc + pad;
                const std::vector<float> src = random_values(rng, rows * ld);
                std::vector<float> expected(size_t(kc * W + 2 * kGuard), kNaN), packed = expected;
                for (int64_t p = 0; p < kc; ++p)
                    for (int r = 0; r < W; ++r) expected[size_t(kGuard + p * W + r)] = r < rows ? src[size_t(r * ld + p)] : 0.f;
                gemm_detail::pack_transposed<W>(src.data(), ld, rows, kc, packed.data() + kGuard);
                CHECK(std::memcmp(packed.data(), expected.data(), packed.size() * sizeof(float)) == 0);
            }
}

}  // namespace

TEST_CASE("gemm's transposing pack writes the scalar loop's panel bit for bit", "[gemm]") {
    check_pack_transposed<gemm_detail::MR>(1000);  // A read along its rows
    check_pack_transposed<gemm_detail::NR>(2000);  // B read along its columns (Bᵀ row-major)
}

TEST_CASE("gemm gives bitwise the same C for an operand stored transposed or not", "[gemm]") {
    // Packing is pure data movement, so A with rows contiguous along K (transposed while packed) and
    // its column-major copy (copied straight), likewise B, pack the same panels and every pairing
    // must give the same bits. The shapes take the packed path (M > 2·MR, past the tiny-product
    // size), with edge panels in M and N, K passes not a multiple of the vector width (37, 3 × 172,
    // 129) and padded leading dimensions.
    uint64_t seed = 1100;
    for (auto [M, N, K, pad] : {std::array<int64_t, 4>{67, 45, 37, 0}, std::array<int64_t, 4>{200, 97, 515, 3},
                                std::array<int64_t, 4>{33, 300, 129, 1}, std::array<int64_t, 4>{129, 33, 768, 0}}) {
        INFO(M << "x" << N << "x" << K << " pad " << pad);
        Rng rng(seed++);
        // along_k: rows of A (columns of B) contiguous along K; across: the other storage, same values.
        Mat a_along_k(rng, M, K, false, pad), a_across(rng, M, K, true, pad);
        Mat b_along_k(rng, K, N, true, pad), b_across(rng, K, N, false, pad);
        for (int64_t i = 0; i < M; ++i)
            for (int64_t p = 0; p < K; ++p) a_across.at(i, p) = a_along_k.at(i, p);
        for (int64_t p = 0; p < K; ++p)
            for (int64_t j = 0; j < N; ++j) b_across.at(p, j) = b_along_k.at(p, j);
        std::vector<float> first;
        for (Mat* a : {&a_along_k, &a_across})
            for (Mat* b : {&b_along_k, &b_across}) {
                std::vector<float> c(size_t(M * N), kNaN);
                gemm(M, N, K, 1.f, a->p(), a->rs, a->cs, b->p(), b->rs, b->cs, 0.f, c.data(), N, 1);
                if (first.empty()) first = c;
                INFO("A " << (a == &a_along_k ? "along K" : "across") << ", B " << (b == &b_along_k ? "along K" : "across"));
                CHECK(std::memcmp(c.data(), first.data(), c.size() * sizeof(float)) == 0);
            }
    }
}

TEST_CASE("gemm's vector write-back rounds exactly like its scalar one", "[gemm]") {
    // The same product into a C with contiguous rows (vector write-back, edges masked) and into
    // one with column stride 2 (the scalar loop): both round alpha·acc + beta·c the same way.
    uint64_t seed = 900;
    for (auto [M, N, K] : {std::array<int64_t, 3>{19, 27, 37}, std::array<int64_t, 3>{70, 45, 90}})  // in place, packed
        for (float beta : {0.f, 0.7f}) {
            INFO(M << "x" << N << "x" << K << " beta=" << beta);
            Rng rng(seed++);
            const std::vector<float> a = random_values(rng, M * K), b = random_values(rng, K * N);
            const std::vector<float> c0 = random_values(rng, M * N);
            std::vector<float> contiguous = c0, strided(size_t(2 * M * N));
            for (size_t e = 0; e < c0.size(); ++e) strided[2 * e] = c0[e];
            gemm(M, N, K, 1.3f, a.data(), K, 1, b.data(), N, 1, beta, contiguous.data(), N, 1);
            gemm(M, N, K, 1.3f, a.data(), K, 1, b.data(), N, 1, beta, strided.data(), 2 * N, 2);
            size_t differ = 0;
            for (size_t e = 0; e < c0.size(); ++e)
                differ += std::memcmp(&contiguous[e], &strided[2 * e], sizeof(float)) != 0;
            CHECK(differ == 0);
        }
}

TEST_CASE("gemm runs the micro-kernel of the CPU it was built for", "[gemm]") {
    // Under make test-arm (aarch64 under qemu) this is what shows that the NEON kernel ran the tests above.
    using Catch::Matchers::StartsWith;
#if defined(__aarch64__)
    CHECK(gemm_micro_kernel() == "NEON 8x12");
#elif defined(__AVX512F__)
    CHECK_THAT(gemm_micro_kernel(), StartsWith("AVX-512 "));
#elif defined(__AVX2__) && defined(__FMA__)
    CHECK_THAT(gemm_micro_kernel(), StartsWith("AVX2+FMA "));
#else
    CHECK_THAT(gemm_micro_kernel(), StartsWith("portable C++ "));
#endif
}

#ifdef _OPENMP
namespace {

// Runs fn with OpenMP limited to `threads`, restoring the previous limit.
template <class Fn>
void with_threads(int threads, Fn fn) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    fn();
    omp_set_num_threads(before);
}

}  // namespace

TEST_CASE("gemm results are bitwise the same on 1 and 2 threads", "[gemm]") {
    uint64_t seed = 700;
    // Shapes split along M and along N, with edges, several K passes and transposes.
    for (auto [M, N, K] : {std::array<int64_t, 3>{1000, 257, 600}, std::array<int64_t, 3>{127, 1000, 300},
                           std::array<int64_t, 3>{257, 257, 257}, std::array<int64_t, 3>{33, 1000, 1000},
                           std::array<int64_t, 3>{13, 1000, 300}}) {  // a short A: decoding rows, B read in place
        Rng rng(seed++);
        const std::vector<float> a = random_values(rng, M * K), b = random_values(rng, K * N);
        const std::vector<float> c0 = random_values(rng, M * N);
        for (int tr = 0; tr < 4; ++tr) {
            INFO(M << "x" << N << "x" << K << " transpose pair " << tr);
            const int64_t rsa = tr & 1 ? 1 : K, csa = tr & 1 ? M : 1, rsb = tr & 2 ? 1 : N, csb = tr & 2 ? K : 1;
            auto run = [&](std::vector<float>& c) {
                gemm(M, N, K, 0.7f, a.data(), rsa, csa, b.data(), rsb, csb, 0.5f, c.data(), N, 1);
            };
            std::vector<float> one = c0, two = c0;
            with_threads(1, [&] { run(one); });
            with_threads(2, [&] { run(two); });
            CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
        }
    }
}

TEST_CASE("gemm_batched is bitwise the same on 1 and 2 threads, and inside a parallel region", "[gemm]") {
    Rng rng(800);
    for (auto [M, N, K, count] : {std::array<int64_t, 4>{17, 33, 65, 6}, std::array<int64_t, 4>{257, 127, 300, 2}}) {
        INFO("batch " << count << " of " << M << "x" << N << "x" << K);
        Batch one(rng, M, N, K, count);
        Batch two = one, nested = one;
        two.pa = one.pa, two.pb = one.pb, nested.pa = one.pa, nested.pb = one.pb;  // same inputs
        two.pc.clear(), nested.pc.clear();
        for (auto& x : two.c) two.pc.push_back(x.data());
        for (auto& x : nested.c) nested.pc.push_back(x.data());
        with_threads(1, [&] { one.run(1.f, 0.f); });
        with_threads(2, [&] { two.run(1.f, 0.f); });
        // Each item from its own thread of an active region: gemm must run single-threaded there.
        with_threads(2, [&] {
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < count; ++i)
                gemm(M, N, K, 1.f, nested.pa[size_t(i)], K, 1, nested.pb[size_t(i)], 1, K, 0.f, nested.pc[size_t(i)], N,
                     1);
        });
        for (int64_t i = 0; i < count; ++i) {
            const size_t bytes = one.c[size_t(i)].size() * sizeof(float);
            CHECK(std::memcmp(one.c[size_t(i)].data(), two.c[size_t(i)].data(), bytes) == 0);
            CHECK(std::memcmp(one.c[size_t(i)].data(), nested.c[size_t(i)].data(), bytes) == 0);
        }
    }
}
#endif
