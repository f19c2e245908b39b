// Elementwise kernels (core/runtime/kernels/Elementwise.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

/// A bool tensor from 0/1 values (ATen cannot make one from a bool list directly).
at::Tensor bools(std::vector<int> v) { return at::tensor(v, at::kInt).to(at::kBool); }

at::Tensor binary(const std::string& op, const at::Tensor& x, const at::Tensor& y) {
    return runOp({x, y}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add(op, {{"x", in[0]}, {"y", in[1]}});
    });
}

at::Tensor unary(const std::string& op, const at::Tensor& x, mil::OperandList params = {}) {
    return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        mil::OperandList ops{{"x", in[0]}};
        ops.insert(ops.end(), params.begin(), params.end());
        return b.add(op, ops);
    });
}

}  // namespace

TEST_CASE("binary arithmetic broadcasts, integer division floors, mod takes the divisor's sign") {
    const at::Tensor a = at::randn({2, 1, 4}), c = at::randn({3, 1});
    CHECK(close(binary("add", a, c), a + c));
    CHECK(close(binary("sub", a, c), a - c));
    CHECK(close(binary("mul", a, c), a * c));
    CHECK(close(binary("real_div", a, c), a / c));
    CHECK(close(binary("maximum", a, c), at::maximum(a, c)));
    const at::Tensor base = at::rand({3}) + 0.5, exponent = at::tensor({2.0f, 0.5f, -1.0f});
    CHECK(close(binary("pow", base, exponent), at::pow(base, exponent)));
    const at::Tensor i = at::tensor({7, -7, 7, -7}, at::kInt), j = at::tensor({2, 2, -2, -2}, at::kInt);
    CHECK(at::equal(binary("floor_div", i, j), at::tensor({3, -4, -4, 3}, at::kInt)));
    CHECK(at::equal(binary("mod", i, j), at::tensor({1, 1, -1, -1}, at::kInt)));
    CHECK(at::equal(binary("real_div", i, j), at::tensor({3, -3, -3, 3}, at::kInt)));  // truncated to int32
    const at::Tensor f = at::tensor({7.5f, -7.5f}), g = at::tensor({2.0f, 2.0f});
    CHECK(at::equal(binary("floor_div", f, g), at::tensor({3.0f, -4.0f})));
    CHECK(at::equal(binary("mod", f, g), at::tensor({1.5f, 0.5f})));
}

TEST_CASE("comparisons and logic give bools") {
    const at::Tensor a = at::tensor({1.0f, 2.0f, 3.0f}), c = at::tensor({2.0f});
    CHECK(at::equal(binary("less", a, c), bools({1, 0, 0})));
    CHECK(at::equal(binary("greater_equal", a, c), bools({0, 1, 1})));
    CHECK(at::equal(binary("not_equal", a, c), bools({1, 0, 1})));
    const at::Tensor p = bools({1, 1, 0}), q = bools({1, 0, 0});
    CHECK(at::equal(binary("logical_xor", p, q), bools({0, 1, 0})));
    CHECK(at::equal(unary("logical_not", p), bools({0, 0, 1})));
}

TEST_CASE("unary ops, epsilon ops, clip, threshold, cast, select") {
    const at::Tensor x = at::rand({5}) + 0.1;
    CHECK(close(unary("sqrt", x), at::sqrt(x)));
    CHECK(close(unary("rsqrt", x), at::rsqrt(x + 1e-12)));
    CHECK(close(unary("rsqrt", x, {{"epsilon", 0.5}}), at::rsqrt(x + 0.5)));
    CHECK(close(unary("log", x), at::log(x)));
    CHECK(close(unary("inverse", x), at::reciprocal(x + 1e-4)));
    CHECK(at::equal(unary("round", at::tensor({0.5f, 1.5f, 2.5f, -0.5f})), at::tensor({0.0f, 2.0f, 2.0f, -0.0f})));
    CHECK(at::equal(unary("square", at::tensor({-3, 4}, at::kInt)), at::tensor({9, 16}, at::kInt)));
    CHECK(at::equal(unary("sign", at::tensor({-3.0f, 0.0f, 2.0f})), at::tensor({-1.0f, 0.0f, 1.0f})));
    CHECK(close(unary("exp2", at::tensor({3.0f})), at::tensor({8.0f})));
    CHECK(at::equal(unary("clip", at::tensor({-2.0f, 0.5f, 9.0f}), {{"alpha", -1.0}, {"beta", 1.0}}),
                    at::tensor({-1.0f, 0.5f, 1.0f})));
    CHECK(at::equal(unary("threshold", at::tensor({-2.0f, 0.5f}), {{"alpha", 0.0}}), at::tensor({0.0f, 0.5f})));
    CHECK(at::equal(unary("cast", at::tensor({-1.7f, 2.9f}), {{"dtype", "int32"}}), at::tensor({-1, 2}, at::kInt)));
    CHECK(at::equal(unary("cast", at::tensor({0.0f, 0.1f}), {{"dtype", "bool"}}), bools({0, 1})));
    const at::Tensor cond = bools({1, 0}).reshape({2, 1});
    const at::Tensor s =
        runOp({cond, at::ones({2, 3}), at::zeros({3})}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.add("select", {{"cond", in[0]}, {"a", in[1]}, {"b", in[2]}});
        });
    CHECK(at::equal(s, at::stack({at::ones({3}), at::zeros({3})})));
}
