// Convolution kernels (core/runtime/kernels/Convolution.cpp) against ATen computed by hand.
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

using Ops = mil::OperandList;

at::Tensor conv(const at::Tensor& x, const at::Tensor& w, Ops params, const at::Tensor& bias = {}) {
    return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        Ops ops{{"x", in[0]}, {"weight", constantOf(b, w)}};
        if (bias.defined()) ops.emplace_back("bias", constantOf(b, bias));
        ops.insert(ops.end(), params.begin(), params.end());
        return b.add("conv", ops);
    });
}

at::Tensor convTranspose(const at::Tensor& x, const at::Tensor& w, Ops params) {
    return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        Ops ops{{"x", in[0]}, {"weight", constantOf(b, w)}};
        ops.insert(ops.end(), params.begin(), params.end());
        return b.add("conv_transpose", ops);
    });
}

using V = std::vector<int64_t>;

}  // namespace

TEST_CASE("conv: pad_type valid, same, same_lower and custom") {
    const at::Tensor x = at::randn({1, 3, 8, 8}), w = at::randn({4, 3, 3, 3}), bias = at::randn({4});
    CHECK(close(conv(x, w, {}, bias), at::conv2d(x, w, bias)));
    // same, stride 2, in 8, k 3: out 4, total padding (4 - 1) * 2 + 3 - 8 = 1 -> 0 before, 1 after.
    CHECK(close(conv(x, w, {{"pad_type", "same"}, {"strides", V{2, 2}}}),
                at::conv2d(at::constant_pad_nd(x, {0, 1, 0, 1}), w, {}, 2)));
    // same_lower puts the larger half first.
    CHECK(close(conv(x, w, {{"pad_type", "same_lower"}, {"strides", V{2, 2}}}),
                at::conv2d(at::constant_pad_nd(x, {1, 0, 1, 0}), w, {}, 2)));
    // same with stride 1: symmetric.
    CHECK(close(conv(x, w, {{"pad_type", "same"}}), at::conv2d(x, w, {}, 1, 1)));
    // custom pad is [top, bottom, left, right].
    CHECK(close(conv(x, w, {{"pad_type", "custom"}, {"pad", V{1, 2, 0, 3}}}),
                at::conv2d(at::constant_pad_nd(x, {0, 3, 1, 2}), w)));
}

TEST_CASE("conv: dilations, groups, 1-D and 3-D") {
    const at::Tensor x = at::randn({2, 4, 9, 9}), w = at::randn({6, 2, 3, 3});
    CHECK(close(conv(x, w, {{"dilations", V{2, 1}}, {"groups", 2}}),
                at::conv2d(x, w, at::Tensor(), at::IntArrayRef{1, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{2, 1}, 2),
                1e-4));
    // same with dilation: effective kernel 5, total padding 4.
    CHECK(close(conv(x, w, {{"dilations", V{2, 2}}, {"groups", 2}, {"pad_type", "same"}}),
                at::conv2d(x, w, at::Tensor(), 1, 2, 2, 2), 1e-4));
    const at::Tensor x1 = at::randn({1, 3, 16}), w1 = at::randn({5, 3, 4});
    CHECK(close(conv(x1, w1, {{"strides", V{3}}, {"pad_type", "custom"}, {"pad", V{2, 1}}}),
                at::conv1d(at::constant_pad_nd(x1, {2, 1}), w1, {}, 3), 1e-4));
    const at::Tensor x3 = at::randn({1, 2, 4, 5, 6}), w3 = at::randn({3, 2, 2, 3, 3});
    CHECK(
        close(conv(x3, w3, {{"pad_type", "same"}}), at::conv3d(at::constant_pad_nd(x3, {1, 1, 1, 1, 0, 1}), w3), 1e-4));
}

TEST_CASE("conv: a weight computed at run time") {
    const at::Tensor x = at::randn({1, 2, 5, 5}), w = at::randn({3, 2, 2, 2});
    const at::Tensor y = runOp({x, w}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("conv", {{"x", in[0]}, {"weight", in[1]}});
    });
    CHECK(close(y, at::conv2d(x, w)));
}

TEST_CASE("conv in fp16 rounds its result to fp16") {
    const at::Tensor x = at::randn({1, 3, 6, 6}).to(at::kHalf), w = at::randn({2, 3, 3, 3}).to(at::kHalf);
    const at::Tensor y = runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("conv", {{"x", in[0]}, {"weight", constantOf(b, w)}});
    });
    CHECK((y.scalar_type() == at::kHalf));
    CHECK(at::equal(y, at::conv2d(x.to(at::kFloat), w.to(at::kFloat)).to(at::kHalf)));
}

TEST_CASE("conv_transpose: valid, custom, same and output_shape") {
    const at::Tensor x = at::randn({1, 4, 4, 4}), w = at::randn({4, 2, 3, 3});
    CHECK(close(convTranspose(x, w, {{"strides", V{2, 2}}}), at::conv_transpose2d(x, w, {}, 2), 1e-4));
    CHECK(close(convTranspose(x, w, {{"strides", V{2, 2}}, {"pad_type", "custom"}, {"pad", V{1, 1, 1, 1}}}),
                at::conv_transpose2d(x, w, {}, 2, 1), 1e-4));
    // Asymmetric: 0 rows removed at the top, 1 at the bottom, 1 column at the left, 0 at the right.
    const at::Tensor full = at::conv_transpose2d(x, w, {}, 2);
    CHECK(close(convTranspose(x, w, {{"strides", V{2, 2}}, {"pad_type", "custom"}, {"pad", V{0, 1, 1, 0}}}),
                full.narrow(2, 0, 8).narrow(3, 1, 8), 1e-4));
    // same: out = in * stride = 8 of the full 9; the extra row goes from the end.
    CHECK(close(convTranspose(x, w, {{"strides", V{2, 2}}, {"pad_type", "same"}}), full.narrow(2, 0, 8).narrow(3, 0, 8),
                1e-4));
    // output_shape one larger than the padded result: torch's output_padding.
    CHECK(close(
        convTranspose(
            x, w,
            {{"strides", V{2, 2}}, {"pad_type", "custom"}, {"pad", V{1, 1, 1, 1}}, {"output_shape", V{1, 2, 8, 8}}}),
        at::conv_transpose2d(x, w, {}, 2, 1, 1), 1e-4));
    // groups and dilations.
    const at::Tensor wg = at::randn({4, 1, 3, 3});
    CHECK(close(convTranspose(x, wg, {{"groups", 2}, {"dilations", V{2, 2}}}),
                at::conv_transpose2d(x, wg, {}, 1, 0, 0, 2, 2), 1e-4));
}
