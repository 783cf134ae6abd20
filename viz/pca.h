// pca.h — the best-fitting plane through a cloud of points: its mean and first two principal axes.
//
// Pictures of high-dimensional vectors (a head's keys and queries live in R^D, D = 32 say) need a
// 2-D view. The plane through the points' mean spanned by the two directions of largest variance
// keeps as much of their spread as any plane can: the first two of tensor/principal_axes.h (the
// same computation that places splats along their keys' axes), degenerate clouds included (an axis
// with no variance left is a fixed unit vector orthogonal to the first, variance 0).
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace splatlm::viz {

struct Plane {
    std::size_t dim = 0;
    std::vector<double> mean;          // [dim]
    std::vector<double> axis[2];       // orthonormal, [dim] each
    double variance[2] = {0, 0};       // of the points along each axis (0 for a degenerate axis)
    double residual_variance = 0;      // the rest of their total variance, off the plane

    // Plane coordinates of a point x (dim floats): ((x − mean)·axis0, (x − mean)·axis1).
    void project(std::span<const float> x, double& u, double& v) const;
    // Squared distance from x to the plane (the part of x − mean the picture cannot show).
    double off_plane_sq(std::span<const float> x) const;
};

// points: n rows of dim floats, row-major; n ≥ 1, dim ≥ 2. Throws splatlm::Error otherwise.
Plane principal_plane(std::span<const float> points, std::size_t n, std::size_t dim);

}  // namespace splatlm::viz
