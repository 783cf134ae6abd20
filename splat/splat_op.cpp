// splat_op.cpp — Gaussian splat attention as one autograd node: the forward runs the CPU passes
// (splat_cpu.h) or the GPU's (splat_gpu.h) by the inputs' device, and `record` files the matching
// backward. The op's math is in splat_op.h and docs/SPLAT.md.
#include "splat/splat_op.h"

#include <memory>

#include "autograd/graph.h"
#include "splat/splat_cpu.h"
#include "splat/splat_gpu.h"
#include "splat/splat_inputs.h"
#include "tensor/ops.h"

namespace splatlm {

Tensor splat_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                       const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt,
                       Tensor* read_weights) {
    const Device device = check_splat_inputs("splat_attention", q, k, v, centres, log_scale, log_amp, opt, 4);
    const std::vector<Tensor> inputs = splat_inputs(q, k, v, centres, log_scale, log_amp, opt);
    bool needs_grad = false;
    for (const Tensor& t : inputs) needs_grad |= t.requires_grad();
    needs_grad &= grad_enabled();
    if (device == Device::CUDA) {  // the backward recomputes the scan from the inputs (nothing saved)
        Tensor y = splat_forward_gpu(q, k, v, centres, log_scale, log_amp, opt);
        if (read_weights) *read_weights = splat_read_weights(q, k, centres, log_scale, log_amp, opt).to(device);
        if (!needs_grad) return y;
        return record(y, "splat_attention", inputs, [q, k, v, centres, log_scale, log_amp, opt](const Tensor& grad) {
            return splat_backward_gpu(q, k, v, centres, log_scale, log_amp, opt, grad);
        });
    }
    auto sp = std::make_shared<const Splats>(centres, log_scale, log_amp, opt);
    auto saved = std::make_shared<SplatSaved>(SplatDims{q.size(0), q.size(1), q.size(2), sp->K, q.size(3)}, opt.top);
    Tensor y = splat_forward_cpu(q, k, v, *sp, *saved);
    if (read_weights) *read_weights = saved_read_weights(*saved, {q.size(0), q.size(1), q.size(2), sp->K, q.size(3)});
    if (!needs_grad) return y;
    return record(y, "splat_attention", inputs, [q, k, v, opt, sp, saved](const Tensor& grad) {
        return splat_backward_cpu(q, k, v, *sp, opt, *saved, grad);
    });
}

Tensor splat_read_weights(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                          const Tensor& log_amp, const SplatOptions& opt) {
    check_splat_inputs("splat_read_weights", q, k, k, centres, log_scale, log_amp, opt, 4);
    SplatOptions host = opt;  // (a no-op on the CPU)
    for (Tensor* t : {&host.log_decay, &host.send_bias, &host.read_bias, &host.token_decay})
        if (t->defined()) *t = t->to(Device::CPU);
    const Splats sp(centres.to(Device::CPU), log_scale.to(Device::CPU), log_amp.to(Device::CPU), host);
    return splat_read_weights_cpu(q.to(Device::CPU), k.to(Device::CPU), sp, opt.top);
}

}  // namespace splatlm
