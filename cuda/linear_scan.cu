// linear_scan.cu — the linear-attention kernels: one thread block per (batch, head) running its scan
// from linear_scan_steps.h with the D×D state in shared memory.
#include "cuda/check.h"
#include "cuda/linear_scan.h"
#include "cuda/shared_launch.cuh"

namespace splatlm::cuda {

namespace {

constexpr int kThreads = 256;

// One block per head with the state in dynamic shared memory (D = 128: 67.5 KiB, past the 48 KiB a
// kernel gets without opting in).
template <class Args, void (*Body)(const Args&, int64_t, float*, Team)>
void launch_heads(const Args& args) {
    launch_block_body<Args, Body>(args, args.s.B * args.s.H, kThreads, linear_scan_floats(args.s.D));
}

}  // namespace

void linear_attention_forward(const LinearForward& a) {
    if (a.s.B * a.s.H * a.s.T == 0) return;  // a launch of zero blocks is an error
    launch_heads<LinearForward, linear_forward_block>(a);
}

void linear_attention_backward(const LinearBackward& a) {
    if (a.s.B * a.s.H * a.s.T == 0) return;
    launch_heads<LinearBackward, linear_backward_block>(a);
}

}  // namespace splatlm::cuda
