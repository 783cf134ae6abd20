// splat_gpu.cpp — the splat op on CUDA tensors: the host side of the chunked scan of
// splat_scan_passes.h (docs/SPLAT.md, "On the GPU"), launched by splat_scan.cu. Every kernel runs on the
// default stream, so scratch tensors may be released as soon as the launches are queued: the
// allocator's next user is ordered after them.
#include "splat/splat_gpu.h"

#include "splat/splat_kernels.h"
#include "splat/splat_scan.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

SplatConstants splat_constants(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp,
                               const SplatOptions& o) {
    SplatOptions host;  // the per-splat options, on the host (Splats reads them with at())
    if (o.log_decay.defined()) host.log_decay = o.log_decay.to(Device::CPU);
    if (o.read_bias.defined()) host.read_bias = o.read_bias.to(Device::CPU);
    const Splats sp(centres.to(Device::CPU), log_scale.to(Device::CPU), log_amp.to(Device::CPU), host);
    return {std::vector<float>(sp.mu, sp.mu + sp.H * sp.K * sp.D), sp.c, sp.la, sp.rate, sp.rb};
}

namespace {

// The per-head splat constants on the device (splat_constants); the send bias and token decay are read in place.
struct DeviceSplats {
    Tensor mu, c, la, rate, rb;
    ScanSplats view;
    DeviceSplats(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o) {
        const SplatConstants sc = splat_constants(centres, log_scale, log_amp, o);
        const Shape hk{centres.size(0), centres.size(1)};
        auto up = [&](const std::vector<float>& x, const Shape& shape) {
            return Tensor::from_vector(x, shape).to(Device::CUDA);
        };
        mu = up(sc.mu, centres.shape()), c = up(sc.c, hk), la = up(sc.la, hk);
        rate = up(sc.rate, hk), rb = up(sc.rb, hk);
        auto per_token = [](const Tensor& x) { return x.defined() ? heads_view<const float>(x) : HeadsView<const float>{}; };
        view = {mu.data(), c.data(), la.data(), rate.data(), rb.data(), per_token(o.send_bias), per_token(o.token_decay)};
    }
};

// The scan's scratch on the device (ScanBuffers): per token [B·H, T, K], per chunk [B·H, NC, K] and
// [B·H, NC, K, D]; with read_out also π, den, arg for the backward.
struct DeviceScratch {
    Tensor lq, lk, alpha, beta, m, z, coef, pi, den, arg, cm, cz, cr, pm, pz, cS;
    DeviceScratch(const ScanShape& s, bool read_out) {
        const Shape token{s.B * s.H, s.T, s.K}, chunk{s.B * s.H, s.chunks(), s.K};
        for (Tensor* t : {&lq, &lk, &alpha, &beta, &m, &z, &coef}) *t = Tensor::empty(token, Device::CUDA);
        if (read_out) {
            pi = Tensor::empty(token, Device::CUDA);
            den = Tensor::empty({s.B * s.H, s.T}, Device::CUDA), arg = Tensor::empty({s.B * s.H, s.T}, Device::CUDA);
        }
        for (Tensor* t : {&cm, &cz, &cr, &pm, &pz}) *t = Tensor::empty(chunk, Device::CUDA);
        cS = Tensor::empty({s.B * s.H, s.chunks(), s.K, s.D}, Device::CUDA);
    }
    ScanBuffers buffers() {
        auto ptr = [](Tensor& t) { return t.defined() ? t.data() : nullptr; };
        return {lq.data(), lk.data(), alpha.data(), beta.data(), m.data(), z.data(), coef.data(), ptr(pi), ptr(den),
                ptr(arg),  cm.data(), cz.data(),    cr.data(),   pm.data(), pz.data(), cS.data(), false};
    }
};

}  // namespace

Tensor splat_forward_gpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                         const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt) {
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = centres.size(1);
    Tensor y = raw::permute(Tensor::empty({B, T, H, D}, Device::CUDA), {0, 2, 1, 3});  // as on the CPU
    if (y.numel() == 0) return y;
    const ScanShape s{B, H, T, K, D, kSplatChunk};
    const DeviceSplats sp(centres, log_scale, log_amp, opt);
    DeviceScratch scratch(s, false);
    cuda::splat_scan_forward(s, sp.view, heads_view<const float>(q), heads_view<const float>(k),
                             heads_view<const float>(v), heads_view<float>(y), scratch.buffers());
    return y;
}

std::vector<Tensor> splat_backward_gpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                       const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt,
                                       const Tensor& grad) {
    check_device("splat_attention backward", grad, Device::CUDA);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = centres.size(1);
    const ScanShape s{B, H, T, K, D, kSplatChunk};
    const DeviceSplats sp(centres, log_scale, log_amp, opt);
    DeviceScratch scratch(s, true);
    auto cuda_empty = [](const Shape& shape) { return Tensor::empty(shape, Device::CUDA); };
    const Shape token{B, H, T, K}, hk{H, K};
    Tensor pa = cuda_empty(token), pk = cuda_empty(token), dlq = cuda_empty(token), dlk = cuda_empty(token);
    Tensor rS = cuda_empty({B * H, s.chunks(), K, D}), rZ = cuda_empty({B * H, s.chunks(), K}),
           carry = cuda_empty({B * H, s.chunks(), K});
    Tensor dr = cuda_empty({B * H, K}), drb = cuda_empty({B * H, K});
    Tensor dq = cuda_empty(q.shape()), dk = cuda_empty(q.shape()), dv = cuda_empty(q.shape());
    Tensor dmu = cuda_empty(centres.shape()), dls = cuda_empty(hk), dla = cuda_empty(hk), dlog_decay = cuda_empty(hk),
           drho = cuda_empty(hk), dtoken = opt.token_decay.defined() ? cuda_empty(token) : Tensor();
    const ScanGrads gr{heads_view<const float>(grad), pa.data(), pk.data(), rS.data(), rZ.data(), carry.data(),
                       dlq.data(), dlk.data(), dr.data(), drb.data(), dq.data(), dk.data(), dv.data(),
                       dmu.data(), dls.data(), dla.data(), dlog_decay.data(), drho.data(),
                       dtoken.defined() ? dtoken.data() : nullptr};
    cuda::splat_scan_backward(s, sp.view, heads_view<const float>(q), heads_view<const float>(k),
                              heads_view<const float>(v), scratch.buffers(), gr);
    std::vector<Tensor> grads{dq, dk, dv, dmu, dls, dla};
    if (opt.log_decay.defined()) grads.push_back(dlog_decay);
    if (opt.send_bias.defined()) grads.push_back(dlk);
    if (opt.read_bias.defined()) grads.push_back(drho);
    if (opt.token_decay.defined()) grads.push_back(dtoken);
    return grads;
}

// The step on CUDA: passes A, D, E, F of the scan on one token, the state as the incoming state.
Tensor splat_step_gpu(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres,
                      const Tensor& log_scale, const Tensor& log_amp, SplatState& state, const SplatOptions& opt) {
    const int64_t B = q_t.size(0), H = q_t.size(1), D = q_t.size(2), K = centres.size(1);
    Tensor y = Tensor::empty({B, H, D}, Device::CUDA);
    if (y.numel() == 0) return y;
    const ScanShape s{B, H, 1, K, D, 1};
    const DeviceSplats sp(centres, log_scale, log_amp, opt);
    DeviceScratch scratch(s, false);
    ScanBuffers buf = scratch.buffers();
    buf.pm = state.m.data(), buf.pz = state.z.data(), buf.cS = state.S.data(), buf.write_back = true;
    cuda::splat_scan_step(s, sp.view, heads_view<const float>(q_t), heads_view<const float>(k_t),
                          heads_view<const float>(v_t), heads_view<float>(y), buf);
    return y;
}

}  // namespace splatlm
