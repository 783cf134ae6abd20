// flash_attention.h — exact causal softmax attention (full or windowed) on device memory, tiled with
// an online softmax: no T×T matrix is stored, the forward saves lse per row, the backward recomputes
// the probabilities from it. Implemented in flash_attention.cu when nvcc is present, by
// flash_attention_stub.cpp ("built without CUDA") when it is not; the block bodies are in
// flash_tiles.h, shared with the host tests. nn/causal_attention.cpp calls these for CUDA tensors.
#pragma once
#include "cuda/flash_tiles.h"

namespace splatlm::cuda {

// y and lse from q, k, v (D ≤ kFlashMaxHeadDim). Launches on the default stream; does not wait.
void flash_attention_forward(const FlashForward& args);
// dq, dk, dv from q, k, v, y, lse and dy; args.delta is scratch of B·H·T floats.
void flash_attention_backward(const FlashBackward& args);

}  // namespace splatlm::cuda
