#include "viz/pca.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/principal_axes.h"

namespace splatlm::viz {

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
    const std::vector<double> exact(points.begin(), points.end());  // (float → double is exact)
    const PrincipalAxes pca = principal_axes(exact, n, dim, 2);
    Plane plane;
    plane.dim = dim;
    plane.mean = pca.mean;
    for (int a = 0; a < 2; ++a) plane.axis[a] = pca.axis[a], plane.variance[a] = pca.variance[a];
    plane.residual_variance = std::max(0.0, pca.total_variance - plane.variance[0] - plane.variance[1]);
    return plane;
}

}  // namespace splatlm::viz
