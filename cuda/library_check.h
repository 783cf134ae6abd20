// library_check.h — CUBLAS_CHECK(call) and CURAND_CHECK(call) for the .cu files: like CUDA_CHECK
// (check.h), a failing call throws splatlm::Error naming the call, file, line and the status.
#pragma once
#include <cublas_v2.h>
#include <curand.h>

#include "tensor/error.h"

#define CUBLAS_CHECK(call)                                                                        \
    do {                                                                                          \
        cublasStatus_t status_ = (call);                                                          \
        if (status_ != CUBLAS_STATUS_SUCCESS)                                                     \
            ::splatlm::fail("cuBLAS: ", #call, " failed at ", __FILE__, ":", __LINE__, ": ",      \
                            cublasGetStatusString(status_));                                      \
    } while (0)

// cuRAND has no status-to-string function: the number is a curandStatus_t (curand.h).
#define CURAND_CHECK(call)                                                                        \
    do {                                                                                          \
        curandStatus_t status_ = (call);                                                          \
        if (status_ != CURAND_STATUS_SUCCESS)                                                     \
            ::splatlm::fail("cuRAND: ", #call, " failed at ", __FILE__, ":", __LINE__,            \
                            ": curandStatus_t ", static_cast<int>(status_));                      \
    } while (0)
