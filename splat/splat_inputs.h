// splat_inputs.h — what every entry point of the splat op (the op, its reference, the recurrent
// step) checks of its inputs, and the list of inputs an autograd node records.
#pragma once
#include <cstdint>
#include <vector>

#include "splat/splat_op.h"

namespace splatlm {

// Checks shapes and options (q, k, v of rank `rank`: 4 for [B, H, T, D], 3 for one token's [B, H, D]);
// returns the one device every input lives on. Errors name `op`, the input and its shape.
Device check_splat_inputs(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                          const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o, int64_t rank);

// The inputs an op call reads, in the order its backward returns their gradients: q, k, v, centres,
// log_scale, log_amp, then log_decay, send_bias, read_bias, token_decay where defined.
std::vector<Tensor> splat_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                 const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o);

}  // namespace splatlm
