// linear_scan.h — causal linear attention (φ = elu + 1) on device memory: the scans of
// nn/linear_attention.cpp, one thread block per (batch, head). Implemented in linear_scan.cu when nvcc
// is present, by linear_scan_stub.cpp ("built without CUDA") when it is not; the block bodies are in
// linear_scan_steps.h, shared with the host tests.
#pragma once
#include "cuda/linear_scan_steps.h"

namespace splatlm::cuda {

// y and den_out (y's denominators) from q, k, v. Launches on the default stream; does not wait.
void linear_attention_forward(const LinearForward& args);
// dq, dk, dv from q, k, v, y, den and dy.
void linear_attention_backward(const LinearBackward& args);

}  // namespace splatlm::cuda
