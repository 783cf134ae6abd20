// splat_init.h — splat centres and scales placed from the data instead of at random
// (config key `splat_init`, train/splat_adaptation.h runs it on a fresh model before step 1).
//
//   kmeans: k-means++ seeding (seeded), then Lloyd iterations, on each head's keys of a batch;
//           centre j = cluster mean, scale s_j = the cluster radius √(mean ‖k − μ_j‖²);
//   pca:    centres on the keys' top principal axes (mean + o·√λ_a·u_a, offsets evenly in
//           [−1.5, 1.5] standard deviations, about 4 centres per axis), scale = the radius of each
//           centre's share of the keys (as for k-means).
// Amplitudes are reset to 1 (log a = 0); other parameters (decay, level weights, gates) are kept.
// Layers are placed in order, each on the keys its earlier (already placed) layers produce.
// Deterministic for a seed and a batch. Tests: `./bin/tests "[splat_init]"`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nn/gpt.h"
#include "tensor/principal_axes.h"

namespace splatlm {

// N points of dimension D, row-major, in float64.
struct Points {
    int64_t count = 0, dim = 0;
    std::vector<double> x;
    const double* row(int64_t i) const { return &x[size_t(i * dim)]; }
};

// The keys of head h of k [B, H, T, D] (any strides, any device): B·T points.
Points head_points(const Tensor& k, int64_t head);

double squared_distance(const double* a, const double* b, int64_t dim);

struct Placement {
    Points centres;              // K points
    std::vector<double> radii;   // K scales
};

// k-means++ (seeded) followed by `iterations` Lloyd steps; K ≤ points.count.
Placement kmeans(const Points& points, int64_t K, uint64_t seed, int iterations = 25);
// K centres along the top ⌈K/4⌉ principal axes of the points (tensor/principal_axes.h: no seed, the
// same points give the same axes).
Placement pca_placement(const Points& points, int64_t K);
// Per centre, √(mean squared distance of the points nearest to it), at least 1% of the whole set's
// radius √(mean ‖x − mean‖²); a centre no point is nearest to gets the whole set's radius.
std::vector<double> cluster_radii(const Points& points, const Points& centres);

// The known methods: random (leave the model as built), kmeans, pca. Throws on another name.
void check_splat_init(const std::string& method);
// Places every splat layer's centres, scales and amplitudes from the keys of `ids` [B, T] with
// B·T ≥ splats. Returns the number of layers placed (0 for `random` or a model without splats).
int64_t initialise_splats(GPT& model, const Indices& ids, const std::string& method, uint64_t seed);

}  // namespace splatlm
