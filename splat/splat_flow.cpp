#include "splat/splat_flow.h"

#include "autograd/ops.h"
#include "tensor/error.h"

namespace splatlm {

Tensor flow_shift(const Tensor& reads, const Tensor& flow) {
    const int64_t H = flow.size(0), K = flow.size(1);
    const bool one_position = reads.dim() == 3;
    SPLATLM_CHECK((reads.dim() == 4 || one_position) && reads.size(1) == H && reads.size(reads.dim() - 1) == K,
                  "splat_flow: the read weights of the layer below are ", shape_str(reads.shape()),
                  ", expected [B, ", H, ", T, ", K, "] (has the layer below run on this input?)");
    if (!one_position) return matmul(reads, flow);  // [B, H, T, K] @ [H, K, D], batched over B, H
    const int64_t B = reads.size(0), D = flow.size(2);
    return reshape(matmul(reshape(reads, {B, H, 1, K}), flow), {B, H, D});
}

QKV moved_by_flow(const QKV& heads, const Tensor& reads, const Tensor& flow) {
    const Tensor shift = flow_shift(reads, flow);
    return {heads.q + shift, heads.k + shift, heads.v};
}

}  // namespace splatlm
