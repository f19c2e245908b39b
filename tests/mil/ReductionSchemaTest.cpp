// Reduction MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("reduction: axes and keep_dims") {
    MilFixture f;
    Value* x = f.fp32({"n", 3, 4, 5});
    CHECK(f.b.add("reduce_mean", {{"x", x}, {"axes", {2, 3}}, {"keep_dims", true}})->type().str() == "fp32[n,3,1,1]");
    CHECK(f.b.add("reduce_sum", {{"x", x}, {"axes", {-1}}})->type().str() == "fp32[n,3,4]");
    CHECK(f.b.add("reduce_max", {{"x", x}})->type().str() == "fp32[]");
    CHECK(f.b.add("reduce_prod", {{"x", x}, {"keep_dims", true}})->type().str() == "fp32[1,1,1,1]");
    for (const char* op : {"reduce_min", "reduce_l1_norm", "reduce_l2_norm", "reduce_log_sum", "reduce_log_sum_exp",
                           "reduce_sum_square"})
        CHECK(f.b.add(op, {{"x", x}, {"axes", {1}}})->type().str() == "fp32[n,4,5]");
    Value* i = f.input(DType::Int32, {6, 2});
    CHECK(f.b.add("reduce_sum", {{"x", i}, {"axes", {0}}})->type().str() == "int32[2]");
}

TEST_CASE("reduction: argmax gives int32 along one axis") {
    MilFixture f;
    Value* x = f.fp32({2, 10});
    CHECK(f.b.add("reduce_argmax", {{"x", x}})->type().str() == "int32[2]");
    CHECK(f.b.add("reduce_argmin", {{"x", x}, {"axis", 0}, {"keep_dims", true}})->type().str() == "int32[1,10]");
}

TEST_CASE("reduction: bad axes are rejected") {
    MilFixture f;
    Value* x = f.fp32({2, 10});
    CHECK(mentions(errorOf([&] { f.b.add("reduce_mean", {{"x", x}, {"axes", {2}}}); }), {"'reduce_mean'", "axis 2"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("reduce_mean", {{"x", x}, {"axes", {1, -1}}});
                   }),
                   {"'reduce_mean'", "repeated"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("reduce_argmax", {{"x", x}, {"axis", {1}}});
                   }),
                   {"'reduce_argmax'", "scalar"}));
}

TEST_CASE("cumsum keeps the shape") {
    MilFixture f;
    Value* x = f.fp32({3, 4});
    CHECK(f.b.add("cumsum", {{"x", x}, {"axis", 1}, {"reverse", true}})->type().str() == "fp32[3,4]");
    CHECK(mentions(errorOf([&] { f.b.add("cumsum", {{"x", x}, {"axis", 2}}); }), {"'cumsum'", "axis 2"}));
}
