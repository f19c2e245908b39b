// Pooling kernels (core/runtime/kernels/Pooling.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <limits>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

using V = std::vector<int64_t>;

at::Tensor pool(const std::string& op, const at::Tensor& x, mil::OperandList params) {
    return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        mil::OperandList ops{{"x", in[0]}};
        ops.insert(ops.end(), params.begin(), params.end());
        return b.add(op, ops);
    });
}

}  // namespace

TEST_CASE("max_pool: valid, same (asymmetric) and ceil_mode") {
    const at::Tensor x = at::randn({1, 2, 6, 6});
    CHECK(close(pool("max_pool", x, {{"kernel_sizes", V{2, 2}}, {"strides", V{2, 2}}, {"pad_type", "valid"}}),
                at::max_pool2d(x, 2, 2)));
    // same, in 6, k 3, s 2: out 3, total padding 1 after.
    const double inf = std::numeric_limits<double>::infinity();
    CHECK(close(pool("max_pool", x, {{"kernel_sizes", V{3, 3}}, {"strides", V{2, 2}}, {"pad_type", "same"}}),
                at::max_pool2d(at::constant_pad_nd(x, {0, 1, 0, 1}, -inf), 3, 2)));
    const at::Tensor odd = at::randn({1, 1, 5, 5});
    CHECK(close(pool("max_pool", odd,
                     {{"kernel_sizes", V{2, 2}}, {"strides", V{2, 2}}, {"pad_type", "valid"}, {"ceil_mode", true}}),
                at::max_pool2d(odd, 2, 2, 0, 1, true)));
    CHECK(close(pool("max_pool", odd,
                     {{"kernel_sizes", V{3, 3}},
                      {"strides", V{2, 2}},
                      {"pad_type", "custom"},
                      {"pad", V{1, 1, 1, 1}},
                      {"ceil_mode", true}}),
                at::max_pool2d(odd, 3, 2, 1, 1, true)));
}

TEST_CASE("avg_pool: exclude_padding_from_average, asymmetric padding") {
    const at::Tensor x = at::randn({1, 2, 5, 5});
    const mil::OperandList padded{{"kernel_sizes", V{3, 3}}, {"pad_type", "custom"}, {"pad", V{1, 1, 1, 1}}};
    auto with = [&](bool exclude) {
        mil::OperandList p = padded;
        p.emplace_back("exclude_padding_from_average", exclude);
        return p;
    };
    CHECK(close(pool("avg_pool", x, with(false)), at::avg_pool2d(x, 3, 1, 1, false, /*count_include_pad=*/true)));
    CHECK(close(pool("avg_pool", x, with(true)), at::avg_pool2d(x, 3, 1, 1, false, /*count_include_pad=*/false)));
    // [1, 2, 3] with one column of padding on the left, windows of 2.
    const at::Tensor row = at::tensor({1.0f, 2.0f, 3.0f}).reshape({1, 1, 1, 3});
    const mil::OperandList left{{"kernel_sizes", V{1, 2}}, {"pad_type", "custom"}, {"pad", V{0, 0, 1, 0}}};
    mil::OperandList exclude = left, include = left;
    exclude.emplace_back("exclude_padding_from_average", true);
    include.emplace_back("exclude_padding_from_average", false);
    CHECK(close(pool("avg_pool", row, exclude), at::tensor({1.0f, 1.5f, 2.5f}).reshape({1, 1, 1, 3})));
    CHECK(close(pool("avg_pool", row, include), at::tensor({0.5f, 1.5f, 2.5f}).reshape({1, 1, 1, 3})));
    // 1-D and 3-D.
    const at::Tensor x1 = at::randn({1, 3, 10});
    CHECK(close(pool("avg_pool", x1, {{"kernel_sizes", V{3}}, {"strides", V{2}}, {"pad_type", "valid"}}),
                at::avg_pool1d(x1, 3, 2)));
    const at::Tensor x3 = at::randn({1, 1, 4, 4, 4});
    CHECK(close(pool("avg_pool", x3, {{"kernel_sizes", V{2, 2, 2}}, {"strides", V{2, 2, 2}}, {"pad_type", "valid"}}),
                at::avg_pool3d(x3, 2, 2)));
}

TEST_CASE("l2_pool: sqrt of the sum of squares") {
    const at::Tensor x = at::tensor({3.0f, 4.0f, 0.0f, 12.0f}).reshape({1, 1, 2, 2});
    CHECK(close(pool("l2_pool", x, {{"kernel_sizes", V{2, 2}}, {"pad_type", "valid"}}), at::full({1, 1, 1, 1}, 13.0f)));
    const at::Tensor x1 = at::tensor({3.0f, 4.0f, 12.0f}).reshape({1, 1, 3});
    CHECK(close(pool("l2_pool", x1, {{"kernel_sizes", V{2}}, {"pad_type", "valid"}}),
                at::tensor({5.0f, 12.649110640673518f}).reshape({1, 1, 2})));
}
