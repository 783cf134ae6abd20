// Every fast CPU kernel against a plain reference loop (double precision), on odd shapes,
// non-contiguous inputs and large magnitudes; and bitwise equality between 1 and 2 threads.
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/gemm.h"
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;

namespace {
// Reference softmax row in double.
std::vector<double> ref_softmax(const std::vector<float>& x, int64_t start, int64_t n) {
    double m = -INFINITY;
    for (int64_t i = 0; i < n; ++i) m = std::max(m, double(x[start + i]));
    std::vector<double> y(n);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += y[i] = std::exp(double(x[start + i]) - m);
    for (double& v : y) v /= s;
    return y;
}
}  // namespace

TEST_CASE("binary ops broadcast like numpy on non-contiguous inputs", "[kernels]") {
    Tensor a = random_transposed({5, 3, 7}, 1);   // [5, 3, 7], last two axes swapped in memory
    Tensor b = random_strided({3, 1}, 2);         // broadcast over axes 0 and 2
    Tensor out = raw::binary(Binary::Div, a, b);
    REQUIRE(out.shape() == Shape{5, 3, 7});
    for (int64_t i = 0; i < 5; ++i)
        for (int64_t j = 0; j < 3; ++j)
            for (int64_t k = 0; k < 7; ++k) REQUIRE(out.at({i, j, k}) == a.at({i, j, k}) / b.at({j, 0}));
    Tensor u = raw::unary(Unary::Gelu, a);
    for (int64_t k = 0; k < 7; ++k) REQUIRE(u.at({4, 2, k}) == gelu(a.at({4, 2, k})));
}

TEST_CASE("elementwise ops on rows longer than one piece: every element once, on 1 and 2 threads", "[kernels][threads]") {
    // A contiguous tensor coalesces to one row, cut into pieces of kRowPiece for the threads (strided.h):
    // 3·21851 = 65553 elements is four whole pieces and an odd remainder; the strided and transposed
    // operands keep rows of other lengths, and the [3, 1] one broadcasts along them.
    const Shape shape{3, 21851};
    Tensor a = random(shape, 21), strided = random_strided(shape, 22), transposed = random_transposed(shape, 23);
    Tensor column = random({3, 1}, 24);
    auto run = [&] {
        std::vector<std::vector<float>> outs;
        outs.push_back(raw::unary(Unary::Gelu, a).to_vector());
        outs.push_back(raw::binary(Binary::Mul, a, strided).to_vector());
        outs.push_back(raw::binary(Binary::Add, transposed, column).to_vector());
        Tensor sum = raw::contiguous(transposed);
        raw::add_inplace(sum, a);
        outs.push_back(sum.to_vector());
        outs.push_back(Tensor::full(shape, 0.75f).to_vector());
        return outs;
    };
    auto one = with_threads(1, run), two = with_threads(2, run);
    for (size_t i = 0; i < one.size(); ++i) {
        INFO("output " << i);
        REQUIRE(one[i] == two[i]);
    }
    for (int64_t r = 0; r < shape[0]; ++r)
        for (int64_t c = 0; c < shape[1]; ++c) {
            const size_t i = r * shape[1] + c;
            INFO("element " << r << ", " << c);
            REQUIRE(two[0][i] == gelu(a.at({r, c})));
            REQUIRE(two[1][i] == a.at({r, c}) * strided.at({r, c}));
            REQUIRE(two[2][i] == transposed.at({r, c}) + column.at({r, 0}));
            REQUIRE(two[3][i] == transposed.at({r, c}) + a.at({r, c}));
            REQUIRE(two[4][i] == 0.75f);
        }
}

TEST_CASE("empty tensors: strided copies and elementwise ops visit nothing", "[kernels]") {
    // Axes merge into one of length 0 here; the row walk used to divide by that length.
    Tensor stretched = raw::expand(Tensor::scalar(2.f), {0, 5});
    REQUIRE(raw::contiguous(stretched).shape() == Shape{0, 5});
    Tensor t = raw::transpose(Tensor::empty({5, 0}), 0, 1);  // [0, 5], not contiguous
    REQUIRE(raw::binary(Binary::Add, t, test::random({5}, 1)).shape() == Shape{0, 5});
    REQUIRE(raw::unary(Unary::Exp, t).shape() == Shape{0, 5});
}

TEST_CASE("sum, mean and max along every axis match a double reference", "[kernels]") {
    const Shape shape = GENERATE(Shape{1}, Shape{17}, Shape{3, 33}, Shape{5, 1, 127}, Shape{2, 257, 3});
    Tensor x = random(shape, 3, 10.f);
    std::vector<float> v = x.to_vector();
    double total = 0;
    for (float f : v) total += f;
    REQUIRE(raw::sum_all(x).item() == Approx(total).margin(1e-4));
    REQUIRE(raw::max_all(x).item() == *std::max_element(v.begin(), v.end()));
    for (int64_t axis = 0; axis < x.dim(); ++axis) {
        Tensor s = raw::sum(x, axis, true), m = raw::max(x, axis, true);
        Tensor expected_sum = Tensor::zeros(s.shape()), expected_max = Tensor::full(m.shape(), -INFINITY);
        // Walk all elements with their multi-index; fold the reduced axis to 0.
        Strides st = contiguous_strides(shape), out_st = contiguous_strides(s.shape());
        std::vector<double> acc(s.numel(), 0.0);
        for (int64_t i = 0; i < x.numel(); ++i) {
            int64_t out_i = 0, rem = i;
            for (int64_t a = 0; a < x.dim(); ++a) {
                int64_t idx = rem / st[a];
                rem %= st[a];
                if (a != axis) out_i += idx * out_st[a];
            }
            acc[out_i] += v[i];
            expected_max.data()[out_i] = std::max(expected_max.data()[out_i], v[i]);
        }
        for (int64_t i = 0; i < s.numel(); ++i) expected_sum.data()[i] = float(acc[i]);
        require_close(s, expected_sum, 1e-6, 1e-5);
        REQUIRE(m.to_vector() == expected_max.to_vector());
    }
}

TEST_CASE("reductions and softmax survive huge magnitudes", "[kernels]") {
    Tensor x = Tensor::from_vector({1e30f, -1e30f, 3e38f, 1e4f, -1e4f, 88.f, 89.f, -3e38f}, {2, 4});
    Tensor y = raw::softmax(x), ly = raw::log_softmax(x);
    for (float f : y.to_vector()) REQUIRE(std::isfinite(f));
    for (float f : ly.to_vector()) REQUIRE((std::isfinite(f) || f == -INFINITY));
    REQUIRE(y.at({0, 2}) == 1.f);
    REQUIRE(y.at({1, 2}) == Approx(1.0 / (1.0 + std::exp(-1.0))));
    REQUIRE(raw::max_all(x).item() == 3e38f);
    Tensor big = raw::affine(random({4096}, 4), 1e34f, 0.f);  // sums overflow float but not double
    REQUIRE(std::isfinite(raw::sum_all(raw::affine(big, 1e-4f, 0.f)).item()));
}

TEST_CASE("softmax and log_softmax match a double reference", "[kernels]") {
    const int64_t C = GENERATE(1, 7, 64, 1000);
    Tensor x = random_transposed({C, 5}, 5, 4.f);  // transposed: rows are strided in memory
    x = raw::transpose(x, 0, 1);                  // back to [5, C] but still a view
    std::vector<float> v = x.to_vector();
    Tensor y = raw::softmax(x), ly = raw::log_softmax(x);
    for (int64_t r = 0; r < 5; ++r) {
        std::vector<double> ref = ref_softmax(v, r * C, C);
        for (int64_t i = 0; i < C; ++i) {
            REQUIRE(y.at({r, i}) == Approx(ref[i]).epsilon(1e-5).margin(1e-7));
            REQUIRE(ly.at({r, i}) == Approx(std::log(ref[i])).epsilon(1e-5).margin(1e-5));
        }
    }
}

TEST_CASE("layernorm matches a double reference", "[kernels]") {
    const int64_t C = GENERATE(1, 3, 128, 257);
    Tensor x = random({6, C}, 6, 3.f), w = random({C}, 7), b = random({C}, 8);
    raw::LayerNormResult r = raw::layernorm(raw::affine(x, 1.f, 100.f), w, b, 1e-5f);  // large mean
    std::vector<float> v = raw::affine(x, 1.f, 100.f).to_vector();
    for (int64_t row = 0; row < 6; ++row) {
        double m = 0, var = 0;
        for (int64_t i = 0; i < C; ++i) m += v[row * C + i];
        m /= C;
        for (int64_t i = 0; i < C; ++i) var += (v[row * C + i] - m) * (v[row * C + i] - m);
        double rstd = 1.0 / std::sqrt(var / C + 1e-5);
        for (int64_t i = 0; i < C; ++i) {
            double ref = (v[row * C + i] - m) * rstd * w.at({i}) + b.at({i});
            REQUIRE(r.y.at({row, i}) == Approx(ref).margin(2e-4));
        }
    }
}

TEST_CASE("layernorm backward matches a double reference", "[kernels]") {
    // 301 rows: several blocks of the backward's partial sums and a short last one; x transposed in memory.
    const int64_t C = GENERATE(1, 3, 128, 257), rows = 301;
    Tensor x = random_transposed({rows, C}, 12, 3.f), w = random({C}, 13), b = random({C}, 14), g = random({rows, C}, 15);
    const raw::LayerNormResult f = raw::layernorm(x, w, b, 1e-5f);
    const raw::LayerNormGrads got = raw::layernorm_backward(x, w, f.mean, f.rstd, g);
    std::vector<double> dw(C, 0.0), db(C, 0.0);
    for (int64_t r = 0; r < rows; ++r) {
        double m = 0, var = 0;
        for (int64_t i = 0; i < C; ++i) m += x.at({r, i});
        m /= C;
        for (int64_t i = 0; i < C; ++i) var += (x.at({r, i}) - m) * (x.at({r, i}) - m);
        const double rstd = 1.0 / std::sqrt(var / C + 1e-5);
        std::vector<double> n(C), dn(C);
        double mean_dn = 0, mean_dn_n = 0;
        for (int64_t i = 0; i < C; ++i) {
            n[i] = (x.at({r, i}) - m) * rstd;
            dn[i] = double(g.at({r, i})) * w.at({i});
            mean_dn += dn[i] / C;
            mean_dn_n += dn[i] * n[i] / C;
            dw[i] += g.at({r, i}) * n[i];
            db[i] += g.at({r, i});
        }
        for (int64_t i = 0; i < C; ++i) {
            INFO("row " << r << ", column " << i);
            REQUIRE(got.dx.at({r, i}) == Approx(rstd * (dn[i] - mean_dn - n[i] * mean_dn_n)).margin(2e-4));
        }
    }
    for (int64_t i = 0; i < C; ++i) {
        REQUIRE(got.dweight.at({i}) == Approx(dw[i]).margin(1e-3));
        REQUIRE(got.dbias.at({i}) == Approx(db[i]).margin(1e-3));
    }
}

TEST_CASE("embedding and cross-entropy match reference loops", "[kernels]") {
    Tensor table = random({11, 5}, 9);
    Indices ids{{2, 3}, {10, 0, 3, 3, 7, 1}};
    Tensor e = raw::embedding(table, ids);
    for (int64_t r = 0; r < 6; ++r)
        for (int64_t c = 0; c < 5; ++c) REQUIRE(e.at({r / 3, r % 3, c}) == table.at({ids.ids[r], c}));
    Tensor g = random({2, 3, 5}, 10);
    Tensor dt = raw::embedding_backward(ids, g, 11);
    REQUIRE(dt.at({3, 1}) == Approx(g.at({0, 2, 1}) + g.at({1, 0, 1})));
    REQUIRE(dt.at({4, 0}) == 0.f);

    Tensor logits = random({4, 9}, 11, 5.f);
    Indices targets{{4}, {8, 0, -1, 4}};
    raw::CrossEntropyResult ce = raw::cross_entropy(logits, targets);
    std::vector<float> v = logits.to_vector();
    double ref = 0;
    for (int64_t r : {0, 1, 3}) ref -= std::log(ref_softmax(v, r * 9, 9)[targets.ids[r]]);
    REQUIRE(ce.counted == 3);
    REQUIRE(ce.loss.item() == Approx(ref / 3).epsilon(1e-5));
}

TEST_CASE("matmul lowers batches, broadcasts and transposed views onto gemm correctly", "[kernels]") {
    struct Case {
        Shape a, b;
        bool ta, tb;
    };
    const Case c = GENERATE(Case{{3, 17, 33}, {33, 5}, false, false}, Case{{3, 17, 33}, {33, 5}, true, false},
                            Case{{2, 1, 4, 9}, {3, 9, 6}, false, true}, Case{{1, 1}, {1, 1}, false, false},
                            Case{{2, 127, 3}, {2, 3, 1}, true, true});
    Tensor a = c.ta ? random_transposed(c.a, 12) : random(c.a, 12);
    Tensor b = c.tb ? random_transposed(c.b, 13) : random(c.b, 13);
    Tensor out = raw::matmul(a, b);
    Shape batch = broadcast_shapes(Shape(c.a.begin(), c.a.end() - 2), Shape(c.b.begin(), c.b.end() - 2), "test");
    Tensor ea = raw::contiguous(raw::expand(a, [&] { Shape s = batch; s.insert(s.end(), c.a.end() - 2, c.a.end()); return s; }()));
    Tensor eb = raw::contiguous(raw::expand(b, [&] { Shape s = batch; s.insert(s.end(), c.b.end() - 2, c.b.end()); return s; }()));
    const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1), count = numel(batch);
    Tensor ref = Tensor::empty(out.shape());
    for (int64_t i = 0; i < count; ++i)
        gemm_reference(M, N, K, 1.f, ea.data() + i * M * K, K, 1, eb.data() + i * K * N, N, 1, 0.f,
                       ref.data() + i * M * N, N, 1);
    require_close(out, ref, 1e-5, 1e-5);
}

TEST_CASE("linear (bias written first, GEMM with beta 1) matches x·wᵀ + b on odd shapes and strides", "[kernels]") {
    struct Case {
        Shape x;
        int64_t out;
    };
    // K = 600 runs three K passes onto the bias; 1 row, 1 output and 1 input are the edges.
    for (const Case& c : {Case{{3, 5, 37}, 19}, Case{{1, 600}, 33}, Case{{70, 1}, 9}, Case{{4, 9}, 1}, Case{{2, 0, 8}, 5}}) {
        const int64_t in = c.x.back();
        for (int layout = 0; layout < 3; ++layout) {
            INFO("x " << shape_str(c.x) << ", out " << c.out << ", layout " << layout);
            Tensor x = layout == 1 && c.x.size() == 2 ? random_transposed(c.x, 81) : layout == 2 ? random_strided(c.x, 81) : random(c.x, 81);
            Tensor w = layout == 1 ? random_transposed({c.out, in}, 82) : random({c.out, in}, 82);
            Tensor b = layout == 2 ? random_strided({c.out}, 83) : random({c.out}, 83);
            Tensor xc = raw::contiguous(raw::reshape(x, {numel(c.x) / in, in})), wc = raw::contiguous(w), bc = raw::contiguous(b);
            const int64_t rows = xc.size(0);
            std::vector<float> ref(rows * c.out), ref_bias(rows * c.out);
            if (rows > 0)
                gemm_reference(rows, c.out, in, 1.f, xc.data(), in, 1, wc.data(), 1, in, 0.f, ref.data(), c.out, 1);
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t o = 0; o < c.out; ++o) ref_bias[r * c.out + o] = ref[r * c.out + o] + bc.data()[o];
            Shape out_shape = c.x;
            out_shape.back() = c.out;
            require_close(raw::linear(x, w, b), Tensor::from_vector(ref_bias, out_shape), 1e-5, 1e-5);
            require_close(raw::linear(x, w, Tensor()), Tensor::from_vector(ref, out_shape), 1e-5, 1e-5);
        }
    }
    REQUIRE_THROWS_WITH(raw::linear(random({2, 3}, 1), random({4, 5}, 2), Tensor()), Catch::Contains("linear"));
    REQUIRE_THROWS_WITH(raw::linear(random({2, 3}, 1), random({4, 3}, 2), random({5}, 3)), Catch::Contains("linear"));
}

TEST_CASE("kernels give bitwise-identical results on 1 and 2 threads", "[kernels][threads]") {
    Tensor x = random({300, 257}, 14, 3.f), w = random({257}, 15), b = random({257}, 16);
    Indices targets{{300}, std::vector<int32_t>(300)};
    for (int i = 0; i < 300; ++i) targets.ids[i] = (i * 37) % 257;
    auto run = [&] {
        std::vector<std::vector<float>> outs;
        outs.push_back(raw::sum(x, 0, false).to_vector());
        outs.push_back(raw::sum(x, 1, false).to_vector());
        outs.push_back(raw::sum_all(x).to_vector());
        outs.push_back(raw::softmax(x).to_vector());
        const raw::LayerNormResult ln = raw::layernorm(x, w, b, 1e-5f);
        outs.push_back(ln.y.to_vector());
        const raw::LayerNormGrads lg = raw::layernorm_backward(x, w, ln.mean, ln.rstd, raw::affine(x, -0.5f, 0.25f));
        for (const Tensor* t : {&lg.dx, &lg.dweight, &lg.dbias}) outs.push_back(t->to_vector());
        outs.push_back(raw::cross_entropy(x, targets).loss.to_vector());
        outs.push_back(raw::binary(Binary::Mul, x, w).to_vector());
        outs.push_back(raw::matmul(x, raw::transpose(x, 0, 1)).to_vector());
        return outs;
    };
    auto one = with_threads(1, run), two = with_threads(2, run);
    for (size_t i = 0; i < one.size(); ++i) {
        INFO("output " << i);
        REQUIRE(one[i] == two[i]);
    }
}

TEST_CASE("the vectorisable exp and tanh used by GELU match libm", "[kernels]") {
    double worst_exp = 0, worst_tanh = 0, worst_gelu = 0;
    for (float x = -87.f; x < 88.f; x += 0.0137f)
        worst_exp = std::max(worst_exp, std::abs(exp_poly(x) - std::exp(double(x))) / std::exp(double(x)));
    for (float x = -12.f; x < 12.f; x += 0.00071f) {
        worst_tanh = std::max(worst_tanh, std::abs(tanh_poly(x) - std::tanh(double(x))));
        const double c = std::sqrt(2.0 / M_PI), ref = 0.5 * x * (1 + std::tanh(c * (x + 0.044715 * x * x * x)));
        worst_gelu = std::max(worst_gelu, std::abs(gelu(x) - ref) / (1.0 + std::abs(ref)));
    }
    REQUIRE(worst_exp < 5e-7);
    REQUIRE(worst_tanh < 5e-7);
    REQUIRE(worst_gelu < 1e-6);
    REQUIRE(exp_poly(-1000.f) == 0.f);
    REQUIRE(exp_poly(-INFINITY) == 0.f);
    REQUIRE(std::isfinite(exp_poly(1000.f)));
    REQUIRE(tanh_poly(50.f) == 1.f);
    REQUIRE(tanh_poly(-50.f) == -1.f);
}
