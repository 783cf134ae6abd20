// The splat op's chunked scan (splat/splat_scan_passes.h): the state algebra and the exact passes the
// CUDA kernels run, emulated on the host chunk by chunk, against the CPU op ("[cuda]", any machine);
// then the CUDA op against the CPU op ("[cuda][gpu]", skipped visibly without a GPU).
#include <cmath>
#include <string>
#include <vector>

#include "cuda/runtime.h"
#include "splat/splat_gpu.h"
#include "splat/splat_scan.h"
#include "splat/splat_scan_passes.h"
#include "tests/splat_helpers.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

namespace {

// ---- the state algebra ----

struct State {
    float m, z;
    std::vector<float> S;
    int64_t n;  // tokens covered
    float R;    // their decay total Σ rate
};

// A then B (splat_math.h: m = max(m_A − R_B, m_B), z̃ = a·z̃_A + b·z̃_B, S̃ likewise).
State merge(const State& A, const State& B) {
    const Merged g = merge_scales(A.m, B.m, B.R);
    State out{g.m, g.a * A.z + g.b * B.z, A.S, A.n + B.n, A.R + B.R};
    for (size_t d = 0; d < A.S.size(); ++d) out.S[d] = g.a * A.S[d] + g.b * B.S[d];
    return out;
}

// The state of n random tokens absorbed from empty, as pass B builds it, with rate r per token plus,
// when `token`, a token's own random rate in [0, 1) (token decay).
State random_state(Rng& rng, int64_t n, int64_t D, float r, bool token) {
    State s{kScanNegInf, 0.f, std::vector<float>(D, 0.f), n, 0.f};
    std::vector<float> v(D);
    for (int64_t t = 0; t < n; ++t) {
        float l;
        rng.normal(&l, 1, 0.f, 3.f);
        rng.normal(v.data(), D, 0.f, 1.f);
        const float rt = r + (token ? float(rng.next_double()) : 0.f);
        s.R += rt;
        const Absorbed w = absorb(s.m, s.z, l, rt);
        for (int64_t d = 0; d < D; ++d) s.S[d] = w.alpha * s.S[d] + w.beta * v[d];
    }
    return s;
}

// Two states describe the same sums z = e^m·z̃, S = e^m·S̃, to float rounding.
void require_same_sums(const State& a, const State& b) {
    REQUIRE(a.n == b.n);
    auto close = [&](float x, float y) {
        const double X = std::exp(double(a.m)) * x, Y = std::exp(double(b.m)) * y;
        return std::abs(X - Y) <= 1e-5 * (std::abs(X) + std::abs(Y)) + 1e-30;
    };
    REQUIRE(close(a.z, b.z));
    for (size_t d = 0; d < a.S.size(); ++d) REQUIRE(close(a.S[d], b.S[d]));
}

}  // namespace

TEST_CASE("splat scan: merging states is associative, and absorbing a token is merging its state", "[cuda]") {
    Rng rng(3);
    for (const bool token : {false, true})
        for (const float r : {0.f, 0.05f, 0.7f})
            for (const int64_t n : {1, 3, 17}) {
                CAPTURE(token, r, n);
                const State A = random_state(rng, n, 5, r, token), B = random_state(rng, n + 1, 5, r, token),
                            C = random_state(rng, 2 * n, 5, r, token);
                require_same_sums(merge(merge(A, B), C), merge(A, merge(B, C)));
                const State empty{kScanNegInf, 0.f, std::vector<float>(5, 0.f), 0, 0.f};
                require_same_sums(merge(empty, A), A);
                require_same_sums(merge(A, empty), A);
                // one token l, v with rate rt: the state (l, 1, v) of length 1 and decay total rt, merged
                // after A, equals absorbing it into A
                const float l = 0.4f, rt = r + (token ? 0.3f : 0.f);
                const std::vector<float> v{1.f, -2.f, 0.5f, 3.f, -0.25f};
                State absorbed = A;
                const Absorbed w = absorb(absorbed.m, absorbed.z, l, rt);
                for (int64_t d = 0; d < 5; ++d) absorbed.S[d] = w.alpha * absorbed.S[d] + w.beta * v[d];
                ++absorbed.n;
                require_same_sums(merge(A, State{l, 1.f, v, 1, rt}), absorbed);
            }
}

namespace {

// ---- the passes, run on the host ----

// Runs a pass as the kernel does, one index at a time (the host has no threads to race).
struct HostRun {
    template <class Pass>
    void operator()(const Pass& pass) const {
        for (int64_t i = 0; i < pass.size(); ++i) pass(i);
    }
};

// Host copies of the op's inputs and the scan's scratch for one shape.
struct HostScan {
    ScanShape s;
    SplatConstants sc;
    std::vector<float> lq, lk, alpha, beta, m, z, coef, pi, den, arg, cm, cz, cr, pm, pz, cS;
    explicit HostScan(const ScanShape& shape, const SplatParams& p, const SplatOptions& o)
        : s(shape), sc(splat_constants(p.centres, p.log_scale, p.log_amp, o)) {
        const int64_t token = s.B * s.H * s.T * s.K, chunk = s.B * s.H * s.chunks() * s.K;
        for (auto* v : {&lq, &lk, &alpha, &beta, &m, &z, &coef, &pi}) v->assign(token, NAN);
        for (auto* v : {&den, &arg}) v->assign(s.B * s.H * s.T, NAN);
        for (auto* v : {&cm, &cz, &cr, &pm, &pz}) v->assign(chunk, NAN);
        cS.assign(chunk * s.D, NAN);  // NaN: a pass that reads what nothing wrote poisons y
    }
    ScanSplats splats(const SplatOptions& o) const {
        auto per_token = [](const Tensor& x) { return x.defined() ? heads_view<const float>(x) : HeadsView<const float>{}; };
        return {sc.mu.data(), sc.c.data(), sc.la.data(), sc.rate.data(), sc.rb.data(), per_token(o.send_bias),
                per_token(o.token_decay)};
    }
    ScanBuffers buffers() {
        return {lq.data(), lk.data(), alpha.data(), beta.data(), m.data(), z.data(), coef.data(), pi.data(), den.data(),
                arg.data(), cm.data(), cz.data(),  cr.data(),    pm.data(), pz.data(), cS.data(), false};
    }
};

// The forward's passes on the host with chunks of C tokens.
Tensor host_forward(const QKV& x, const SplatParams& p, const SplatOptions& o, int64_t C) {
    const int64_t B = x.q.size(0), H = x.q.size(1), T = x.q.size(2), D = x.q.size(3), K = p.centres.size(1);
    HostScan scan({B, H, T, K, D, C}, p, o);
    Tensor y = raw::permute(Tensor::full({B, T, H, D}, NAN), {0, 2, 1, 3});
    splat_scan_forward(scan.s, scan.splats(o), heads_view<const float>(x.q), heads_view<const float>(x.k),
                       heads_view<const float>(x.v), heads_view<float>(y), scan.buffers(), HostRun{});
    return y;
}

// Shapes: T = 1, T below a chunk, a multiple of it, and one past it, with the chunk sizes below.
struct Case {
    int64_t B, H, T, K, D;
};
const Case kCases[] = {{1, 1, 1, 3, 4}, {2, 3, 7, 5, 3}, {1, 2, 13, 4, 5}, {2, 1, 64, 6, 2}, {1, 2, 131, 7, 9}};

}  // namespace

TEST_CASE("splat scan: the chunked passes, run on the host, equal the CPU op", "[cuda]") {
    uint64_t seed = 100;
    for (const Case& c : kCases)
        for (const Which w : {Which{false, false, false}, Which{true, true, true}, Which{true, false, false},
                              Which{false, false, false, true}, Which{true, true, true, true}})
            for (const int64_t C : {int64_t(1), int64_t(3), int64_t(5), kSplatChunk}) {
                CAPTURE(c.B, c.H, c.T, c.K, c.D, C, w.decay, w.send, w.read, w.token);
                const QKV x = random_qkv(c.B, c.H, c.T, c.D, ++seed);  // strided views of one buffer
                const SplatParams p = random_splats(c.H, c.K, c.D, ++seed);
                const SplatOptions o = random_options(w, c.B, c.H, c.T, c.K, ++seed);
                const Tensor want = splat_attention(x.q, x.k, x.v, p.centres, p.log_scale, p.log_amp, o);
                const Tensor got = host_forward(x, p, o, C);
                require_finite(got);
                // rounding only: the direct square against the CPU's expanded one, and the merges
                REQUIRE(relative_error(got, want) < 2e-6);
            }
}

namespace {

// The gradients of splat_attention's inputs (op_inputs order: q, k, v, centres, log_scale, log_amp,
// then the options that are on) from the backward's passes on the host with chunks of C tokens.
std::vector<Tensor> host_backward(const QKV& x, const SplatParams& p, const SplatOptions& o, const Tensor& dy,
                                  int64_t C) {
    const int64_t B = x.q.size(0), H = x.q.size(1), T = x.q.size(2), D = x.q.size(3), K = p.centres.size(1);
    HostScan scan({B, H, T, K, D, C}, p, o);
    const int64_t token = B * H * T * K;
    std::vector<float> pa(token, NAN), pk(token, NAN), dlq(token, NAN), dlk(token, NAN);
    std::vector<float> rS(B * H * scan.s.chunks() * K * D, NAN), rZ(B * H * scan.s.chunks() * K, NAN),
        carry(B * H * scan.s.chunks() * K, NAN);
    std::vector<float> dr(B * H * K, NAN), drb(B * H * K, NAN);
    Tensor dq = Tensor::full(x.q.shape(), NAN), dk = Tensor::full(x.q.shape(), NAN), dv = Tensor::full(x.q.shape(), NAN);
    Tensor dmu = Tensor::full({H, K, D}, NAN), dls = Tensor::full({H, K}, NAN), dla = Tensor::full({H, K}, NAN),
           dlog_decay = Tensor::full({H, K}, NAN), drho = Tensor::full({H, K}, NAN);
    std::vector<float> dtoken(o.token_decay.defined() ? token : 0, NAN);
    const ScanGrads gr{heads_view<const float>(dy), pa.data(), pk.data(), rS.data(), rZ.data(), carry.data(),
                       dlq.data(), dlk.data(), dr.data(), drb.data(), dq.data(), dk.data(), dv.data(),
                       dmu.data(), dls.data(), dla.data(), dlog_decay.data(), drho.data(),
                       o.token_decay.defined() ? dtoken.data() : nullptr};
    splat_scan_backward(scan.s, scan.splats(o), heads_view<const float>(x.q), heads_view<const float>(x.k),
                        heads_view<const float>(x.v), scan.buffers(), gr, HostRun{});
    std::vector<Tensor> grads{dq, dk, dv, dmu, dls, dla};
    if (o.log_decay.defined()) grads.push_back(dlog_decay);
    if (o.send_bias.defined()) grads.push_back(Tensor::from_vector(dlk, {B, H, T, K}));
    if (o.read_bias.defined()) grads.push_back(drho);
    if (o.token_decay.defined()) grads.push_back(Tensor::from_vector(dtoken, {B, H, T, K}));
    return grads;
}

// The CPU op's gradients of the same inputs (as fresh leaves) for output gradient dy.
std::vector<Tensor> cpu_backward(const QKV& x, const SplatParams& p, const SplatOptions& o, const Tensor& dy) {
    std::vector<Tensor> in{x.q, x.k, x.v, p.centres, p.log_scale, p.log_amp};
    for (const Tensor* t : {&o.log_decay, &o.send_bias, &o.read_bias, &o.token_decay})
        if (t->defined()) in.push_back(*t);
    for (Tensor& t : in) t = t.detach().clone(), t.set_requires_grad();
    SplatOptions lo = o;
    size_t next = 6;
    for (Tensor* t : {&lo.log_decay, &lo.send_bias, &lo.read_bias, &lo.token_decay})
        if (t->defined()) *t = in[next++];
    backward(splat_attention(in[0], in[1], in[2], in[3], in[4], in[5], lo), dy);
    std::vector<Tensor> grads;
    for (const Tensor& t : in) grads.push_back(t.grad());
    return grads;
}

// ‖got − want‖ ≤ tol·(‖want‖ + 0.1): relative, but for gradients that are pure rounding. (At T = 1
// every splat's mean is v_0, so y_0 = v_0·Σπ and only ε moves it: those gradients are ~1e-7.)
void require_grad_close(const Tensor& got, const Tensor& want, double tol) {
    require_finite(got);
    const std::vector<float> g = got.to_vector(), w = want.to_vector();
    REQUIRE(g.size() == w.size());
    double err = 0, norm = 0;
    for (size_t i = 0; i < g.size(); ++i)
        err += (double(g[i]) - w[i]) * (double(g[i]) - w[i]), norm += double(w[i]) * w[i];
    CAPTURE(std::sqrt(err), std::sqrt(norm));
    REQUIRE(std::sqrt(err) <= tol * (std::sqrt(norm) + 0.1));
}

const char* const kGradNames[] = {"q",        "k",        "v",        "centres",  "log_scale",
                                  "log_amp",  "option 1", "option 2", "option 3", "option 4"};

}  // namespace

TEST_CASE("splat scan: the backward's passes, run on the host, equal the CPU op's gradients", "[cuda]") {
    uint64_t seed = 300;
    for (const Case& c : kCases)
        for (const Which w : {Which{false, false, false}, Which{true, true, true}, Which{true, true, true, true}})
            for (const int64_t C : {int64_t(1), int64_t(4), kSplatChunk}) {
                CAPTURE(c.B, c.H, c.T, c.K, c.D, C, w.decay, w.token);
                const QKV x = random_qkv(c.B, c.H, c.T, c.D, ++seed);
                const SplatParams p = random_splats(c.H, c.K, c.D, ++seed);
                const SplatOptions o = random_options(w, c.B, c.H, c.T, c.K, ++seed);
                const Tensor dy = random({c.B, c.H, c.T, c.D}, ++seed);
                const std::vector<Tensor> want = cpu_backward(x, p, o, dy), got = host_backward(x, p, o, dy, C);
                REQUIRE(got.size() == want.size());
                for (size_t i = 0; i < got.size(); ++i) {
                    CAPTURE(kGradNames[i]);
                    require_grad_close(got[i], want[i], 2e-5);
                }
            }
}

TEST_CASE("splat scan: the step's passes, run on the host token by token, equal the CPU op", "[cuda]") {
    const int64_t B = 2, H = 2, T = 9, K = 5, D = 3;
    const QKV x = random_qkv(B, H, T, D, 7);
    const SplatParams p = random_splats(H, K, D, 8);
    const SplatOptions o = random_options({true, true, true, true}, B, H, T, K, 9);
    const Tensor want = splat_attention(x.q, x.k, x.v, p.centres, p.log_scale, p.log_amp, o);
    HostScan scan({B, H, 1, K, D, 1}, p, o);
    std::vector<float> m(B * H * K, kScanNegInf), z(B * H * K, 0.f), S(B * H * K * D, 0.f);  // the carried state
    for (int64_t t = 0; t < T; ++t) {
        auto at = [&](const Tensor& a) { return raw::select(a, 2, t); };  // [B, H, X] views
        SplatOptions step = o;
        step.send_bias = at(o.send_bias);
        step.token_decay = at(o.token_decay);
        Tensor y = Tensor::full({B, H, D}, NAN);
        ScanBuffers buf = scan.buffers();
        buf.pm = m.data(), buf.pz = z.data(), buf.cS = S.data(), buf.write_back = true;
        splat_scan_step(scan.s, scan.splats(step), heads_view<const float>(at(x.q)),
                        heads_view<const float>(at(x.k)), heads_view<const float>(at(x.v)),
                        heads_view<float>(y), buf, HostRun{});
        CAPTURE(t);
        REQUIRE(relative_error(y, raw::contiguous(at(want))) < 2e-6);
    }
}

TEST_CASE("a CPU-only build's splat scan entry points say CUDA is absent", "[cuda]") {
    if (cuda::built_with_cuda()) return;  // the stub is linked only without nvcc or with CUDA=0
    const ScanShape s{1, 1, 1, 1, 1, 1};
    REQUIRE_THROWS_WITH(cuda::splat_scan_forward(s, {}, {}, {}, {}, {}, {}), Contains("no CUDA support"));
}

// ---- on the GPU ----

namespace {

// The same view (shape, strides, offset) over a CUDA copy of x's whole storage.
Tensor to_cuda_same_layout(const Tensor& x) {
    const Tensor storage = Tensor::view_of(x.storage(), {x.storage()->size()}, {1}, 0).to(Device::CUDA);
    return Tensor::view_of(storage.storage(), x.shape(), x.strides(), x.offset());
}

QKV to_cuda(const QKV& x) { return {to_cuda_same_layout(x.q), to_cuda_same_layout(x.k), to_cuda_same_layout(x.v)}; }
SplatParams to_cuda(const SplatParams& p) {
    return {p.centres.to(Device::CUDA), p.log_scale.to(Device::CUDA), p.log_amp.to(Device::CUDA)};
}
SplatOptions to_cuda(SplatOptions o) {
    for (Tensor* t : {&o.log_decay, &o.send_bias, &o.read_bias, &o.token_decay})
        if (t->defined()) *t = to_cuda_same_layout(*t);
    return o;
}

// A CUDA [B, H, T, D] result (a view of a [B, T, H, D] buffer) back on the host.
Tensor to_host(const Tensor& y) {
    REQUIRE(y.device() == Device::CUDA);
    return raw::permute(raw::permute(y, {0, 2, 1, 3}).to(Device::CPU), {0, 2, 1, 3});
}

Tensor gpu_forward(const QKV& x, const SplatParams& p, const SplatOptions& o) {
    const QKV g = to_cuda(x);
    const SplatParams gp = to_cuda(p);
    return to_host(splat_attention(g.q, g.k, g.v, gp.centres, gp.log_scale, gp.log_amp, to_cuda(o)));
}

}  // namespace

// Tolerances: the GPU computes the affinities as a direct square where the CPU expands it, merges
// chunk states in another order than the CPU's token-by-token scan, and nvcc contracts into FMAs
// where g++ does not: rounding differences of a few float ulps per step, ~1e-6 relative overall.
// A wrong index or a missed token is O(1) off.
TEST_CASE("CUDA splat forward equals the CPU: odd T, options, strided q, k, v, large values", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    uint64_t seed = 500;
    for (const int64_t T : {1, 7, 300, 1000})
        for (const Which w : {Which{false, false, false}, Which{true, true, true}, Which{true, true, true, true}}) {
            CAPTURE(T, w.decay, w.token);
            const int64_t B = 2, H = 3, K = 11, D = 19;
            const QKV x = random_qkv(B, H, T, D, ++seed);  // strided views
            const SplatParams p = random_splats(H, K, D, ++seed);
            const SplatOptions o = random_options(w, B, H, T, K, ++seed);
            const Tensor want = splat_attention(x.q, x.k, x.v, p.centres, p.log_scale, p.log_amp, o);
            const Tensor got = gpu_forward(x, p, o);
            require_finite(got);
            REQUIRE(relative_error(got, want) < 1e-5);
        }
    // large magnitudes: values ×1e4 (y is linear in v), keys ×4 (far from the centres)
    const int64_t B = 1, H = 2, T = 257, K = 9, D = 16;
    QKV x = random_qkv(B, H, T, D, 900);
    x.v = raw::binary(Binary::Mul, x.v, Tensor::scalar(1e4f));
    x.k = raw::binary(Binary::Mul, x.k, Tensor::scalar(4.f));
    const SplatParams p = random_splats(H, K, D, 901);
    const SplatOptions o = random_options({true, true, true}, B, H, T, K, 902);
    const Tensor want = splat_attention(x.q, x.k, x.v, p.centres, p.log_scale, p.log_amp, o);
    REQUIRE(relative_error(gpu_forward(x, p, o), want) < 1e-5);
}

TEST_CASE("CUDA splat forward at T = 65536 is finite and equals the CPU", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const int64_t B = 1, H = 2, T = 65536, K = 8, D = 16;
    const QKV x = random_qkv(B, H, T, D, 31);
    const SplatParams p = random_splats(H, K, D, 32);
    const SplatOptions o = random_options({true, false, true}, B, H, T, K, 33);
    const Tensor want = splat_attention(x.q, x.k, x.v, p.centres, p.log_scale, p.log_amp, o);
    const Tensor got = gpu_forward(x, p, o);
    require_finite(got);
    REQUIRE(relative_error(got, want) < 1e-5);
}

TEST_CASE("CUDA splat forward is causal and repeats bitwise", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const int64_t B = 1, H = 2, T = 200, K = 7, D = 5, t0 = 130;
    const QKV x = random_qkv(B, H, T, D, 41);
    const SplatParams p = random_splats(H, K, D, 42);
    const SplatOptions o = random_options({true, true, true}, B, H, T, K, 43);
    const Tensor y = gpu_forward(x, p, o);
    REQUIRE(y.to_vector() == gpu_forward(x, p, o).to_vector());  // determinism
    // perturb every token after t0 (q, k, v share one buffer; the send bias too): y up to t0 must not move
    QKV moved{x.q.detach().clone(), x.k.detach().clone(), x.v.detach().clone()};
    SplatOptions mo = o;
    mo.send_bias = o.send_bias.detach().clone();
    for (Tensor* t : {&moved.q, &moved.k, &moved.v, &mo.send_bias}) {
        Tensor later = raw::slice(*t, 2, t0 + 1, T);
        raw::copy_into(later, raw::binary(Binary::Add, later, Tensor::scalar(3.f)));
    }
    const Tensor y2 = gpu_forward(moved, p, mo);
    const std::vector<float> a = raw::contiguous(raw::slice(y, 2, 0, t0 + 1)).to_vector(),
                             b = raw::contiguous(raw::slice(y2, 2, 0, t0 + 1)).to_vector();
    REQUIRE(a == b);
    REQUIRE(raw::contiguous(raw::slice(y, 2, t0 + 1, T)).to_vector() !=
            raw::contiguous(raw::slice(y2, 2, t0 + 1, T)).to_vector());
}

TEST_CASE("CUDA splat step equals the CPU step token by token, with options", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const int64_t B = 2, H = 3, T = 70, K = 9, D = 13;
    const QKV x = random_qkv(B, H, T, D, 51);
    const SplatParams p = random_splats(H, K, D, 52), gp = to_cuda(p);
    const SplatOptions o = random_options({true, true, true, true}, B, H, T, K, 53);
    SplatState cpu(B, H, K, D), gpu(B, H, K, D, Device::CUDA);
    for (int64_t t = 0; t < T; ++t) {
        auto at = [&](const Tensor& a) { return raw::select(a, 2, t); };  // strided [B, H, X] views
        SplatOptions step = o;
        step.send_bias = at(o.send_bias);
        step.token_decay = at(o.token_decay);
        const Tensor want = splat_step(at(x.q), at(x.k), at(x.v), p.centres, p.log_scale, p.log_amp, cpu, step);
        const Tensor got = splat_step(to_cuda_same_layout(at(x.q)), to_cuda_same_layout(at(x.k)),
                                      to_cuda_same_layout(at(x.v)), gp.centres, gp.log_scale, gp.log_amp, gpu,
                                      to_cuda(step));
        CAPTURE(t);
        REQUIRE(got.device() == Device::CUDA);
        REQUIRE(relative_error(got.to(Device::CPU), want) < 1e-5);
    }
    REQUIRE(gpu.length == T);
    REQUIRE(relative_error(gpu.S.to(Device::CPU), cpu.S) < 1e-5);
}

TEST_CASE("CUDA splat op refuses mixed devices and top-p routing, in one line", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const int64_t B = 1, H = 1, T = 5, K = 3, D = 4;
    const QKV x = random_qkv(B, H, T, D, 61), g = to_cuda(x);
    const SplatParams p = random_splats(H, K, D, 62), gp = to_cuda(p);
    REQUIRE_THROWS_WITH(splat_attention(g.q, g.k, g.v, p.centres, gp.log_scale, gp.log_amp),
                        Contains("splat_attention: inputs on different devices") && Contains("on cuda") &&
                            Contains("centres [1, 3, 4] on cpu"));
    SplatOptions top;
    top.top = 2;
    REQUIRE_THROWS_WITH(splat_attention(g.q, g.k, g.v, gp.centres, gp.log_scale, gp.log_amp, top),
                        Contains("top-p routing") && Contains("not implemented on CUDA"));
    SplatState cpu_state(B, H, K, D);
    REQUIRE_THROWS_WITH(splat_step(raw::select(g.q, 2, 0), raw::select(g.k, 2, 0), raw::select(g.v, 2, 0), gp.centres,
                                   gp.log_scale, gp.log_amp, cpu_state),
                        Contains("splat_step: the inputs are on cuda, the state"));
}

TEST_CASE("CUDA splat backward equals the CPU's gradients: odd T, options, strided q, k, v", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    uint64_t seed = 700;
    for (const int64_t T : {1, 7, 300, 1000})
        for (const Which w : {Which{false, false, false}, Which{true, true, true}, Which{true, true, true, true}}) {
            CAPTURE(T, w.decay, w.token);
            const int64_t B = 2, H = 3, K = 11, D = 19;
            const QKV x = random_qkv(B, H, T, D, ++seed);
            const SplatParams p = random_splats(H, K, D, ++seed);
            const SplatOptions o = random_options(w, B, H, T, K, ++seed);
            const Tensor dy = random({B, H, T, D}, ++seed);
            const std::vector<Tensor> want = cpu_backward(x, p, o, dy);
            // CUDA leaves: q, k, v strided views of one CUDA buffer (their gradients come back contiguous)
            const QKV g = to_cuda(x);
            const SplatParams gp = to_cuda(p);
            SplatOptions go = to_cuda(o);
            std::vector<Tensor> in{g.q, g.k, g.v, gp.centres, gp.log_scale, gp.log_amp};
            for (Tensor* t : {&go.log_decay, &go.send_bias, &go.read_bias, &go.token_decay})
                if (t->defined()) in.push_back(*t);
            for (Tensor& t : in) t.set_requires_grad();  // (a Tensor is a handle: go's options are marked too)
            backward(splat_attention(in[0], in[1], in[2], in[3], in[4], in[5], go), dy.to(Device::CUDA));
            for (size_t i = 0; i < in.size(); ++i) {
                CAPTURE(kGradNames[i]);
                REQUIRE(in[i].grad().device() == Device::CUDA);
                // summed over up to B·T = 2000 terms in another order than the CPU's
                require_grad_close(in[i].grad().to(Device::CPU), want[i], 1e-4);
            }
        }
}

TEST_CASE("CUDA splat backward at T = 65536 is finite and equals the CPU, and repeats bitwise", "[cuda][gpu]") {
    SKIP_WITHOUT_GPU();
    const int64_t B = 1, H = 2, T = 65536, K = 8, D = 16;
    const QKV x = random_qkv(B, H, T, D, 71);
    const SplatParams p = random_splats(H, K, D, 72);
    const SplatOptions o = random_options({true, false, true}, B, H, T, K, 73);
    const Tensor dy = random({B, H, T, D}, 74);
    const std::vector<Tensor> want = cpu_backward(x, p, o, dy);
    auto gpu_grads = [&] {
        QKV g = to_cuda(x);
        for (Tensor* t : {&g.q, &g.k, &g.v}) t->set_requires_grad();
        const SplatParams gp = to_cuda(p);
        backward(splat_attention(g.q, g.k, g.v, gp.centres, gp.log_scale, gp.log_amp, to_cuda(o)), dy.to(Device::CUDA));
        return std::vector<Tensor>{g.q.grad().to(Device::CPU), g.k.grad().to(Device::CPU), g.v.grad().to(Device::CPU)};
    };
    const std::vector<Tensor> got = gpu_grads(), again = gpu_grads();
    for (size_t i = 0; i < 3; ++i) {
        CAPTURE(kGradNames[i]);
        require_grad_close(got[i], want[i], 1e-4);
        REQUIRE(got[i].to_vector() == again[i].to_vector());
    }
}
