#include "tensor/principal_axes.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace splatlm {

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

PrincipalAxes principal_axes(std::span<const double> points, std::size_t n, std::size_t dim, std::size_t count) {
    SPLATLM_CHECK(n >= 1 && dim >= 1, "principal_axes: need at least one point of dimension 1 or more, got ", n,
                  " points of dimension ", dim);
    SPLATLM_CHECK(points.size() == n * dim, "principal_axes: ", points.size(), " numbers are not ", n, " x ", dim);
    PrincipalAxes out;
    out.mean.assign(dim, 0.0);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t i = 0; i < dim; ++i) out.mean[i] += points[r * dim + i] / double(n);
    std::vector<double> cov(dim * dim, 0.0);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t i = 0; i < dim; ++i) {
            const double di = points[r * dim + i] - out.mean[i];
            for (std::size_t j = 0; j < dim; ++j) cov[i * dim + j] += di * (points[r * dim + j] - out.mean[j]) / n;
        }
    for (std::size_t i = 0; i < dim; ++i) out.total_variance += cov[i * dim + i];
    const double total = out.total_variance;
    for (std::size_t a = 0; a < std::min(count, dim); ++a) {
        // Fixed start with every coordinate non-zero and unequal, so it is unlikely to be orthogonal
        // to the top eigenvector; 300 iterations are plenty for placements and pictures.
        std::vector<double> v(dim), w(dim);
        for (std::size_t i = 0; i < dim; ++i) v[i] = 1.0 + 0.1 * double(i);
        double lambda = 0;
        bool degenerate = total <= 1e-12 || orthogonalise(v, out.axis) == 0;
        for (int it = 0; it < 300 && !degenerate; ++it) {
            const double len = std::sqrt(dot(v, v));
            for (auto& x : v) x /= len;
            for (std::size_t i = 0; i < dim; ++i) {
                w[i] = 0;
                for (std::size_t j = 0; j < dim; ++j) w[i] += cov[i * dim + j] * v[j];
            }
            lambda = dot(v, w);  // the Rayleigh quotient
            v = w;
            if (orthogonalise(v, out.axis) <= 1e-12 * total) degenerate = true;  // nothing left off the found axes
        }
        if (degenerate) {  // a fixed unit vector orthogonal to the axes found so far
            lambda = 0;
            for (std::size_t e = 0; e < dim; ++e) {
                v.assign(dim, 0.0);
                v[e] = 1.0;
                if (orthogonalise(v, out.axis) > 0.5) break;
            }
        }
        const double len = std::sqrt(dot(v, v));
        for (auto& x : v) x /= len;
        out.axis.push_back(v);
        out.variance.push_back(std::max(0.0, lambda));
    }
    return out;
}

}  // namespace splatlm
