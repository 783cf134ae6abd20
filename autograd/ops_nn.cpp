// ops_nn.cpp — softmax, log-softmax, layer norm, embedding, cross-entropy and dropout as single
// fused nodes: the raw:: kernels (tensor/nn_kernels.cpp) hold the math of both directions.
#include "autograd/ops.h"
#include "cuda/random.h"
#include "cuda/random_math.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {
using Grads = std::vector<Tensor>;
}

Tensor softmax(const Tensor& x) {
    Tensor out = raw::softmax(x);
    Tensor y = out.detach();
    return record(out, "softmax", {x}, [y](const Tensor& g) -> Grads { return {raw::softmax_backward(y, g)}; });
}

Tensor log_softmax(const Tensor& x) {
    Tensor out = raw::log_softmax(x);
    Tensor y = out.detach();
    return record(out, "log_softmax", {x},
                  [y](const Tensor& g) -> Grads { return {raw::log_softmax_backward(y, g)}; });
}

Tensor layernorm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
    raw::LayerNormResult r = raw::layernorm(x, weight, bias, eps);
    Tensor mean = r.mean, rstd = r.rstd;
    return record(r.y, "layernorm", {x, weight, bias}, [x, weight, mean, rstd](const Tensor& g) -> Grads {
        raw::LayerNormGrads d = raw::layernorm_backward(x, weight, mean, rstd, g);
        return {d.dx, d.dweight, d.dbias};
    });
}

Tensor embedding(const Tensor& table, const Indices& ids) {
    const int64_t vocab = table.size(0);
    return record(raw::embedding(table, ids), "embedding", {table}, [ids, vocab](const Tensor& g) -> Grads {
        return {raw::embedding_backward(ids, g, vocab)};
    });
}

Tensor cross_entropy(const Tensor& logits, const Indices& targets, int32_t ignore_index) {
    SPLATLM_CHECK(logits.dim() >= 1, "cross_entropy: logits need a class axis, got ", shape_str(logits.shape()));
    Tensor rows = raw::reshape(logits, {-1, logits.size(-1)});
    raw::CrossEntropyResult r = raw::cross_entropy(rows, targets, ignore_index);
    Tensor lse = r.logsumexp;
    const int64_t counted = r.counted;
    Shape shape = logits.shape();
    return record(r.loss, "cross_entropy", {logits},
                  [rows, targets, lse, counted, ignore_index, shape](const Tensor& g) -> Grads {
                      Tensor d = raw::cross_entropy_backward(rows, targets, lse, counted, g.item(), ignore_index);
                      return {raw::reshape(d, shape)};
                  });
}

Tensor dropout(const Tensor& x, float p, Rng& rng) {
    SPLATLM_CHECK(p >= 0.f && p < 1.f, "dropout: probability ", p, " outside [0, 1)");
    if (p == 0.f) return x;
    // The mask holds 1/(1−p) or 0 (cuda::dropout_scale). On CUDA it is drawn on the device by
    // cuRAND, seeded by one draw from rng: other values than on the CPU, as reproducible.
    Tensor keep;
    if (x.device() == Device::CUDA) {
        keep = cuda::dropout_mask(x.shape(), p, rng.next_u64());
    } else {
        keep = Tensor::rand(x.shape(), rng);  // uniform [0,1) → mask
        float* k = keep.data();
        for (int64_t i = 0; i < keep.numel(); ++i) k[i] = cuda::dropout_scale(k[i], p);
    }
    return record(raw::binary(Binary::Mul, x, keep), "dropout", {x},
                  [keep](const Tensor& g) -> Grads { return {raw::binary(Binary::Mul, g, keep)}; });
}

}  // namespace splatlm
