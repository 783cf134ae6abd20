// kv_cache.h — the generation cache of exact softmax attention: per (batch, head) the keys and values
// of the positions a query may still see, and one query's read-out over them.
//
//   y_t = Σ_{u ∈ W(t)} softmax_u(q_t·k_u / √D) · v_u,   W(t) = [0, t]  or  [t−w+1, t] with a window w
//
// With a window the keys/values live in a ring of w slots (position u in slot u mod w), so memory is
// O(w·D) per head however long generation runs; without one the ring has max_len slots. The sum runs
// over u in time order, as the parallel op (nn/causal_attention.h) does.
#pragma once
#include "nn/attention.h"

namespace splatlm {

class KVCache : public AttentionCache {
  public:
    // window = 0: every position up to max_len; w > 0: only the last w (ring of min(w, max_len) slots).
    KVCache(int64_t batch, int64_t heads, int64_t dim, int64_t max_len, int64_t window);
    // q_t, k_t, v_t: [B, H, D] (any strides) at the next position → y_t: [B, H, D] (contiguous).
    // Stores k_t, v_t first: the position sees itself. No autograd. On CUDA inputs the cache moves to
    // the GPU at its first CUDA step, with what it holds, and stays there (cuda/kv_step.h).
    Tensor attend(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t);
    int64_t length() const { return len_; }    // positions absorbed so far
    int64_t slots() const { return k_.size(2); }  // ring size: what memory is proportional to
    NamedTensors contents() const override;       // k, v of the filled slots
    void restore(const NamedTensors& saved, int64_t length) override;

  private:
    Tensor attend_cuda(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t);
    int64_t first_visible(int64_t t) const { return window_ > 0 && t - window_ + 1 > 0 ? t - window_ + 1 : 0; }

    Tensor k_, v_;  // [B, H, slots, D]
    int64_t max_len_, window_, len_ = 0;
};

}  // namespace splatlm
