// The delta rule on CUDA (cuda/delta_scan.h). On any machine ("[cuda][delta]"): the kernels' block
// bodies (cuda/delta_scan_steps.h) run on the host by a one-thread team over every block, against
// the float64 recurrence and the CPU op's gradients, on odd shapes (P ≠ D, T around the 64-token
// checkpoints) and non-contiguous inputs. On a GPU ("[cuda][gpu][delta]", skipped visibly without
// one): the CUDA op against the CPU op, forward and backward, and its repeatability.
#include <cmath>

#include "autograd/graph.h"
#include "cuda/delta_scan_steps.h"
#include "nn/delta_rule.h"
#include "nn/heads.h"
#include "tests/cuda_helpers.h"
#include "tests/helpers.h"
#include "train/train_config.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

namespace {

struct Case {
    int64_t B, H, T, P, D;
};

// T = 1, just under, at and past one chunk, past two; P ≠ D both ways; splat_delta's 64 × 128 state.
#define DELTA_CASES                                                                                        \
    Case{1, 1, 1, 3, 2}, Case{2, 3, 63, 5, 7}, Case{1, 2, 64, 8, 6}, Case{2, 1, 65, 4, 9}, Case{1, 2, 130, 9, 5}, \
        Case{1, 1, 70, 128, 64}

struct Inputs {
    Tensor q, k, v, beta, g;  // g: the gradient of the output
};

// Every operand a non-contiguous view: q, v every other column, k and g transposed in memory, β a
// [B, H, T, 1] view of a [B, T, H] buffer. Keys of norm ≈ 0.8 and β ∈ (0, 1): the state stays bounded.
Inputs random_inputs(const Case& c, uint64_t seed) {
    Tensor beta = random({c.B, c.T, c.H}, seed + 3);
    for (int64_t i = 0; i < beta.numel(); ++i) beta.data()[i] = 1.f / (1.f + std::exp(-beta.data()[i]));
    return {random_strided({c.B, c.H, c.T, c.P}, seed),
            random_transposed({c.B, c.H, c.T, c.P}, seed + 1, 0.8f / std::sqrt(float(c.P))),
            random_strided({c.B, c.H, c.T, c.D}, seed + 2),
            Tensor::view_of(beta.storage(), {c.B, c.H, c.T, 1}, {c.T * c.H, 1, c.H, 1}, 0),
            random_transposed({c.B, c.H, c.T, c.D}, seed + 4)};
}

struct Outputs {
    Tensor o, dq, dk, dv, dbeta;
};

// o and the gradients of Σ o·g through autograd, on the inputs' device.
Outputs op_outputs(const Inputs& x) {
    Tensor q = x.q.detach(), k = x.k.detach(), v = x.v.detach(), beta = x.beta.detach();
    for (Tensor* t : {&q, &k, &v, &beta}) t->set_requires_grad();
    Tensor o = delta_rule(q, k, v, beta);
    backward(o, x.g);
    return {o.detach(), q.grad(), k.grad(), v.grad(), beta.grad()};
}

// The forward and backward kernels' bodies, every block in turn, on host tensors; outputs, saved
// states and scratch start as NaN so a slot never written shows up.
Outputs emulate_delta(const Inputs& x) {
    const cuda::DeltaShape s{x.q.size(0), x.q.size(1), x.q.size(2), x.q.size(3), x.v.size(3)};
    const cuda::DeltaInputs in{s, head_view(x.q), head_view(x.k), head_view(x.v), scalar_view(x.beta)};
    Tensor o = Tensor::full({s.B, s.H, s.T, s.D}, NAN), saved = Tensor::full({s.B, s.H, cuda::delta_chunks(s.T), s.D, s.P}, NAN);
    const cuda::DeltaForward fwd{in, head_view(o), saved.data()};
    run_blocks(s.B * s.H, cuda::delta_forward_floats(s.D, s.P),
               [&](int64_t block, float* shared, cuda::Team team) { cuda::delta_forward_block(fwd, block, shared, team); });
    Tensor dq = Tensor::full(x.q.shape(), NAN), dk = Tensor::full(x.k.shape(), NAN), dv = Tensor::full(x.v.shape(), NAN),
           dbeta = Tensor::full(x.beta.shape(), NAN);
    Tensor scratch = Tensor::full({s.B * s.H, int64_t(cuda::delta_scratch_floats(s.D, s.P))}, NAN);
    const cuda::DeltaBackward bwd{in,           head_view(x.g), head_view(dq), head_view(dk), head_view(dv),
                                  scalar_view(dbeta), saved.data(), scratch.data()};
    run_blocks(s.B * s.H, cuda::delta_backward_floats(s.D, s.P),
               [&](int64_t block, float* shared, cuda::Team team) { cuda::delta_backward_block(bwd, block, shared, team); });
    return {o, dq, dk, dv, dbeta};
}

}  // namespace

TEST_CASE("delta scan bodies, run on the host, equal the float64 recurrence and the CPU op's gradients",
          "[cuda][delta]") {
    const Case c = GENERATE(DELTA_CASES);
    INFO("B " << c.B << " H " << c.H << " T " << c.T << " P " << c.P << " D " << c.D);
    const Inputs x = random_inputs(c, 21);
    const Outputs emulated = emulate_delta(x), cpu = op_outputs(x);
    require_close(emulated.o, delta_rule_reference(x.q, x.k, x.v, x.beta), 1e-4, 1e-5);
    // The CPU op's sums in the CPU op's order: apart from where the compiler fuses a multiply-add,
    // the same floats.
    require_close(emulated.o, cpu.o, 1e-5, 1e-6);
    require_close(emulated.dq, cpu.dq, 1e-5, 1e-5);
    require_close(emulated.dk, cpu.dk, 1e-5, 1e-5);
    require_close(emulated.dv, cpu.dv, 1e-5, 1e-5);
    require_close(emulated.dbeta, cpu.dbeta, 1e-5, 1e-5);
}

TEST_CASE("delta scan: shared memory and scratch sizes cover the layouts at the largest state", "[cuda][delta]") {
    const int64_t D = cuda::kDeltaMaxDim, P = cuda::kDeltaMaxDim;
    std::vector<float> shared(cuda::delta_backward_floats(D, P));
    const cuda::DeltaShared st(shared.data(), D, P);
    REQUIRE(st.scalar + 2 == shared.data() + cuda::delta_forward_floats(D, P));  // dS follows the forward's layout
    REQUIRE(cuda::delta_backward_floats(D, P) * sizeof(float) <= 163 * 1024);  // sm_80's opt-in limit
    REQUIRE(cuda::delta_scratch_floats(D, P) == size_t(cuda::kDeltaChunk * (D * P + D)));
}

TEST_CASE("delta scan: a config whose state exceeds the kernel's is refused for cuda before training", "[cuda][delta][errors]") {
    TrainConfig c;
    c.device = "cuda";
    c.model.width = 128, c.model.heads = 2, c.model.attention = "splat_delta";
    c.model.splats = 16, c.model.splat_delta_rank = 64;  // 64 × 1024 per head
    REQUIRE_THROWS_WITH(c.validate(), Catch::Contains("64×1024") && Catch::Contains("128 per side"));
    c.model.splats = 2;  // 64 × 128: fits
    c.validate();
    c.model.attention = "softmax", c.model.layer_kinds = "softmax,delta", c.model.heads = 1, c.model.layers = 2;
    c.validate();  // one head of 128: 128 × 128 fits
    c.model.width = 256;
    REQUIRE_THROWS_WITH(c.validate(), Catch::Contains("delta state of layer 1 is 256×256"));
    c.device = "cpu";  // the CPU op has no such limit
    c.validate();
}

// ---- on the GPU ----------------------------------------------------------------------------

namespace {

Inputs on_device(const Inputs& x, Device device) {
    return {same_layout_on(x.q, device), same_layout_on(x.k, device), same_layout_on(x.v, device),
            same_layout_on(x.beta, device), same_layout_on(x.g, device)};
}

}  // namespace

TEST_CASE("CUDA delta rule equals the CPU op, forward and backward", "[cuda][gpu][delta]") {
    SKIP_WITHOUT_GPU();
    const Case c = GENERATE(DELTA_CASES, Case{3, 4, 200, 64, 64});
    INFO("B " << c.B << " H " << c.H << " T " << c.T << " P " << c.P << " D " << c.D);
    const Inputs x = random_inputs(c, 31);
    const Outputs cpu = op_outputs(x), gpu = op_outputs(on_device(x, Device::CUDA));
    REQUIRE(gpu.o.device() == Device::CUDA);
    // The same sums in the same order as the CPU; only FMA contraction (placed differently by g++ and
    // nvcc) differs, carried through up to T contracting writes.
    require_close(gpu.o.to(Device::CPU), cpu.o, 1e-4, 1e-5);
    require_close(gpu.dq.to(Device::CPU), cpu.dq, 1e-3, 1e-4);
    require_close(gpu.dk.to(Device::CPU), cpu.dk, 1e-3, 1e-4);
    require_close(gpu.dv.to(Device::CPU), cpu.dv, 1e-3, 1e-4);
    require_close(gpu.dbeta.to(Device::CPU), cpu.dbeta, 1e-3, 1e-4);
}

TEST_CASE("CUDA delta rule: repeatable bit for bit, bad input refused", "[cuda][gpu][delta]") {
    SKIP_WITHOUT_GPU();
    const Inputs x = on_device(random_inputs(Case{2, 2, 90, 16, 12}, 41), Device::CUDA);
    const Outputs a = op_outputs(x), b = op_outputs(x);
    for (auto [u, w] : {std::pair{a.o, b.o}, {a.dq, b.dq}, {a.dk, b.dk}, {a.dv, b.dv}, {a.dbeta, b.dbeta}})
        REQUIRE(u.to(Device::CPU).to_vector() == w.to(Device::CPU).to_vector());
    REQUIRE_THROWS_WITH(delta_rule(x.q, x.k, x.v.to(Device::CPU), x.beta), Contains("delta_rule") && Contains("cpu"));
    const Tensor wide = random({1, 1, 3, 129}, 42).to(Device::CUDA), v = random({1, 1, 3, 4}, 43).to(Device::CUDA);
    REQUIRE_THROWS_WITH(delta_rule(wide, wide, v, Tensor::full({1, 1, 3}, 0.5f).to(Device::CUDA)),
                        Contains("limit of 128"));
}
