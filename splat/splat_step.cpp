// splat_step.cpp — generation with the splat op, one token at a time from a carried state of O(K·D)
// per head (no KV cache): the forward's passes on one token, started from the state and leaving the
// new state in it, exactly as the parallel form computes position t.
#include "nn/attention.h"
#include "splat/splat_cpu.h"
#include "splat/splat_gpu.h"
#include "splat/splat_inputs.h"
#include "splat/splat_op.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

SplatState::SplatState(int64_t batch_, int64_t heads_, int64_t splats_, int64_t dim_, Device device)
    : batch(batch_), heads(heads_), splats(splats_), dim(dim_),
      m(Tensor::full({batch_, heads_, splats_}, kScanNegInf, device)),
      z(Tensor::zeros({batch_, heads_, splats_}, device)), S(Tensor::zeros({batch_, heads_, splats_, dim_}, device)) {}

void SplatState::save_to(NamedTensors& out, const std::string& prefix) const {
    out.emplace_back(prefix + "m", saved_copy(m));
    out.emplace_back(prefix + "z", saved_copy(z));
    out.emplace_back(prefix + "S", saved_copy(S));
}

void SplatState::restore(const NamedTensors& saved, int64_t length_, const std::string& prefix) {
    SPLATLM_CHECK(length_ >= 0, "saved splat state: negative length ", length_);
    restore_tensor(m, saved, prefix + "m");
    restore_tensor(z, saved, prefix + "z");
    restore_tensor(S, saved, prefix + "S");
    length = length_;
}

namespace {
// The CPU step: the forward's passes on one token from `state` (left holding the state after it);
// with `read_weights`, the token's π [B, H, K] too.
Tensor cpu_step(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres, const Tensor& log_scale,
                const Tensor& log_amp, SplatState& state, const SplatOptions& opt, Tensor* read_weights) {
    const int64_t B = q_t.size(0), H = q_t.size(1), D = q_t.size(2), K = centres.size(1);
    // The [B, H, D] inputs as [B, H, 1, D], one token of the parallel form (the per-token options likewise).
    auto token = [](const Tensor& x) { return raw::reshape(x, {x.size(0), x.size(1), 1, x.size(2)}); };
    SplatOptions o = opt;
    for (Tensor* t : {&o.send_bias, &o.token_decay})
        if (t->defined()) *t = token(*t);
    const Splats sp(centres, log_scale, log_amp, o);
    SplatSaved saved({B, H, 1, K, D}, o.top);
    Tensor y = raw::reshape(splat_forward_cpu(token(q_t), token(k_t), token(v_t), sp, saved, &state), {B, H, D});
    if (read_weights) *read_weights = raw::reshape(saved_read_weights(saved, {B, H, 1, K, D}), {B, H, K});
    return y;
}

// π of a step on the GPU: the CPU step on host copies of the inputs and of the state before it (the
// generation-time cost of splat_flow on a GPU: one token's O(H·K·D) on the host per layer).
Tensor read_weights_on_host(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres,
                            const Tensor& log_scale, const Tensor& log_amp, const SplatState& state,
                            const SplatOptions& opt) {
    SplatState host(state.batch, state.heads, state.splats, state.dim);
    host.m = state.m.to(Device::CPU).clone(), host.z = state.z.to(Device::CPU).clone(), host.S = state.S.to(Device::CPU).clone();
    SplatOptions o = opt;
    for (Tensor* t : {&o.log_decay, &o.send_bias, &o.read_bias, &o.token_decay})
        if (t->defined()) *t = t->to(Device::CPU);
    Tensor reads;
    cpu_step(q_t.to(Device::CPU), k_t.to(Device::CPU), v_t.to(Device::CPU), centres.to(Device::CPU),
             log_scale.to(Device::CPU), log_amp.to(Device::CPU), host, o, &reads);
    return reads;
}
}  // namespace

Tensor splat_step(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres,
                  const Tensor& log_scale, const Tensor& log_amp, SplatState& state, const SplatOptions& opt,
                  Tensor* read_weights) {
    const Device device = check_splat_inputs("splat_step", q_t, k_t, v_t, centres, log_scale, log_amp, opt, 3);
    const int64_t B = q_t.size(0), H = q_t.size(1), D = q_t.size(2), K = centres.size(1);
    SPLATLM_CHECK(state.batch == B && state.heads == H && state.splats == K && state.dim == D,
                  "splat_step: state is for [B, H, K, D] = [", state.batch, ", ", state.heads, ", ", state.splats,
                  ", ", state.dim, "], inputs are [", B, ", ", H, ", ", K, ", ", D, "]");
    for (const Tensor* t : {&state.m, &state.z, &state.S})
        SPLATLM_CHECK(t->device() == device, "splat_step: the inputs are on ", device_name(device), ", the state ",
                      shape_str(t->shape()), " is on ", device_name(t->device()),
                      " (make it with SplatState(B, H, K, D, device))");
    Tensor y;
    if (device == Device::CUDA) {
        if (read_weights)  // (from the state before the GPU step moves it)
            *read_weights = read_weights_on_host(q_t, k_t, v_t, centres, log_scale, log_amp, state, opt).to(device);
        y = splat_step_gpu(q_t, k_t, v_t, centres, log_scale, log_amp, state, opt);
    } else {
        y = cpu_step(q_t, k_t, v_t, centres, log_scale, log_amp, state, opt, read_weights);
    }
    ++state.length;
    return y;
}

}  // namespace splatlm
