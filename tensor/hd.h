// hd.h — SPLATLM_HD marks functions that run on both sides: __host__ __device__ under nvcc, nothing
// for the plain C++ compiler. Headers using it hold code shared by the CPU and the CUDA kernels.
#pragma once

#ifdef __CUDACC__
#define SPLATLM_HD __host__ __device__
#else
#define SPLATLM_HD
#endif

// SPLATLM_SIMD(clauses) is `#pragma omp simd clauses` for the CPU compiler and nothing under nvcc, so
// shared loops vectorise on the host without the device compiler seeing OpenMP.
#define SPLATLM_PRAGMA(x) _Pragma(#x)
#if defined(__CUDACC__)
#define SPLATLM_SIMD(...)
#else
#define SPLATLM_SIMD(...) SPLATLM_PRAGMA(omp simd __VA_ARGS__)
#endif
