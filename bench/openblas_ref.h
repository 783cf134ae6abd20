// openblas_ref.h — OpenBLAS's cblas_sgemm as a yardstick for the GEMM benchmark.
// Loaded at run time with dlopen, so neither the library nor the CLI links OpenBLAS; when it is
// not installed, available() is false and why() says how to get it.
#pragma once
#include <cstdint>
#include <string>

namespace splatlm {

class OpenBlasRef {
  public:
    OpenBlasRef();  // tries libopenblas.so.0, then libopenblas.so
    ~OpenBlasRef();
    OpenBlasRef(const OpenBlasRef&) = delete;
    OpenBlasRef& operator=(const OpenBlasRef&) = delete;

    bool available() const { return sgemm_ != nullptr; }
    const std::string& why() const { return why_; }        // reason it is unavailable
    const std::string& config() const { return config_; }  // openblas_get_config(): version, kernel
    void set_threads(int threads);

    // Same arguments and meaning as splatlm::gemm; C must have unit column stride (row-major),
    // A and B one unit stride each (either orientation).
    void gemm(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t rsa, int64_t csa,
              const float* B, int64_t rsb, int64_t csb, float beta, float* C, int64_t rsc, int64_t csc) const;

  private:
    using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                             int);
    using SetThreadsFn = void (*)(int);
    void* handle_ = nullptr;
    SgemmFn sgemm_ = nullptr;
    SetThreadsFn set_threads_ = nullptr;
    std::string why_, config_;
};

}  // namespace splatlm
