// Normalization kernels (core/runtime/kernels/Normalization.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

TEST_CASE("batch_norm and instance_norm match ATen") {
    const at::Tensor x = at::randn({2, 3, 4, 5});
    const at::Tensor mean = at::randn({3}), var = at::rand({3}) + 0.5, gamma = at::randn({3}), beta = at::randn({3});
    const at::Tensor bn = runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("batch_norm", {{"x", in[0]},
                                    {"mean", constantOf(b, mean)},
                                    {"variance", constantOf(b, var)},
                                    {"gamma", constantOf(b, gamma)},
                                    {"beta", constantOf(b, beta)},
                                    {"epsilon", 1e-3}});
    });
    CHECK(close(bn, at::batch_norm(x, gamma, beta, mean, var, false, 0.1, 1e-3, false), 1e-5));
    const at::Tensor in = runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& v) {
        return b.add("instance_norm", {{"x", v[0]}, {"gamma", constantOf(b, gamma)}, {"beta", constantOf(b, beta)}});
    });
    CHECK(close(in, at::instance_norm(x, gamma, beta, {}, {}, true, 0.1, 1e-5, false), 1e-5));
}

TEST_CASE("layer_norm over any axes, gamma has the normalized dimensions' shape") {
    const at::Tensor x = at::randn({2, 3, 4});
    const at::Tensor gamma = at::randn({4}), beta = at::randn({4});
    const at::Tensor last = runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("layer_norm", {{"x", in[0]},
                                    {"axes", std::vector<int64_t>{-1}},
                                    {"gamma", constantOf(b, gamma)},
                                    {"beta", constantOf(b, beta)}});
    });
    CHECK(close(last, at::layer_norm(x, {4}, gamma, beta), 1e-5));
    // Normalizing dimension 1 only (not a trailing one).
    const at::Tensor g1 = at::randn({3});
    const at::Tensor middle = runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add(
            "layer_norm",
            {{"x", in[0]}, {"axes", std::vector<int64_t>{1}}, {"gamma", constantOf(b, g1)}, {"epsilon", 1e-2}});
    });
    const at::Tensor t = x.transpose(1, 2);
    CHECK(close(middle, at::layer_norm(t, {3}, g1, {}, 1e-2).transpose(1, 2), 1e-5));
    // All axes by default.
    const at::Tensor all = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("layer_norm", {{"x", in[0]}});
    });
    CHECK(close(all, at::layer_norm(x, {2, 3, 4}), 1e-5));
}

TEST_CASE("l2_norm and local_response_norm") {
    const at::Tensor x = at::randn({2, 3, 4, 5});
    const at::Tensor l2 = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("l2_norm", {{"x", in[0]}});
    });
    CHECK(close(l2, x / at::sqrt((x * x).sum({1, 2, 3}, true) + 1e-6), 1e-5));
    const at::Tensor lrn = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("local_response_norm", {{"x", in[0]}, {"size", 3}, {"alpha", 0.1}, {"beta", 0.75}, {"k", 2.0}});
    });
    // By hand: channel c sums squares over channels c-1 .. c+1 (torch's window).
    at::Tensor want = at::empty_like(x);
    for (int64_t c = 0; c < 3; ++c) {
        const int64_t lo = std::max<int64_t>(0, c - 1), hi = std::min<int64_t>(2, c + 1);
        const at::Tensor sum = (x.slice(1, lo, hi + 1) * x.slice(1, lo, hi + 1)).sum(1);
        want.select(1, c).copy_(x.select(1, c) / at::pow(sum * (0.1 / 3) + 2.0, 0.75));
    }
    CHECK(close(lrn, want, 1e-5));
}
