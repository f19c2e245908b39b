// Pooling MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("pooling: ResNet max pool 3x3 stride 2 pad 1") {
    MilFixture f;
    Value* y = f.b.add("max_pool", {{"x", f.fp32({1, 64, 112, 112})},
                                    {"kernel_sizes", {3, 3}},
                                    {"strides", {2, 2}},
                                    {"pad_type", "custom"},
                                    {"pad", {1, 1, 1, 1}}});
    CHECK(y->type().str() == "fp32[1,64,56,56]");
}

TEST_CASE("pooling: ceil_mode rounds the window count up") {
    MilFixture f;
    Value* x = f.fp32({1, 8, 56, 56});
    OperandList in{{"x", x}, {"kernel_sizes", {3, 3}}, {"strides", {2, 2}}, {"pad_type", "valid"}};
    CHECK(f.b.add("max_pool", in)->type().str() == "fp32[1,8,27,27]");
    in.emplace_back("ceil_mode", true);
    CHECK(f.b.add("max_pool", in)->type().str() == "fp32[1,8,28,28]");  // torch MaxPool2d(3, 2, ceil_mode=True): 28
}

TEST_CASE("pooling: avg_pool, l2_pool, same padding, 1-D") {
    MilFixture f;
    CHECK(f.b.add("avg_pool", {{"x", f.fp32({2, 4, 7, 7})},
                               {"kernel_sizes", {2, 2}},
                               {"strides", {2, 2}},
                               {"pad_type", "same"},
                               {"exclude_padding_from_average", true}})
              ->type()
              .str() == "fp32[2,4,4,4]");
    CHECK(
        f.b.add("avg_pool", {{"x", f.fp32({2, 4, 10})}, {"kernel_sizes", {3}}, {"pad_type", "valid"}})->type().str() ==
        "fp32[2,4,8]");
    CHECK(f.b.add("l2_pool",
                  {{"x", f.fp32({1, 1, 4, 4})}, {"kernel_sizes", {2, 2}}, {"strides", {2, 2}}, {"pad_type", "valid"}})
              ->type()
              .str() == "fp32[1,1,2,2]");
}

TEST_CASE("pooling: rejections") {
    MilFixture f;
    Value* x = f.fp32({1, 4, 8, 8});
    CHECK(mentions(errorOf([&] {
                       f.b.add("max_pool", {{"x", x}, {"kernel_sizes", {2, 2}}});
                   }),
                   {"'pad_type'", "missing"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("max_pool", {{"x", x}, {"kernel_sizes", {2}}, {"pad_type", "valid"}});
                   }),
                   {"'max_pool'", "kernel_sizes has 1 values"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("max_pool", {{"x", x},
                                            {"kernel_sizes", {2, 2}},
                                            {"pad_type", "custom"},
                                            {"pad", {0, 1, 0, 1}},
                                            {"ceil_mode", true}});
                   }),
                   {"'max_pool'", "symmetric"}));
    CHECK(mentions(
        errorOf([&] {
            f.b.add("avg_pool", {{"x", x}, {"kernel_sizes", {2, 2}}, {"pad_type", "same"}, {"ceil_mode", true}});
        }),
        {"'avg_pool'", "ceil_mode"}));
    CHECK(mentions(
        errorOf([&] {
            f.b.add("l2_pool", {{"x", f.fp32({1, 1, 4, 4, 4})}, {"kernel_sizes", {2, 2, 2}}, {"pad_type", "valid"}});
        }),
        {"'l2_pool'", "rank 3 to 4"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("max_pool", {{"x", x}, {"kernel_sizes", {9, 9}}, {"pad_type", "valid"}});
                   }),
                   {"'max_pool'", "too small"}));
}
