// gradcheck.h — the finite-difference gradient checker every op test uses.
//
// For f(inputs) → out it draws a fixed random weighting W (so every output element matters) and
// compares, element by element of every input, the analytic gradient of L = Σ out ⊙ W from
// backward() with the central difference (L(x+h) − L(x−h)) / 2h. L is accumulated in float64;
// the op itself runs in float32, so tolerances are per op: |analytic − numeric| ≤ atol + rtol·|numeric|.
// Inputs may be non-contiguous views (transposed, sliced) but not overlapping ones (stride 0).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace splatlm {

struct GradCheckOptions {
    double eps = 1e-2;   // step h; float32 ops want h around 1e-2..1e-3
    double atol = 1e-3;
    double rtol = 1e-2;
    uint64_t seed = 1234;  // for the weighting W
};

struct GradCheckResult {
    bool ok = true;
    double worst = 0;      // largest |analytic − numeric| / (atol + rtol·|numeric|); ≤ 1 passes
    std::string message;   // names the worst element when the check fails
};

using GradCheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Every input must be a leaf; gradcheck sets requires_grad on each and checks them all.
GradCheckResult gradcheck(const GradCheckFn& f, std::vector<Tensor> inputs, const GradCheckOptions& options = {});

}  // namespace splatlm
