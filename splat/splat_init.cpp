// splat_init.cpp — k-means++ and PCA placement of splats on each head's keys (splat_init.h).
#include "splat/splat_init.h"

#include <algorithm>
#include <cmath>

#include "autograd/graph.h"
#include "splat/splat_attention.h"
#include "tensor/error.h"
#include "tensor/rng.h"

namespace splatlm {

Points head_points(const Tensor& k, int64_t head) {
    SPLATLM_CHECK(k.dim() == 4 && head >= 0 && head < k.size(1), "head_points: need [B, H, T, D] keys and a head in range");
    const int64_t B = k.size(0), H = k.size(1), T = k.size(2), D = k.size(3);
    const std::vector<float> all = k.to(Device::CPU).to_vector();  // logical order [B, H, T, D]
    Points p{.count = B * T, .dim = D, .x = std::vector<double>(size_t(B * T * D))};
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t d = 0; d < D; ++d)
                p.x[size_t((b * T + t) * D + d)] = all[size_t(((b * H + head) * T + t) * D + d)];
    return p;
}

double squared_distance(const double* a, const double* b, int64_t dim) {
    double s = 0;
    for (int64_t d = 0; d < dim; ++d) s += (a[d] - b[d]) * (a[d] - b[d]);
    return s;
}

namespace {

int64_t nearest(const Points& centres, const double* x) {
    int64_t best = 0;
    double best_d = INFINITY;
    for (int64_t j = 0; j < centres.count; ++j) {
        const double d = squared_distance(centres.row(j), x, centres.dim);
        if (d < best_d) best_d = d, best = j;
    }
    return best;
}

std::vector<double> mean_of(const Points& p) {
    std::vector<double> m(static_cast<size_t>(p.dim), 0.0);
    for (int64_t i = 0; i < p.count; ++i)
        for (int64_t d = 0; d < p.dim; ++d) m[d] += p.row(i)[d] / double(p.count);
    return m;
}

double set_radius(const Points& p) {
    const std::vector<double> m = mean_of(p);
    double s = 0;
    for (int64_t i = 0; i < p.count; ++i) s += squared_distance(p.row(i), m.data(), p.dim);
    return std::sqrt(s / double(p.count));
}

}  // namespace

std::vector<double> cluster_radii(const Points& points, const Points& centres) {
    const double whole = set_radius(points), floor = std::max(0.01 * whole, 1e-6);
    std::vector<double> sum(size_t(centres.count), 0.0);
    std::vector<int64_t> n(size_t(centres.count), 0);
    for (int64_t i = 0; i < points.count; ++i) {
        const int64_t j = nearest(centres, points.row(i));
        sum[j] += squared_distance(points.row(i), centres.row(j), points.dim), ++n[j];
    }
    std::vector<double> r(size_t(centres.count));
    for (int64_t j = 0; j < centres.count; ++j) r[j] = n[j] ? std::max(std::sqrt(sum[j] / double(n[j])), floor) : std::max(whole, floor);
    return r;
}

Placement kmeans(const Points& points, int64_t K, uint64_t seed, int iterations) {
    SPLATLM_CHECK(K >= 1 && K <= points.count, "kmeans: need 1 <= K <= points (K = ", K, ", ", points.count, " points)");
    const int64_t N = points.count, D = points.dim;
    Rng rng(seed);
    Points c{.count = K, .dim = D, .x = std::vector<double>(size_t(K * D))};
    // k-means++: the first centre uniformly, each next one with probability ∝ squared distance to the nearest chosen.
    std::vector<double> d2(size_t(N), INFINITY);
    int64_t pick = int64_t(rng.next_u64() % uint64_t(N));
    for (int64_t j = 0; j < K; ++j) {
        std::copy_n(points.row(pick), D, &c.x[size_t(j * D)]);
        double total = 0;
        for (int64_t i = 0; i < N; ++i) total += d2[i] = std::min(d2[i], squared_distance(points.row(i), c.row(j), D));
        if (total <= 0) {  // fewer distinct points than K: repeat one (it stays put below)
            pick = int64_t(rng.next_u64() % uint64_t(N));
            continue;
        }
        double u = rng.next_double() * total;
        pick = N - 1;
        for (int64_t i = 0; i < N; ++i)
            if ((u -= d2[i]) < 0) {
                pick = i;
                break;
            }
    }
    // Lloyd: assign to the nearest centre, move each centre to its points' mean (an empty one stays).
    for (int it = 0; it < iterations; ++it) {
        std::vector<double> sum(size_t(K * D), 0.0);
        std::vector<int64_t> n(size_t(K), 0);
        for (int64_t i = 0; i < N; ++i) {
            const int64_t j = nearest(c, points.row(i));
            ++n[j];
            for (int64_t d = 0; d < D; ++d) sum[size_t(j * D + d)] += points.row(i)[d];
        }
        for (int64_t j = 0; j < K; ++j)
            if (n[j])
                for (int64_t d = 0; d < D; ++d) c.x[size_t(j * D + d)] = sum[size_t(j * D + d)] / double(n[j]);
    }
    return {c, cluster_radii(points, c)};
}

Placement pca_placement(const Points& points, int64_t K) {
    SPLATLM_CHECK(K >= 1 && points.count >= 1, "pca_placement: need K >= 1 and points");
    const int64_t D = points.dim;
    const PrincipalAxes axes = principal_axes(points.x, size_t(points.count), size_t(D), size_t((K + 3) / 4));
    const int64_t count = int64_t(axes.axis.size());
    Points c{.count = K, .dim = D, .x = std::vector<double>(size_t(K * D))};
    int64_t placed = 0;
    for (int64_t a = 0; a < count; ++a) {
        const std::vector<double>& axis = axes.axis[a];
        const int64_t here = K / count + (a < K % count ? 1 : 0);  // centres on this axis
        for (int64_t i = 0; i < here; ++i, ++placed) {
            const double offset = here == 1 ? 0.0 : -1.5 + 3.0 * double(i) / double(here - 1);
            for (int64_t d = 0; d < D; ++d)
                c.x[size_t(placed * D + d)] = axes.mean[d] + offset * std::sqrt(axes.variance[a]) * axis[d];
        }
    }
    return {c, cluster_radii(points, c)};
}

void check_splat_init(const std::string& method) {
    SPLATLM_CHECK(method == "random" || method == "kmeans" || method == "pca", "config: splat_init must be random, kmeans or pca, got '",
                  method, "'");
}

int64_t initialise_splats(GPT& model, const Indices& ids, const std::string& method, uint64_t seed) {
    check_splat_init(method);
    if (method == "random") return 0;
    NoGradGuard no_grad;
    int64_t placed = 0;
    for (int64_t layer = 0; layer < model.config().layers; ++layer) {
        auto* attn = dynamic_cast<SplatAttention*>(&model.block(layer).attention());
        if (!attn) continue;
        SPLATLM_CHECK(attn->centres.device() == Device::CPU, "splat_init: place the splats before moving the model to a GPU");
        const Tensor k = attn->head_views(model.attention_input(ids, layer)).k;
        // The live splats are placed (a fresh model's first `splats` slots); empty slots stay empty.
        const int64_t H = attn->centres.size(0), K = attn->splats(), D = attn->centres.size(2);
        const std::vector<bool> live = attn->live_mask();
        for (int64_t h = 0; h < H; ++h) {
            std::vector<int64_t> slots;
            for (int64_t j = 0; j < K; ++j)
                if (live[h * K + j]) slots.push_back(j);
            const int64_t n = int64_t(slots.size());
            SPLATLM_CHECK(k.size(0) * k.size(2) >= n, "splat_init: ", k.size(0) * k.size(2), " keys per head cannot place ", n, " splats");
            const Points keys = head_points(k, h);
            const uint64_t head_seed = rng_hash(seed, uint64_t(layer * H + h));
            const Placement p = method == "kmeans" ? kmeans(keys, n, head_seed) : pca_placement(keys, n);
            for (int64_t i = 0; i < n; ++i) {
                const int64_t j = slots[i];
                for (int64_t d = 0; d < D; ++d) attn->centres.data()[(h * K + j) * D + d] = float(p.centres.row(i)[d]);
                attn->log_scale.data()[h * K + j] = float(std::log(p.radii[i]));
                attn->log_amp.data()[h * K + j] = 0.f;
            }
        }
        ++placed;
    }
    return placed;
}

}  // namespace splatlm
