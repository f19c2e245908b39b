// Convolution MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("conv: ResNet stem 7x7 stride 2 pad 3 halves 224") {
    MilFixture f;
    Value* x = f.fp32({1, 3, 224, 224});
    Value* y = f.b.add("conv", {{"x", x},
                                {"weight", f.fp32Const({64, 3, 7, 7})},
                                {"bias", f.fp32Const({64})},
                                {"strides", {2, 2}},
                                {"pad_type", "custom"},
                                {"pad", {3, 3, 3, 3}}});
    CHECK(y->type().str() == "fp32[1,64,112,112]");
}

TEST_CASE("conv: defaults are stride 1, valid padding, dilation 1, one group") {
    MilFixture f;
    Value* y = f.b.add("conv", {{"x", f.fp32({2, 3, 32, 32})}, {"weight", f.fp32Const({8, 3, 3, 3})}});
    CHECK(y->type().str() == "fp32[2,8,30,30]");
}

TEST_CASE("conv: same padding, dilation, 1-D and 3-D") {
    MilFixture f;
    CHECK(f.b.add("conv", {{"x", f.fp32({1, 4, 15, 15})},
                           {"weight", f.fp32Const({4, 4, 3, 3})},
                           {"strides", {2, 2}},
                           {"pad_type", "same"}})
              ->type()
              .str() == "fp32[1,4,8,8]");
    CHECK(f.b.add("conv", {{"x", f.fp32({1, 4, 20, 20})}, {"weight", f.fp32Const({4, 4, 3, 3})}, {"dilations", {2, 3}}})
              ->type()
              .str() == "fp32[1,4,16,14]");
    CHECK(f.b.add("conv", {{"x", f.fp32({1, 2, 100})}, {"weight", f.fp32Const({5, 2, 9})}, {"strides", {4}}})
              ->type()
              .str() == "fp32[1,5,23]");
    CHECK(f.b.add("conv", {{"x", f.fp32({1, 2, 8, 8, 8})}, {"weight", f.fp32Const({3, 2, 3, 3, 3})}})->type().str() ==
          "fp32[1,3,6,6,6]");
}

TEST_CASE("conv: groups (depthwise)") {
    MilFixture f;
    Value* y = f.b.add("conv", {{"x", f.fp32({1, 32, 56, 56})},
                                {"weight", f.fp32Const({32, 1, 3, 3})},
                                {"groups", 32},
                                {"pad_type", "custom"},
                                {"pad", {1, 1, 1, 1}}});
    CHECK(y->type().str() == "fp32[1,32,56,56]");
    CHECK(mentions(
        errorOf([&] {
            f.b.add("conv", {{"x", f.fp32({1, 30, 8, 8})}, {"weight", f.fp32Const({8, 3, 3, 3})}, {"groups", 4}});
        }),
        {"'conv'", "30 input channels", "groups 4"}));
}

TEST_CASE("conv: weight and bias must match the channels") {
    MilFixture f;
    Value* x = f.fp32({1, 3, 16, 16});
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", f.fp32Const({8, 4, 3, 3})}});
                   }),
                   {"'conv'", "expects 4 input channels", "has 3"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", f.fp32Const({8, 3, 3})}});
                   }),
                   {"'conv'", "rank of x"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", f.fp32Const({8, 3, 3, 3})}, {"bias", f.fp32Const({7})}});
                   }),
                   {"'conv'", "bias has 7 values", "8 output channels"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", f.fp32({3, 16})}, {"weight", f.fp32Const({8, 3})}});
                   }),
                   {"'conv'", "'x'", "rank 3 to 5"}));
}

TEST_CASE("conv: padding and window parameters are checked") {
    MilFixture f;
    Value* x = f.fp32({1, 3, 16, 16});
    Value* w = f.fp32Const({8, 3, 3, 3});
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", w}, {"pad", {1, 1, 1, 1}}});
                   }),
                   {"'conv'", "pad_type is 'valid'"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", w}, {"pad_type", "custom"}, {"pad", {1, 1}}});
                   }),
                   {"'conv'", "pad has 2 values, expected 4"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", w}, {"strides", {1, 1, 1}}});
                   }),
                   {"'conv'", "strides has 3 values"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", w}, {"pad_type", "full"}});
                   }),
                   {"'conv'", "pad_type 'full'"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", f.fp32({1, 3, 2, 2})}, {"weight", w}});
                   }),
                   {"'conv'", "too small"}));
}

TEST_CASE("conv: a computed weight is allowed, but not with dilations") {
    MilFixture f;
    Value* x = f.fp32({1, 3, 16, 16});
    Value* w = f.fp32({8, 3, 3, 3});
    CHECK(f.b.add("conv", {{"x", x}, {"weight", w}})->type().str() == "fp32[1,8,14,14]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", w}, {"dilations", {2, 2}}});
                   }),
                   {"'conv'", "dilations need a constant weight"}));
    // A weight computed from constants only counts as constant.
    Value* scaled = f.b.add("mul", {{"x", f.fp32Const({8, 3, 3, 3})}, {"y", 0.5}});
    CHECK(f.b.add("conv", {{"x", x}, {"weight", scaled}, {"dilations", {2, 2}}})->type().str() == "fp32[1,8,12,12]");
}

TEST_CASE("conv: symbolic batch and spatial dimensions") {
    MilFixture f;
    Value* y = f.b.add("conv", {{"x", f.fp32({"n", 3, "h", 64})},
                                {"weight", f.fp32Const({8, 3, 3, 3})},
                                {"pad_type", "custom"},
                                {"pad", {1, 1, 1, 1}}});
    const Shape& s = y->type().shape;
    CHECK(s[0].symbol == "n");
    CHECK(s[1].size == 8);
    CHECK(!s[2].isStatic());
    CHECK(s[3].size == 64);
    // A 1x1 stride-1 conv keeps the very same symbol.
    Value* z = f.b.add("conv", {{"x", f.fp32({"n", 3, "h", "w"})}, {"weight", f.fp32Const({8, 3, 1, 1})}});
    CHECK(z->type().str() == "fp32[n,8,h,w]");
}

TEST_CASE("conv_transpose: output sizes") {
    MilFixture f;
    Value* x = f.fp32({1, 16, 8, 8});
    // torch ConvTranspose2d(16, 8, 4, stride=2, padding=1): 8 -> 16.
    CHECK(f.b.add("conv_transpose", {{"x", x},
                                     {"weight", f.fp32Const({16, 8, 4, 4})},
                                     {"strides", {2, 2}},
                                     {"pad_type", "custom"},
                                     {"pad", {1, 1, 1, 1}}})
              ->type()
              .str() == "fp32[1,8,16,16]");
    CHECK(f.b.add("conv_transpose", {{"x", x}, {"weight", f.fp32Const({16, 4, 3, 3})}, {"groups", 2}})->type().str() ==
          "fp32[1,8,10,10]");
    CHECK(f.b.add("conv_transpose", {{"x", x},
                                     {"weight", f.fp32Const({16, 8, 3, 3})},
                                     {"strides", {2, 2}},
                                     {"output_shape", {1, 8, 17, 17}}})
              ->type()
              .str() == "fp32[1,8,17,17]");
}

TEST_CASE("conv_transpose: checks") {
    MilFixture f;
    Value* x = f.fp32({1, 16, 8, 8});
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv_transpose", {{"x", x}, {"weight", f.fp32Const({8, 8, 3, 3})}});
                   }),
                   {"'conv_transpose'", "expects 8 input channels"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv_transpose", {{"x", x}, {"weight", f.fp32({16, 8, 3, 3})}});
                   }),
                   {"'conv_transpose'", "'weight'", "constant"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv_transpose",
                               {{"x", x}, {"weight", f.fp32Const({16, 8, 3, 3})}, {"output_shape", {1, 4, 17, 17}}});
                   }),
                   {"'conv_transpose'", "output_shape"}));
}
