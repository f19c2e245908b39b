// Linear-algebra and attention kernels (core/runtime/kernels/Linear.cpp, Attention.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

TEST_CASE("linear, matmul with transposes, einsum") {
    const at::Tensor x = at::randn({2, 5, 4}), w = at::randn({3, 4}), bias = at::randn({3});
    const at::Tensor lin = runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("linear", {{"x", in[0]}, {"weight", constantOf(b, w)}, {"bias", constantOf(b, bias)}});
    });
    CHECK(close(lin, at::linear(x, w, bias), 1e-5));
    const at::Tensor y = at::randn({2, 3, 4});
    const at::Tensor mm = runOp({x, y}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("matmul", {{"x", in[0]}, {"y", in[1]}, {"transpose_y", true}});
    });
    CHECK(close(mm, at::matmul(x, y.transpose(1, 2)), 1e-5));
    const at::Tensor v = at::randn({4});
    const at::Tensor mv = runOp({x, v}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("matmul", {{"x", in[0]}, {"y", in[1]}});
    });
    CHECK(close(mv, at::matmul(x, v), 1e-5));
    const at::Tensor a = at::randn({2, 3, 4, 5}), c = at::randn({2, 5, 4, 6});
    const at::Tensor e = runOp({a, c}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("einsum", {{"values", std::vector<mil::Value*>{in[0], in[1]}}, {"equation", "nchw,nwhr->nchr"}});
    });
    CHECK(close(e, at::einsum("nchw,nwhr->nchr", {a, c}), 1e-4));
    const at::Tensor ii = at::tensor({1, 2, 3, 4}, at::kInt).reshape({2, 2});
    const at::Tensor im = runOp({ii, ii}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("matmul", {{"x", in[0]}, {"y", in[1]}});
    });
    CHECK(at::equal(im, at::tensor({7, 10, 15, 22}, at::kInt).reshape({2, 2})));
}

TEST_CASE("scaled_dot_product_attention with float and bool masks") {
    const at::Tensor q = at::randn({2, 3, 8}), k = at::randn({2, 5, 8}), v = at::randn({2, 5, 4});
    const at::Tensor mask = at::randn({3, 5});
    const at::Tensor out = runOp({q, k, v, mask}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("scaled_dot_product_attention",
                     {{"query", in[0]}, {"key", in[1]}, {"value", in[2]}, {"attn_mask", in[3]}});
    });
    const at::Tensor want = at::matmul(at::softmax(at::matmul(q, k.transpose(1, 2)) / std::sqrt(8.0) + mask, -1), v);
    CHECK(close(out, want, 1e-5));
    const at::Tensor keep = at::ones({3, 5}, at::kBool).tril();
    const at::Tensor causal = runOp({q, k, v, keep}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("scaled_dot_product_attention",
                     {{"query", in[0]}, {"key", in[1]}, {"value", in[2]}, {"attn_mask", in[3]}});
    });
    const at::Tensor scores =
        (at::matmul(q, k.transpose(1, 2)) / std::sqrt(8.0)).masked_fill(keep.logical_not(), -INFINITY);
    CHECK(close(causal, at::matmul(at::softmax(scores, -1), v), 1e-5));
}
