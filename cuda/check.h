// check.h — CUDA_CHECK(call) for the .cu files: a failing CUDA runtime call throws splatlm::Error
// naming the call, file, line and CUDA's reason. After a kernel launch, CUDA_CHECK(cudaGetLastError())
// catches a launch that failed (bad configuration, no kernel image for this GPU).
#pragma once
#include <cuda_runtime.h>

#include "tensor/error.h"

#define CUDA_CHECK(call)                                                                          \
    do {                                                                                          \
        cudaError_t err_ = (call);                                                                \
        if (err_ != cudaSuccess) {                                                                \
            (void)cudaGetLastError(); /* clear it: a caught failure must not resurface later */  \
            ::splatlm::fail("CUDA: ", #call, " failed at ", __FILE__, ":", __LINE__, ": ",        \
                            cudaGetErrorString(err_));                                            \
        }                                                                                         \
    } while (0)
