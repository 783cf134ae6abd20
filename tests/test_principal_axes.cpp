// tensor/principal_axes.h, the one PCA behind splat placement, mitosis and the pictures' plane:
// axes of a known anisotropic cloud in order, orthonormal, with their variances; a degenerate cloud.
// (The pictures' plane is tested in test_viz_splat.cpp, PCA placement in test_splat_init.cpp.)
// Run: ./bin/tests "[pca]"
#include <cmath>

#include "tensor/principal_axes.h"
#include "tests/helpers.h"

using namespace splatlm;

TEST_CASE("principal axes of a rotated box: in order of spread, orthonormal, variances exact", "[pca]") {
    // Points ±a_i along three orthonormal directions of R^4 (a rotation in the first two coordinates),
    // one pair per direction around the mean m: variance along e_i is 2·a_i² / 6.
    const double c = std::cos(0.3), s = std::sin(0.3), a[3] = {3, 2, 0.5};
    const double e[3][4] = {{c, s, 0, 0}, {-s, c, 0, 0}, {0, 0, 0, 1}}, m[4] = {1, -2, 0.5, 4};
    std::vector<double> pts;
    for (int i = 0; i < 3; ++i)
        for (double sign : {1.0, -1.0})
            for (int d = 0; d < 4; ++d) pts.push_back(m[d] + sign * a[i] * e[i][d]);
    const PrincipalAxes p = principal_axes(pts, 6, 4, 5);
    REQUIRE(p.axis.size() == 4);  // min(count, dim)
    for (int d = 0; d < 4; ++d) REQUIRE(p.mean[d] == Approx(m[d]));
    for (int i = 0; i < 3; ++i) {
        double along = 0;
        for (int d = 0; d < 4; ++d) along += p.axis[i][d] * e[i][d];
        REQUIRE(std::abs(along) == Approx(1.0).epsilon(1e-9));
        REQUIRE(p.variance[i] == Approx(a[i] * a[i] / 3).epsilon(1e-9));
    }
    REQUIRE(p.variance[3] == Approx(0.0).margin(1e-9));  // nothing left: degenerate, still a unit vector
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
            double dot = 0;
            for (int d = 0; d < 4; ++d) dot += p.axis[i][d] * p.axis[j][d];
            REQUIRE(dot == Approx(i == j ? 1.0 : 0.0).margin(1e-9));
        }
    REQUIRE(p.total_variance == Approx((9 + 4 + 0.25) / 3));
    REQUIRE_THROWS_AS(principal_axes({}, 0, 4, 1), Error);
}
