#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/ops.h"
#include "tensor/error.h"

namespace splatlm {

namespace {

// Storage offset (relative to data()) of every element of t, in logical order.
std::vector<int64_t> element_offsets(const Tensor& t) {
    std::vector<int64_t> offsets(t.numel());
    std::vector<int64_t> idx(t.dim(), 0);
    for (int64_t i = 0; i < t.numel(); ++i) {
        int64_t off = 0;
        for (int64_t a = 0; a < t.dim(); ++a) off += idx[a] * t.strides()[a];
        offsets[i] = off;
        for (int64_t a = t.dim() - 1; a >= 0; --a) {
            if (++idx[a] < t.shape()[a]) break;
            idx[a] = 0;
        }
    }
    return offsets;
}

double weighted_sum(const Tensor& out, const std::vector<float>& w) {
    std::vector<float> o = out.to_vector();
    double s = 0;
    for (size_t i = 0; i < o.size(); ++i) s += double(o[i]) * w[i];
    return s;
}

}  // namespace

GradCheckResult gradcheck(const GradCheckFn& f, std::vector<Tensor> inputs, const GradCheckOptions& opt) {
    for (Tensor& t : inputs) {
        SPLATLM_CHECK(t.is_leaf(), "gradcheck: inputs must be leaf tensors");
        for (int64_t a = 0; a < t.dim(); ++a)
            SPLATLM_CHECK(t.strides()[a] != 0 || t.shape()[a] == 1,
                          "gradcheck: input of shape ", shape_str(t.shape()), " overlaps itself (stride 0)");
        t.set_requires_grad(true);
        t.zero_grad();
    }
    // Analytic: backward of L = Σ out ⊙ W.
    Tensor out = f(inputs);
    Rng rng(opt.seed);
    Tensor w = Tensor::randn(out.shape(), rng);
    backward(sum(mul(out, w)));
    const std::vector<float> wv = w.to_vector();

    GradCheckResult result;
    NoGradGuard no_grad;
    for (size_t i = 0; i < inputs.size(); ++i) {
        Tensor& x = inputs[i];
        std::vector<float> analytic =
            x.grad().defined() ? x.grad().to_vector() : std::vector<float>(x.numel(), 0.f);
        std::vector<int64_t> offsets = element_offsets(x);
        for (int64_t j = 0; j < x.numel(); ++j) {
            float* p = x.data() + offsets[j];
            const float orig = *p;
            *p = static_cast<float>(orig + opt.eps);
            const double up = *p - double(orig), lp = weighted_sum(f(inputs), wv);
            *p = static_cast<float>(orig - opt.eps);
            const double down = double(orig) - *p, lm = weighted_sum(f(inputs), wv);
            *p = orig;
            const double numeric = (lp - lm) / (up + down);
            const double err = std::abs(analytic[j] - numeric) / (opt.atol + opt.rtol * std::abs(numeric));
            if (std::isnan(err) || err > result.worst) {  // a NaN gradient must fail, not slip by
                result.worst = std::isnan(err) ? INFINITY : err;
                std::ostringstream os;
                os << "input " << i << " " << shape_str(x.shape()) << " element " << j << ": analytic "
                   << analytic[j] << " vs numeric " << numeric << " (atol " << opt.atol << ", rtol " << opt.rtol << ")";
                result.message = os.str();
            }
        }
    }
    result.ok = result.worst <= 1.0;
    return result;
}

}  // namespace splatlm
