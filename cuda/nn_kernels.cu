// nn_kernels.cu — the fused row kernels. Row kernels (softmax, layer norm, cross-entropy) give each
// row to one block of kThreads: thread t reads columns t, t + 256, ... (coalesced), and the row's
// totals come from block_reduce, whose fixed order makes every result deterministic. Elementwise
// kernels (embedding, cross-entropy backward) give each output element one thread. The formulas are
// tensor/nn_math.h, shared with the CPU kernels and run by the host tests.
#include <vector>

#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/device_buffer.h"
#include "cuda/nn_kernels.h"
#include "tensor/id_runs.h"
#include "tensor/nn_math.h"
#include "tensor/reduce_math.h"

namespace splatlm::cuda {

namespace {

int row_blocks(int64_t rows) { return static_cast<int>(std::min<int64_t>(rows, 1 << 16)); }

struct DoublePair {
    double a, b;
    __device__ static DoublePair merge(DoublePair x, DoublePair y) { return {x.a + y.a, x.b + y.b}; }
};

// Each row's log Σ exp, every thread of the block gets it.
__device__ float row_logsumexp(const float* xr, int64_t C) {
    LogSumExp acc = LogSumExp::empty();
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) acc = acc.add(xr[c]);
    return block_reduce<LogSumExp>(acc).value();
}

// ---- softmax / log-softmax: y = exp(x − lse) or x − lse;  backward side by side ----
__global__ void softmax_kernel(int64_t rows, int64_t C, bool log, float* out, const float* x) {
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * C;
        const float lse = row_logsumexp(xr, C);
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
            out[r * C + c] = log ? xr[c] - lse : exp_poly(xr[c] - lse);
    }
}

__global__ void softmax_backward_kernel(int64_t rows, int64_t C, bool log, float* dx, const float* y, const float* g) {
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *yr = y + r * C, *gr = g + r * C;
        double part = 0;  // Σ g⊙y (softmax) or Σ g (log-softmax), in double as on the CPU
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) part += log ? double(gr[c]) : double(yr[c]) * gr[c];
        const float total = static_cast<float>(block_reduce<SumReducer>(part));
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x)
            dx[r * C + c] = log ? log_softmax_grad(yr[c], gr[c], total) : softmax_grad(yr[c], gr[c], total);
    }
}

// ---- layer norm: mean and Σ(x − μ)² in double (two passes over the row, as on the CPU) ----
__global__ void layernorm_kernel(int64_t rows, int64_t C, float eps, float* y, float* mean, float* rstd,
                                 const float* x, const float* w, const float* b) {
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * C;
        double part = 0;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) part += xr[c];
        const double m = block_reduce<SumReducer>(part) / C;
        part = 0;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) part += (xr[c] - m) * (xr[c] - m);
        const float s = layernorm_rstd(block_reduce<SumReducer>(part), C, eps);
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) y[r * C + c] = layernorm_y(xr[c], float(m), s, w[c], b[c]);
        if (threadIdx.x == 0) mean[r] = float(m), rstd[r] = s;
    }
}

__global__ void layernorm_dx_kernel(int64_t rows, int64_t C, float* dx, const float* x, const float* w,
                                    const float* mean, const float* rstd, const float* g) {
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * C, *gr = g + r * C;
        DoublePair part{0, 0};  // Σ dn, Σ dn·n
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            const float n = layernorm_normalized(xr[c], mean[r], rstd[r]), dn = gr[c] * w[c];
            part.a += dn;
            part.b += dn * n;
        }
        const DoublePair total = block_reduce<DoublePair>(part);
        const float mean_dn = float(total.a / C), mean_dn_n = float(total.b / C);
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
            const float n = layernorm_normalized(xr[c], mean[r], rstd[r]), dn = gr[c] * w[c];
            dx[r * C + c] = layernorm_dx(dn, n, rstd[r], mean_dn, mean_dn_n);
        }
    }
}

// dweight, dbias: column sums over rows, deterministically in two steps. First every (chunk of
// kChunkRows rows, column) gets one thread summing its rows in order; then one thread per column
// adds the chunks in order.
constexpr int64_t kChunkRows = 256;

__global__ void layernorm_param_partials_kernel(int64_t rows, int64_t C, int64_t chunks, LayerNormParamSums* partial,
                                                const float* x, const float* mean, const float* rstd, const float* g) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < chunks * C; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t chunk = i / C, c = i % C, r0 = chunk * kChunkRows;
        partial[i] = layernorm_param_sums(x, g, mean, rstd, C, c, r0, r0 + kChunkRows < rows ? r0 + kChunkRows : rows);
    }
}

__global__ void layernorm_param_total_kernel(int64_t C, int64_t chunks, float* dweight, float* dbias,
                                             const LayerNormParamSums* partial) {
    for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < C; c += int64_t(gridDim.x) * blockDim.x) {
        double sw = 0, sb = 0;
        for (int64_t k = 0; k < chunks; ++k) sw += partial[k * C + c].dweight, sb += partial[k * C + c].dbias;
        dweight[c] = float(sw), dbias[c] = float(sb);
    }
}

// ---- embedding: out[r] = table[id[r]];  dtable[v] = Σ_{r: id[r] = v} g[r] (one thread per (run, column)) ----
__global__ void embedding_kernel(int64_t n, int64_t C, float* out, const float* table, const int32_t* ids) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n * C; i += int64_t(gridDim.x) * blockDim.x)
        out[i] = table[int64_t(ids[i / C]) * C + i % C];
}

__global__ void embedding_backward_kernel(int64_t runs, int64_t C, float* dtable, const float* g, const int32_t* rows,
                                          const int32_t* run_id, const int64_t* run_start) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < runs * C; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t run = i / C, c = i % C;
        dtable[int64_t(run_id[run]) * C + c] = embedding_grad_run(rows, run_start[run], run_start[run + 1], g, C, c);
    }
}

// ---- cross-entropy: loss_r = lse(x_r) − x_r[t_r];  dx_r = (softmax(x_r) − onehot(t_r)) · scale ----
__global__ void cross_entropy_kernel(int64_t N, int64_t V, float* lse, double* row_loss, const float* logits,
                                     const int32_t* targets, int32_t ignore_index) {
    for (int64_t r = blockIdx.x; r < N; r += gridDim.x) {
        const float l = row_logsumexp(logits + r * V, V);
        if (threadIdx.x == 0) {
            lse[r] = l;
            row_loss[r] = targets[r] == ignore_index ? 0.0 : double(l) - logits[r * V + targets[r]];
        }
    }
}

__global__ void cross_entropy_backward_kernel(int64_t N, int64_t V, float* dx, const float* logits, const float* lse,
                                              const int32_t* targets, int32_t ignore_index, float scale) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < N * V; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t r = i / V, t = targets[r];
        dx[i] = t == ignore_index ? 0.f : cross_entropy_grad(logits[i], lse[r], scale, i % V == t);
    }
}

}  // namespace

void softmax(int64_t rows, int64_t C, bool log, float* out, const float* x) {
    if (rows == 0) return;  // a launch of zero blocks is an error
    softmax_kernel<<<row_blocks(rows), kThreads>>>(rows, C, log, out, x);
    CUDA_CHECK(cudaGetLastError());
}

void softmax_backward(int64_t rows, int64_t C, bool log, float* dx, const float* y, const float* g) {
    if (rows == 0) return;
    softmax_backward_kernel<<<row_blocks(rows), kThreads>>>(rows, C, log, dx, y, g);
    CUDA_CHECK(cudaGetLastError());
}

void layernorm(int64_t rows, int64_t C, float eps, float* y, float* mean, float* rstd, const float* x, const float* w,
               const float* b) {
    if (rows == 0) return;
    layernorm_kernel<<<row_blocks(rows), kThreads>>>(rows, C, eps, y, mean, rstd, x, w, b);
    CUDA_CHECK(cudaGetLastError());
}

void layernorm_backward(int64_t rows, int64_t C, float* dx, float* dweight, float* dbias, const float* x,
                        const float* w, const float* mean, const float* rstd, const float* g) {
    if (rows > 0) {
        layernorm_dx_kernel<<<row_blocks(rows), kThreads>>>(rows, C, dx, x, w, mean, rstd, g);
        CUDA_CHECK(cudaGetLastError());
    }
    const int64_t chunks = (rows + kChunkRows - 1) / kChunkRows;
    DeviceBuffer<LayerNormParamSums> partial(chunks * C);
    if (chunks > 0) {
        layernorm_param_partials_kernel<<<grid_stride_blocks(chunks * C), kThreads>>>(rows, C, chunks, partial.data(), x,
                                                                                      mean, rstd, g);
        CUDA_CHECK(cudaGetLastError());
    }
    layernorm_param_total_kernel<<<grid_stride_blocks(C), kThreads>>>(C, chunks, dweight, dbias, partial.data());
    CUDA_CHECK(cudaGetLastError());
}

void embedding(int64_t n, int64_t C, float* out, const float* table, const int32_t* host_ids) {
    if (n * C == 0) return;
    const DeviceBuffer<int32_t> ids(std::vector<int32_t>(host_ids, host_ids + n));
    embedding_kernel<<<grid_stride_blocks(n * C), kThreads>>>(n, C, out, table, ids.data());
    CUDA_CHECK(cudaGetLastError());
}

void embedding_backward(int64_t n, int64_t C, float* dtable, const float* g, const int32_t* host_ids) {
    if (n * C == 0) return;
    const IdRuns runs = id_runs(std::vector<int32_t>(host_ids, host_ids + n));
    const int64_t count = static_cast<int64_t>(runs.id.size());
    const DeviceBuffer<int32_t> rows(runs.rows), run_id(runs.id);
    const DeviceBuffer<int64_t> run_start(runs.start);
    embedding_backward_kernel<<<grid_stride_blocks(count * C), kThreads>>>(count, C, dtable, g, rows.data(),
                                                                          run_id.data(), run_start.data());
    CUDA_CHECK(cudaGetLastError());
}

double cross_entropy(int64_t N, int64_t V, float* lse, const float* logits, const int32_t* host_targets,
                     int32_t ignore_index) {
    if (N == 0) return 0.0;
    const DeviceBuffer<int32_t> targets(std::vector<int32_t>(host_targets, host_targets + N));
    DeviceBuffer<double> row_loss(N);
    cross_entropy_kernel<<<row_blocks(N), kThreads>>>(N, V, lse, row_loss.data(), logits, targets.data(), ignore_index);
    CUDA_CHECK(cudaGetLastError());
    double total = 0;
    for (double l : row_loss.to_host()) total += l;  // rows in order: the same total on every run
    return total;
}

void cross_entropy_backward(int64_t N, int64_t V, float* dx, const float* logits, const float* lse,
                            const int32_t* host_targets, int32_t ignore_index, float scale) {
    if (N * V == 0) return;
    const DeviceBuffer<int32_t> targets(std::vector<int32_t>(host_targets, host_targets + N));
    cross_entropy_backward_kernel<<<grid_stride_blocks(N * V), kThreads>>>(N, V, dx, logits, lse, targets.data(),
                                                                          ignore_index, scale);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace splatlm::cuda
