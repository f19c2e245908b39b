// Activation MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("activation: plain activations keep x's type") {
    MilFixture f;
    Value* x = f.fp32({"b", 16, 8, 8});
    for (const char* op : {"relu", "relu6", "sigmoid", "silu", "softplus", "softsign"})
        CHECK(f.b.add(op, {{"x", x}})->type().str() == "fp32[b,16,8,8]");
    Value* h = f.input(DType::Float16, {3});
    CHECK(f.b.add("relu", {{"x", h}})->type().str() == "fp16[3]");
    CHECK(mentions(errorOf([&] { f.b.add("sigmoid", {{"x", f.input(DType::Int32, {3})}}); }), {"'sigmoid'", "'x'"}));
}

TEST_CASE("activation: scalar parameters are required constants") {
    MilFixture f;
    Value* x = f.fp32({4});
    CHECK(f.b.add("leaky_relu", {{"x", x}, {"alpha", 0.01}})->type().str() == "fp32[4]");
    CHECK(f.b.add("elu", {{"x", x}, {"alpha", 1.0}})->type().str() == "fp32[4]");
    CHECK(f.b.add("sigmoid_hard", {{"x", x}, {"alpha", 0.2}, {"beta", 0.5}})->type().str() == "fp32[4]");
    CHECK(f.b.add("linear_activation", {{"x", x}, {"alpha", 2.0}, {"beta", 1.0}})->type().str() == "fp32[4]");
    CHECK(f.b.add("scaled_tanh", {{"x", x}, {"alpha", 2.0}, {"beta", 1.0}})->type().str() == "fp32[4]");
    CHECK(f.b.add("thresholded_relu", {{"x", x}, {"alpha", 1.0}})->type().str() == "fp32[4]");
    CHECK(f.b.add("clamped_relu", {{"x", x}, {"alpha", 0.1}, {"beta", 6.0}})->type().str() == "fp32[4]");
    CHECK(mentions(errorOf([&] { f.b.add("sigmoid_hard", {{"x", x}, {"alpha", 0.2}}); }), {"'beta'", "missing"}));
    CHECK(mentions(errorOf([&] { f.b.add("elu", {{"x", x}, {"alpha", f.fp32({})}}); }), {"'alpha'", "constant"}));
}

TEST_CASE("activation: gelu modes") {
    MilFixture f;
    Value* x = f.fp32({2, 8});
    CHECK(f.b.add("gelu", {{"x", x}})->type().str() == "fp32[2,8]");
    CHECK(f.b.add("gelu", {{"x", x}, {"mode", "TANH_APPROXIMATION"}})->type().str() == "fp32[2,8]");
    CHECK(f.b.add("gelu", {{"x", x}, {"mode", "SIGMOID_APPROXIMATION"}})->type().str() == "fp32[2,8]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("gelu", {{"x", x}, {"mode", "tanh"}});
                   }),
                   {"'gelu'", "'mode'", "'tanh'", "EXACT"}));
}

TEST_CASE("activation: softmax axis") {
    MilFixture f;
    Value* x = f.fp32({2, 8});
    CHECK(f.b.add("softmax", {{"x", x}})->type().str() == "fp32[2,8]");
    CHECK(f.b.add("softmax", {{"x", x}, {"axis", 0}})->type().str() == "fp32[2,8]");
    CHECK(mentions(errorOf([&] { f.b.add("softmax", {{"x", x}, {"axis", 2}}); }), {"'softmax'", "axis 2", "rank 2"}));
}

TEST_CASE("activation: prelu alpha is per channel") {
    MilFixture f;
    Value* x = f.fp32({1, 3, 8, 8});
    CHECK(f.b.add("prelu", {{"x", x}, {"alpha", std::vector<double>{0.1, 0.2, 0.3}}})->type().str() == "fp32[1,3,8,8]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("prelu", {{"x", x}, {"alpha", std::vector<double>{0.1, 0.2}}});
                   }),
                   {"'prelu'", "2 values", "3 channels"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("prelu", {{"x", f.fp32({3, 3})}, {"alpha", std::vector<double>{1, 1, 1}}});
                   }),
                   {"'prelu'", "rank 3 to 5"}));
    Value* x3 = f.fp32({1, 3, 8});
    CHECK(mentions(errorOf([&] {
                       f.b.add("prelu", {{"x", x3}, {"alpha", std::vector<double>{0.1, 0.2, 0.3}}});
                   }),
                   {"'prelu'", "alpha values equal"}));
}
