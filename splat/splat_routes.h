// splat_routes.h — top-p routing of the splat op (SplatOptions::top; docs/SPLAT.md §10): per token,
// the p splats of largest key affinity (where it writes) and of largest query affinity (where it
// reads). The CPU passes (splat_cpu.cpp) and the recurrent step run their kernels on these lists
// (SplatList), or on AllSplats when the op is dense.
#pragma once
#include <cstdint>
#include <vector>

#include "splat/splat_math.h"

namespace splatlm {

// The p largest of l[0, K), ties to the lower index, into out[0, p) in ascending splat order (NaN
// ranks as −∞). v: [K] scratch.
void top_splats(const float* l, int64_t K, int64_t p, int32_t* out, float* v);

// The routes of B·H heads of T tokens: 2·p ints per token, kept for the backward; none when p = 0.
struct Routes {
    int64_t T, p;
    std::vector<int32_t> write, read;  // [B·H][T][p]
    Routes(int64_t BH, int64_t T_, int64_t p_) : T(T_), p(p_), write(BH * T_ * p_), read(BH * T_ * p_) {}
    // Route tokens [t0, t1) of head i from its affinities lk, lq ([T][K] each).
    void select(int64_t i, int64_t t0, int64_t t1, int64_t K, const float* lk, const float* lq);
    // f(writes, reads) with head i's routes, or with all K splats when the op is dense.
    template <class F>
    void visit(int64_t i, int64_t K, F&& f) const {
        if (p > 0)
            f(SplatList{write.data() + i * T * p, p}, SplatList{read.data() + i * T * p, p});
        else
            f(AllSplats{K}, AllSplats{K});
    }
};

}  // namespace splatlm
