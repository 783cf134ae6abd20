// principal_axes.h — the directions of largest spread of a cloud of points (PCA), for the splats'
// PCA placement and mitosis (splat/splat_init.h, splat/splat_lifecycle.h) and the pictures' viewing
// plane (viz/pca.h): one computation for all three.
//
// Power iteration on the D×D covariance (1/n normalised) from a fixed start, each axis found
// orthogonal to the earlier ones (Gram–Schmidt after every product), so the same points always give
// the same axes. Degenerate clouds never fail: when no variance is left off the axes found so far
// (one point, identical points, a line), the axis is a fixed unit vector orthogonal to them and its
// variance is 0. Tests: ./bin/tests "[pca]".
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace splatlm {

struct PrincipalAxes {
    std::vector<double> mean;               // [dim]
    std::vector<std::vector<double>> axis;  // orthonormal, largest variance first, [dim] each
    std::vector<double> variance;           // of the points along each axis (0 for a degenerate one)
    double total_variance = 0;              // trace of the covariance
};

// The top min(count, dim) axes of n rows of dim numbers (row-major); n ≥ 1, dim ≥ 1, else splatlm::Error.
PrincipalAxes principal_axes(std::span<const double> points, std::size_t n, std::size_t dim, std::size_t count);

}  // namespace splatlm
