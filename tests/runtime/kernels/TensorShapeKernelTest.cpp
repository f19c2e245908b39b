// Tensor-shape kernels (core/runtime/kernels/TensorShape.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

using V = std::vector<int64_t>;

at::Tensor op1(const std::string& op, const at::Tensor& x, mil::OperandList params) {
    return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        mil::OperandList ops{{"x", in[0]}};
        ops.insert(ops.end(), params.begin(), params.end());
        return b.add(op, ops);
    });
}

}  // namespace

TEST_CASE("reshape: 0 keeps a dimension, -1 takes the rest, the shape may be computed") {
    const at::Tensor x = at::randn({2, 3, 4});
    // Before iOS17, a 0 needs a shape of the input's rank (Apple's reshape of iOS15).
    CHECK(at::equal(op1("reshape", x, {{"shape", V{0, -1, 2}}}), x.reshape({2, 6, 2})));
    CHECK(op1("reshape", x, {{"shape", V{0, 0, 4}}}).sizes() == at::IntArrayRef({2, 3, 4}));
    // Shape computed at run time from another input's shape.
    const at::Tensor y = runOp({x, at::zeros({6, 4})}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("reshape", {{"x", in[0]}, {"shape", b.add("shape", {{"x", in[1]}})}});
    });
    CHECK(at::equal(y, x.reshape({6, 4})));
}

TEST_CASE("transpose, squeeze, expand_dims, flatten2d, reverse, tile") {
    const at::Tensor x = at::randn({2, 1, 3, 1});
    CHECK(at::equal(op1("transpose", x, {{"perm", V{2, 0, 3, 1}}}), x.permute({2, 0, 3, 1})));
    CHECK(op1("squeeze", x, {}).sizes() == at::IntArrayRef({2, 3}));
    CHECK(op1("squeeze", x, {{"axes", V{-1}}}).sizes() == at::IntArrayRef({2, 1, 3}));
    CHECK(op1("expand_dims", x, {{"axes", V{0, -1}}}).sizes() == at::IntArrayRef({1, 2, 1, 3, 1, 1}));
    CHECK(op1("flatten2d", x, {{"axis", 2}}).sizes() == at::IntArrayRef({2, 3}));
    CHECK(op1("flatten2d", x, {}).sizes() == at::IntArrayRef({2, 3}));
    CHECK(at::equal(op1("reverse", x, {{"axes", V{0, 2}}}), x.flip({0, 2})));
    CHECK(at::equal(op1("reverse", x, {}), x.flip({0, 1, 2, 3})));
    CHECK(at::equal(op1("tile", x, {{"reps", V{1, 2, 1, 3}}}), x.repeat({1, 2, 1, 3})));
}

TEST_CASE("concat (interleaved too), split, stack") {
    const at::Tensor a = at::randn({2, 3}), c = at::randn({2, 3});
    const at::Tensor cat = runOp({a, c}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("concat", {{"values", std::vector<mil::Value*>{in[0], in[1]}}, {"axis", -1}});
    });
    CHECK(at::equal(cat, at::cat({a, c}, 1)));
    const at::Tensor interleaved = runOp({a, c}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("concat", {{"values", std::vector<mil::Value*>{in[0], in[1]}}, {"axis", 0}, {"interleave", true}});
    });
    CHECK(at::equal(interleaved[1], c[0]));
    CHECK(at::equal(interleaved[2], a[1]));
    const auto parts =
        runProgram({at::arange(10, at::kFloat)}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.addOp("split", {{"x", in[0]}, {"split_sizes", V{3, 7}}, {"axis", 0}});
        });
    REQUIRE(parts.size() == 2);
    CHECK(parts[1].size(0) == 7);
    CHECK(parts[1][0].item<float>() == 3);
    const auto halves =
        runProgram({at::arange(10, at::kFloat)}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.addOp("split", {{"x", in[0]}, {"num_splits", 2}, {"axis", 0}});
        });
    CHECK(halves[1][0].item<float>() == 5);
    const at::Tensor st = runOp({a, c}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("stack", {{"values", std::vector<mil::Value*>{in[0], in[1]}}, {"axis", 1}});
    });
    CHECK(at::equal(st, at::stack({a, c}, 1)));
}

TEST_CASE("pad: constant, reflect and replicate over the trailing dimensions") {
    const at::Tensor x = at::randn({1, 2, 4, 5});
    CHECK(at::equal(op1("pad", x, {{"pad", V{1, 2, 0, 3}}, {"constant_val", 1.5}}),
                    at::constant_pad_nd(x, {0, 3, 1, 2}, 1.5)));
    CHECK(
        at::equal(op1("pad", x, {{"pad", V{1, 2, 3, 1}}, {"mode", "reflect"}}), at::reflection_pad2d(x, {3, 1, 1, 2})));
    CHECK(at::equal(op1("pad", x, {{"pad", V{2, 0, 1, 4}}, {"mode", "replicate"}}),
                    at::replication_pad2d(x, {1, 4, 2, 0})));
    CHECK(at::equal(op1("pad", x, {{"pad", V{0, 0, 1, 1, 2, 2, 3, 3}}}),
                    at::constant_pad_nd(x, {3, 3, 2, 2, 1, 1, 0, 0})));
}

TEST_CASE("depth_to_space, pixel_shuffle, space_to_depth, sliding_windows") {
    // depth_to_space is TensorFlow's DCR order: out[c, h*b + i, w*b + j] = x[(i*b + j)*C' + c, h, w].
    const at::Tensor x = at::arange(16, at::kFloat).reshape({1, 8, 1, 2});
    const at::Tensor d = op1("depth_to_space", x, {{"block_size", 2}});
    REQUIRE(d.sizes() == at::IntArrayRef({1, 2, 2, 4}));
    CHECK(d[0][1][1][3].item<float>() == x[0][(1 * 2 + 1) * 2 + 1][0][1].item<float>());
    CHECK(at::equal(op1("space_to_depth", d, {{"block_size", 2}}), x));
    const at::Tensor p = op1("pixel_shuffle", x, {{"upscale_factor", 2}});
    CHECK(at::equal(p, at::pixel_shuffle(x, 2)));
    const at::Tensor s = at::arange(10, at::kFloat).reshape({2, 5});
    const at::Tensor w = op1("sliding_windows", s, {{"axis", 1}, {"size", 3}, {"stride", 2}});
    REQUIRE(w.sizes() == at::IntArrayRef({2, 2, 3}));
    CHECK(w[1][1][0].item<float>() == 7);
}
