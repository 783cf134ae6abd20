// delta_scan.h — the delta rule (DeltaNet) on device memory: the scans of nn/delta_rule.cpp, one
// thread block per (batch, head). Implemented in delta_scan.cu when nvcc is present, by
// delta_scan_stub.cpp ("built without CUDA") when it is not; the block bodies are in
// delta_scan_steps.h, shared with the host tests.
#pragma once
#include "cuda/delta_scan_steps.h"

namespace splatlm::cuda {

// o and the saved states from q, k, v, β. Launches on the default stream; does not wait.
void delta_rule_forward(const DeltaForward& args);
// dq, dk, dv, dβ from the inputs, the saved states and do; args.scratch holds
// delta_scratch_floats(D, P) floats per (batch, head).
void delta_rule_backward(const DeltaBackward& args);

}  // namespace splatlm::cuda
