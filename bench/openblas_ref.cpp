#include "bench/openblas_ref.h"

#include <dlfcn.h>

#include <algorithm>

#include "tensor/error.h"

namespace splatlm {
namespace {
// Values of the CBLAS enums (cblas.h), so no BLAS header is needed to build.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

// (row stride, column stride) of a row-major cblas operand → (transpose flag, leading dimension).
void cblas_layout(const char* name, int64_t rows, int64_t cols, int64_t rs, int64_t cs, int* trans, int* ld) {
    if (cs == 1 && rs >= std::max<int64_t>(cols, 1)) {
        *trans = kNoTrans, *ld = int(rs);
    } else if (rs == 1 && cs >= std::max<int64_t>(rows, 1)) {
        *trans = kTrans, *ld = int(cs);
    } else {
        fail("OpenBLAS reference: operand ", name, " (", rows, "x", cols, ", strides ", rs, ",", cs,
             ") needs one unit stride");
    }
}
}  // namespace

OpenBlasRef::OpenBlasRef() {
    for (const char* name : {"libopenblas.so.0", "libopenblas.so"})
        if ((handle_ = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!handle_) {
        why_ = "libopenblas.so.0 not found (apt-get install libopenblas-dev)";
        return;
    }
    sgemm_ = reinterpret_cast<SgemmFn>(dlsym(handle_, "cblas_sgemm"));
    set_threads_ = reinterpret_cast<SetThreadsFn>(dlsym(handle_, "openblas_set_num_threads"));
    auto get_config = reinterpret_cast<const char* (*)()>(dlsym(handle_, "openblas_get_config"));
    if (get_config) config_ = get_config();
    if (!sgemm_) why_ = "libopenblas.so.0 has no cblas_sgemm";
}

OpenBlasRef::~OpenBlasRef() {
    if (handle_) dlclose(handle_);
}

void OpenBlasRef::set_threads(int threads) {
    if (set_threads_) set_threads_(threads);
}

void OpenBlasRef::gemm(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t rsa, int64_t csa,
                       const float* B, int64_t rsb, int64_t csb, float beta, float* C, int64_t rsc,
                       int64_t csc) const {
    SPLATLM_CHECK(sgemm_, "OpenBLAS reference: ", why_);
    SPLATLM_CHECK(csc == 1 && rsc >= N, "OpenBLAS reference: C must be row-major, got strides ", rsc, ",", csc);
    int ta, tb, lda, ldb;
    cblas_layout("A", M, K, rsa, csa, &ta, &lda);
    cblas_layout("B", K, N, rsb, csb, &tb, &ldb);
    sgemm_(kRowMajor, ta, tb, int(M), int(N), int(K), alpha, A, lda, B, ldb, beta, C, int(rsc));
}

}  // namespace splatlm
