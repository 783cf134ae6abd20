// Bad input never crashes or silently computes: it throws splatlm::Error with one line that names
// the op and the shapes.
#include "tests/helpers.h"

using namespace splatlm;
using namespace splatlm::test;
using Catch::Contains;

TEST_CASE("shape mismatches name the op and both shapes", "[errors]") {
    Tensor a = random({2, 3}, 1), b = random({4, 3}, 2);
    REQUIRE_THROWS_AS(a + b, Error);
    REQUIRE_THROWS_WITH(a + b, Contains("Add") && Contains("[2, 3]") && Contains("[4, 3]"));
    REQUIRE_THROWS_WITH(matmul(a, b), Contains("matmul") && Contains("[2, 3]") && Contains("[4, 3]"));
    REQUIRE_THROWS_WITH(matmul(random({3}, 3), b), Contains("matmul") && Contains("rank"));
    REQUIRE_THROWS_WITH(matmul(random({2, 2, 3}, 3), random({3, 3, 2}, 4)), Contains("matmul") && Contains("batch"));
    REQUIRE_THROWS_WITH(reshape(a, {4, 2}), Contains("reshape") && Contains("[2, 3]") && Contains("[4, 2]"));
    REQUIRE_THROWS_WITH(reshape(a, {-1, -1}), Contains("more than one -1"));
    REQUIRE_THROWS_WITH(expand(a, {3, 3}), Contains("expand") && Contains("[2, 3]"));
    REQUIRE_THROWS_WITH(layernorm(a, random({2}, 5), random({3}, 6)), Contains("layernorm") && Contains("[2]"));
}

TEST_CASE("out-of-range indices and axes are rejected", "[errors]") {
    Tensor a = random({2, 3}, 7);
    REQUIRE_THROWS_WITH(sum(a, 2), Contains("sum") && Contains("axis 2"));
    REQUIRE_THROWS_WITH(max(a, -3), Contains("max") && Contains("axis -3"));
    REQUIRE_THROWS_WITH(slice(a, 1, 2, 5), Contains("slice") && Contains("[2, 3]"));
    REQUIRE_THROWS_WITH(permute(a, {0, 0}), Contains("permute") && Contains("repeated"));
    REQUIRE_THROWS_WITH(a.at({2, 0}), Contains("at") && Contains("index 2"));
    REQUIRE_THROWS_WITH(embedding(random({5, 4}, 8), Indices{{2}, {1, 5}}), Contains("embedding") && Contains("id 5"));
    REQUIRE_THROWS_WITH(embedding(random({5, 4}, 8), Indices{{2}, {-1, 0}}), Contains("id -1"));
    REQUIRE_THROWS_WITH(cross_entropy(random({2, 4}, 9), Indices{{2}, {0, 4}}),
                        Contains("cross_entropy") && Contains("target 4") && Contains("[2, 4]"));
    REQUIRE_THROWS_WITH(cross_entropy(random({2, 4}, 9), Indices{{3}, {0, 1, 2}}), Contains("3 targets"));
    REQUIRE_THROWS_WITH(Tensor::from_vector({1, 2, 3}, {2, 2}), Contains("from_vector"));
    REQUIRE_THROWS_WITH(Tensor::empty({2, -1}), Contains("negative"));
    REQUIRE_THROWS_WITH(random({2, 2}, 1).item(), Contains("item"));
    REQUIRE_THROWS_WITH(dropout(a, 1.f, *std::make_unique<Rng>(1)), Contains("dropout"));
}
