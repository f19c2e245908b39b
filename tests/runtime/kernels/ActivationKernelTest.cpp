// Activation kernels (core/runtime/kernels/Activation.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

at::Tensor act(const std::string& op, const at::Tensor& x, mil::OperandList params = {}) {
    return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        mil::OperandList ops{{"x", in[0]}};
        ops.insert(ops.end(), params.begin(), params.end());
        return b.add(op, ops);
    });
}

}  // namespace

TEST_CASE("activations follow their formulas") {
    const at::Tensor x = at::randn({2, 3, 4}) * 3;
    CHECK(close(act("relu", x), at::relu(x)));
    CHECK(close(act("relu6", x), at::hardtanh(x, 0, 6)));
    CHECK(close(act("sigmoid", x), at::sigmoid(x)));
    CHECK(close(act("silu", x), x * at::sigmoid(x)));
    CHECK(close(act("softsign", x), x / (1 + at::abs(x))));
    CHECK(close(act("elu", x, {{"alpha", 0.7}}), at::elu(x, 0.7)));
    CHECK(close(act("leaky_relu", x, {{"alpha", 0.1}}), at::leaky_relu(x, 0.1)));
    CHECK(close(act("thresholded_relu", x, {{"alpha", 1.0}}), at::where(x >= 1, x, at::zeros_like(x))));
    CHECK(close(act("sigmoid_hard", x, {{"alpha", 0.2}, {"beta", 0.5}}), at::clamp(x * 0.2 + 0.5, 0, 1)));
    CHECK(close(act("linear_activation", x, {{"alpha", 2.0}, {"beta", -1.0}}), x * 2 - 1));
    CHECK(close(act("scaled_tanh", x, {{"alpha", 2.0}, {"beta", 0.5}}), at::tanh(x * 0.5) * 2));
    CHECK(close(act("clamped_relu", x, {{"alpha", 0.1}, {"beta", 4.0}}),
                at::clamp_max(at::relu(x), 4.0) + at::clamp_max(at::clamp_max(x, 0.0) * 0.1, 4.0)));
    CHECK(close(act("softmax", x, {{"axis", 1}}), at::softmax(x, 1)));
    CHECK(close(act("softmax", x), at::softmax(x, -1)));
}

TEST_CASE("softplus is exact for large inputs") {
    const at::Tensor x = at::tensor({-100.0f, -1.0f, 0.0f, 1.0f, 100.0f});
    CHECK(close(act("softplus", x), at::log1p(at::exp(x.to(at::kDouble))).to(at::kFloat), 1e-6));
    const at::Tensor y = at::randn({1, 2, 3});
    const at::Tensor a = at::tensor({0.5f, 2.0f}), c = at::tensor({1.0f, 3.0f});
    const at::Tensor sp = runOp({y}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("softplus_parametric", {{"x", in[0]}, {"alpha", constantOf(b, a)}, {"beta", constantOf(b, c)}});
    });
    CHECK(close(sp, a.reshape({1, 2, 1}) * at::log1p(at::exp(y * c.reshape({1, 2, 1})))));
}

TEST_CASE("gelu modes and prelu") {
    const at::Tensor x = at::randn({2, 4, 3, 3});
    CHECK(close(act("gelu", x), at::gelu(x)));
    CHECK(close(act("gelu", x, {{"mode", "TANH_APPROXIMATION"}}),
                0.5 * x * (1 + at::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)))));
    CHECK(close(act("gelu", x, {{"mode", "SIGMOID_APPROXIMATION"}}), x * at::sigmoid(1.702 * x)));
    const at::Tensor alpha = at::tensor({0.1f, 0.2f, 0.3f, 0.4f});
    const at::Tensor p = runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("prelu", {{"x", in[0]}, {"alpha", constantOf(b, alpha)}});
    });
    CHECK(close(p, at::prelu(x, alpha)));
}
