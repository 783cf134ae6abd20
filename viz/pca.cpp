#include "viz/pca.h"

#include <cmath>

#include "tensor/error.h"

namespace splatlm::viz {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// Removes from v its components along the given orthonormal axes; returns the remaining length.
double orthogonalise(std::vector<double>& v, const std::vector<std::vector<double>>& axes) {
    for (const auto& a : axes) {
        const double c = dot(v, a);
        for (std::size_t i = 0; i < v.size(); ++i) v[i] -= c * a[i];
    }
    return std::sqrt(dot(v, v));
}

}  // namespace

void Plane::project(std::span<const float> x, double& u, double& v) const {
    u = v = 0;
    for (std::size_t i = 0; i < dim; ++i) {
        const double d = double(x[i]) - mean[i];
        u += d * axis[0][i];
        v += d * axis[1][i];
    }
}

double Plane::off_plane_sq(std::span<const float> x) const {
    double all = 0, u = 0, v = 0;
    for (std::size_t i = 0; i < dim; ++i) all += (double(x[i]) - mean[i]) * (double(x[i]) - mean[i]);
    project(x, u, v);
    return std::max(0.0, all - u * u - v * v);
}

Plane principal_plane(std::span<const float> points, std::size_t n, std::size_t dim) {
    SPLATLM_CHECK(n >= 1 && dim >= 2, "principal_plane: need at least one point in 2+ dimensions, got ", n,
                  " points of dimension ", dim);
    SPLATLM_CHECK(points.size() == n * dim, "principal_plane: ", points.size(), " numbers are not ", n, " x ", dim);
    Plane plane;
    plane.dim = dim;
    plane.mean.assign(dim, 0.0);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t i = 0; i < dim; ++i) plane.mean[i] += points[r * dim + i] / double(n);
    std::vector<double> cov(dim * dim, 0.0);  // covariance, 1/n normalised
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t i = 0; i < dim; ++i) {
            const double di = points[r * dim + i] - plane.mean[i];
            for (std::size_t j = 0; j < dim; ++j) cov[i * dim + j] += di * (points[r * dim + j] - plane.mean[j]) / n;
        }
    double total = 0;
    for (std::size_t i = 0; i < dim; ++i) total += cov[i * dim + i];
    std::vector<std::vector<double>> found;
    for (int a = 0; a < 2; ++a) {
        // Fixed start with every coordinate non-zero and unequal, so it is unlikely to be
        // orthogonal to the top eigenvector; 300 iterations are plenty for a picture.
        std::vector<double> v(dim), w(dim);
        for (std::size_t i = 0; i < dim; ++i) v[i] = 1.0 + 0.1 * double(i);
        double lambda = 0;
        bool degenerate = total <= 1e-12 || orthogonalise(v, found) == 0;
        for (int it = 0; it < 300 && !degenerate; ++it) {
            const double len = std::sqrt(dot(v, v));
            for (auto& x : v) x /= len;
            for (std::size_t i = 0; i < dim; ++i) {
                w[i] = 0;
                for (std::size_t j = 0; j < dim; ++j) w[i] += cov[i * dim + j] * v[j];
            }
            lambda = dot(v, w);
            v = w;
            if (orthogonalise(v, found) <= 1e-12 * total) degenerate = true;  // nothing left off the found axes
        }
        if (degenerate) {  // a fixed unit vector orthogonal to the axes found so far
            lambda = 0;
            for (std::size_t e = 0; e < dim; ++e) {
                v.assign(dim, 0.0);
                v[e] = 1.0;
                if (orthogonalise(v, found) > 0.5) break;
            }
        }
        const double len = std::sqrt(dot(v, v));
        for (auto& x : v) x /= len;
        found.push_back(v);
        plane.axis[a] = v;
        plane.variance[a] = std::max(0.0, lambda);
    }
    plane.residual_variance = std::max(0.0, total - plane.variance[0] - plane.variance[1]);
    return plane;
}

}  // namespace splatlm::viz
