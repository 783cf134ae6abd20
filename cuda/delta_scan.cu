// delta_scan.cu — the delta-rule kernels: one thread block per (batch, head) running its scan from
// delta_scan_steps.h with the D×P state (and, backward, its adjoint) in shared memory.
#include "cuda/delta_scan.h"
#include "cuda/shared_launch.cuh"

namespace splatlm::cuda {

namespace {

constexpr int kThreads = 256;

// One block per head. At D = P = 128 the forward needs 66.5 KiB and the backward 131 KiB of shared
// memory, past the 48 KiB a kernel gets without opting in (launch_block_body opts in).
template <class Args, void (*Body)(const Args&, int64_t, float*, Team)>
void launch_heads(const Args& args, size_t floats) {
    launch_block_body<Args, Body>(args, args.in.s.B * args.in.s.H, kThreads, floats);
}

}  // namespace

void delta_rule_forward(const DeltaForward& a) {
    if (a.in.s.B * a.in.s.H * a.in.s.T == 0) return;  // a launch of zero blocks is an error
    launch_heads<DeltaForward, delta_forward_block>(a, delta_forward_floats(a.in.s.D, a.in.s.P));
}

void delta_rule_backward(const DeltaBackward& a) {
    if (a.in.s.B * a.in.s.H * a.in.s.T == 0) return;
    launch_heads<DeltaBackward, delta_backward_block>(a, delta_backward_floats(a.in.s.D, a.in.s.P));
}

}  // namespace splatlm::cuda
