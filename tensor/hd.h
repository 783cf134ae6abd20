// hd.h — SPLATLM_HD marks functions that run on both sides: __host__ __device__ under nvcc, nothing
// for the plain C++ compiler. Headers using it hold code shared by the CPU and the CUDA kernels.
#pragma once

#ifdef __CUDACC__
#define SPLATLM_HD __host__ __device__
#else
#define SPLATLM_HD
#endif
