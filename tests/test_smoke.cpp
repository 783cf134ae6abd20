#include <catch2/catch.hpp>
#include "tensor/tensor.h"
using namespace splatlm;
TEST_CASE("tensor basics") {
    Rng rng(1);
    Tensor t = Tensor::randn({2, 3}, rng);
    REQUIRE(t.numel() == 6);
}
