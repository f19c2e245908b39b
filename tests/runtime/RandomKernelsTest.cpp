// random_uniform and random_normal: the shape asked for, values in range with the moments asked
// for, repeatable with a seed.
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using mil::Builder;
using mil::Value;

namespace {

at::Tensor draw(const std::string& op, mil::OperandList params, std::vector<int64_t> shape) {
    return test::runOp({at::zeros({1})}, [&](Builder& b, const std::vector<Value*>&) {
        params.push_back({"shape", shape});
        return b.add(op, params);
    });
}

}  // namespace

TEST_CASE("random_uniform draws from low (included) to high (excluded), repeatably with a seed") {
    const at::Tensor a = draw("random_uniform", {{"low", -2.0}, {"high", 3.0}, {"seed", int64_t{5}}}, {100, 50});
    CHECK(a.sizes().vec() == std::vector<int64_t>{100, 50});
    CHECK((a.scalar_type() == at::kFloat));
    CHECK(a.min().item<float>() >= -2.0f);
    CHECK(a.max().item<float>() < 3.0f);
    CHECK(std::abs(a.mean().item<double>() - 0.5) < 0.1);  // mean (low + high) / 2, 5000 samples
    CHECK(at::equal(a, draw("random_uniform", {{"low", -2.0}, {"high", 3.0}, {"seed", int64_t{5}}}, {100, 50})));
    CHECK_FALSE(at::equal(a, draw("random_uniform", {{"low", -2.0}, {"high", 3.0}, {"seed", int64_t{6}}}, {100, 50})));
    CHECK_THROWS_WITH_AS(draw("random_uniform", {{"low", 2.0}, {"high", 1.0}}, {3}), doctest::Contains("low"),
                         std::exception);
}

TEST_CASE("random_normal draws N(mean, stddev^2), repeatably with a seed") {
    const at::Tensor a = draw("random_normal", {{"mean", 1.0}, {"stddev", 2.0}, {"seed", int64_t{3}}}, {200, 100});
    CHECK(a.sizes().vec() == std::vector<int64_t>{200, 100});
    CHECK(std::abs(a.mean().item<double>() - 1.0) < 0.1);  // 20000 samples: standard error 0.014
    CHECK(std::abs(a.std().item<double>() - 2.0) < 0.1);
    CHECK(at::equal(a, draw("random_normal", {{"mean", 1.0}, {"stddev", 2.0}, {"seed", int64_t{3}}}, {200, 100})));
    // Unseeded (-1, the default): a new draw each run.
    CHECK_FALSE(at::equal(draw("random_normal", {}, {64}), draw("random_normal", {}, {64})));
}

TEST_CASE("random_bernoulli draws ones with probability prob, repeatably with a seed") {
    const at::Tensor a = draw("random_bernoulli", {{"prob", 0.3}, {"seed", int64_t{9}}}, {100, 100});
    CHECK(a.sizes().vec() == std::vector<int64_t>{100, 100});
    CHECK(at::logical_or(a == 0, a == 1).all().item<bool>());
    CHECK(std::abs(a.mean().item<double>() - 0.3) < 0.03);  // 10000 draws: standard error 0.005
    CHECK(at::equal(a, draw("random_bernoulli", {{"prob", 0.3}, {"seed", int64_t{9}}}, {100, 100})));
    CHECK_THROWS_WITH_AS(draw("random_bernoulli", {{"prob", 1.5}}, {3}), doctest::Contains("prob"), std::exception);
}
