// Shape-changing MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("reshape: constant shapes with 0 and -1, as Apple documents") {
    MilFixture f;
    Value* x = f.fp32({2, 3, 4});
    CHECK(f.b.add("reshape", {{"x", x}, {"shape", {-1, 4}}})->type().str() == "fp32[6,4]");
    CHECK(f.b.add("reshape", {{"x", x}, {"shape", {0, -1, 1}}})->type().str() == "fp32[2,12,1]");
    CHECK(f.b.add("reshape", {{"x", x}, {"shape", {24}}})->type().str() == "fp32[24]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("reshape", {{"x", x}, {"shape", {5, -1}}});
                   }),
                   {"'reshape'", "do not divide"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("reshape", {{"x", x}, {"shape", {0, -1}}});
                   }),
                   {"'reshape'", "input's rank"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("reshape", {{"x", x}, {"shape", {4, 5}}});
                   }),
                   {"'reshape'", "element counts"}));
}

TEST_CASE("reshape: symbols and computed shapes") {
    MilFixture f;
    Value* x = f.fp32({"b", 3, 4});
    CHECK(f.b.add("reshape", {{"x", x}, {"shape", {0, 12, 1}}})->type().str() == "fp32[b,12,1]");
    CHECK(f.b.add("reshape", {{"x", x}, {"shape", {-1, 12}}})->type().str() == "fp32[b,12]");
    Value* shape = f.b.add("shape", {{"x", x}});
    CHECK(shape->type().str() == "int32[3]");
    Value* y = f.b.add("reshape", {{"x", f.fp32({6})}, {"shape", shape}});
    CHECK(y->type().rank() == 3);
    CHECK(!y->type().shape[0].isStatic());
}

TEST_CASE("transpose, squeeze, expand_dims, flatten2d") {
    MilFixture f;
    Value* x = f.fp32({"n", 3, 1, 5});
    CHECK(f.b.add("transpose", {{"x", x}, {"perm", {0, 2, 3, 1}}})->type().str() == "fp32[n,1,5,3]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("transpose", {{"x", x}, {"perm", {0, 1, 2}}});
                   }),
                   {"'transpose'", "perm has 3"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("transpose", {{"x", x}, {"perm", {0, 1, 1, 2}}});
                   }),
                   {"'transpose'", "repeated"}));
    CHECK(f.b.add("squeeze", {{"x", x}})->type().str() == "fp32[n,3,5]");
    CHECK(f.b.add("squeeze", {{"x", x}, {"axes", {0, 2}}})->type().str() == "fp32[3,5]");  // n is 1 at run time
    CHECK(mentions(errorOf([&] { f.b.add("squeeze", {{"x", x}, {"axes", {1}}}); }), {"'squeeze'", "size is 3"}));
    CHECK(f.b.add("expand_dims", {{"x", x}, {"axes", {0, -1}}})->type().str() == "fp32[1,n,3,1,5,1]");
    CHECK(mentions(errorOf([&] { f.b.add("expand_dims", {{"x", x}, {"axes", {6}}}); }), {"'expand_dims'", "axis 6"}));
    CHECK(f.b.add("flatten2d", {{"x", f.fp32({2, 3, 4})}})->type().str() == "fp32[2,12]");
    CHECK(f.b.add("flatten2d", {{"x", f.fp32({3})}, {"axis", -1}})->type().str() == "fp32[1,3]");
    CHECK(f.b.add("flatten2d", {{"x", f.fp32({"n", 3, 4})}})->type().shape[0].symbol == "n");
}

TEST_CASE("concat, stack, split") {
    MilFixture f;
    Value* a = f.fp32({2, 3});
    Value* b = f.fp32({2, 5});
    CHECK(f.b.add("concat", {{"values", std::vector<Value*>{a, b}}, {"axis", 1}})->type().str() == "fp32[2,8]");
    CHECK(f.b.add("concat", {{"values", std::vector<Value*>{f.fp32({"n", 4}), f.fp32({2, 4})}}, {"axis", 0}})
              ->type()
              .shape[1]
              .size == 4);
    CHECK(mentions(errorOf([&] {
                       f.b.add("concat", {{"values", std::vector<Value*>{a, b}}, {"axis", 0}});
                   }),
                   {"'concat'", "differ in dimension 1"}));
    CHECK(mentions(
        errorOf([&] {
            f.b.add("concat", {{"values", std::vector<Value*>{a, f.input(DType::Int32, {2, 3})}}, {"axis", 0}});
        }),
        {"'concat'", "'values'", "int32"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("concat", {{"values", std::vector<Value*>{a, f.fp32({2})}}, {"axis", 0}});
                   }),
                   {"'concat'", "one rank"}));

    CHECK(f.b.add("stack", {{"values", std::vector<Value*>{a, a, a}}, {"axis", 1}})->type().str() == "fp32[2,3,3]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("stack", {{"values", std::vector<Value*>{a, b}}, {"axis", 0}});
                   }),
                   {"'stack'", "one shape"}));

    Value* x = f.fp32({6, 4});
    auto even = f.b.addOp("split", {{"x", x}, {"num_splits", 3}, {"axis", 0}});
    REQUIRE(even.size() == 3);
    for (Value* part : even) CHECK(part->type().str() == "fp32[2,4]");
    auto sized = f.b.addOp("split", {{"x", x}, {"split_sizes", {1, 3}}, {"axis", 1}});
    REQUIRE(sized.size() == 2);
    CHECK(sized[0]->type().str() == "fp32[6,1]");
    CHECK(sized[1]->type().str() == "fp32[6,3]");
    CHECK(mentions(errorOf([&] {
                       f.b.addOp("split", {{"x", x}, {"num_splits", 4}, {"axis", 0}});
                   }),
                   {"'split'", "does not divide"}));
    CHECK(mentions(errorOf([&] {
                       f.b.addOp("split", {{"x", x}, {"split_sizes", {1, 2}}, {"axis", 1}});
                   }),
                   {"'split'", "sum to 3"}));
    CHECK(mentions(errorOf([&] {
                       f.b.addOp("split", {{"x", x}, {"axis", 1}});
                   }),
                   {"'split'", "num_splits or split_sizes"}));
}

TEST_CASE("tile, pad, reverse, identity") {
    MilFixture f;
    Value* x = f.fp32({"n", 3, 4});
    CHECK(f.b.add("tile", {{"x", x}, {"reps", {1, 2, 3}}})->type().str() == "fp32[n,6,12]");
    CHECK(mentions(errorOf([&] { f.b.add("tile", {{"x", x}, {"reps", {2, 3}}}); }), {"'tile'", "reps has 2"}));
    CHECK(f.b.add("pad", {{"x", x}, {"pad", {1, 2}}})->type().str() == "fp32[n,3,7]");
    CHECK(f.b.add("pad", {{"x", x}, {"pad", {0, 0, 1, 1, 2, 2}}, {"mode", "reflect"}})->type().str() == "fp32[n,5,8]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("pad", {{"x", x}, {"pad", {0, 0, 3, 3, 0, 0}}, {"mode", "reflect"}});
                   }),
                   {"'pad'", "at most 2"}));
    CHECK(mentions(errorOf([&] { f.b.add("pad", {{"x", x}, {"pad", {1}}}); }), {"'pad'", "before/after pairs"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("pad", {{"x", x}, {"pad", {1, 1}}, {"mode", "wrap"}});
                   }),
                   {"'pad'", "'wrap'"}));
    Value* computed = f.input(DType::Int32, {6});
    CHECK(f.b.add("pad", {{"x", x}, {"pad", computed}})->type().rank() == 3);
    CHECK(f.b.add("reverse", {{"x", x}, {"axes", {-1}}})->type().str() == "fp32[n,3,4]");
    CHECK(f.b.add("identity", {{"x", x}})->type().str() == "fp32[n,3,4]");
}

TEST_CASE("depth_to_space, space_to_depth, pixel_shuffle, sliding_windows") {
    MilFixture f;
    CHECK(f.b.add("depth_to_space", {{"x", f.fp32({1, 16, 5, 6})}, {"block_size", 2}})->type().str() ==
          "fp32[1,4,10,12]");
    CHECK(f.b.add("pixel_shuffle", {{"x", f.fp32({1, 18, 5, 6})}, {"upscale_factor", 3}})->type().str() ==
          "fp32[1,2,15,18]");
    CHECK(f.b.add("space_to_depth", {{"x", f.fp32({1, 2, 8, 6})}, {"block_size", 2}})->type().str() == "fp32[1,8,4,3]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("depth_to_space", {{"x", f.fp32({1, 6, 5, 6})}, {"block_size", 2}});
                   }),
                   {"'depth_to_space'", "not divisible"}));
    CHECK(f.b.add("sliding_windows", {{"x", f.fp32({2, 10, 3})}, {"axis", 1}, {"size", 4}, {"stride", 2}})
              ->type()
              .str() == "fp32[2,4,4,3]");
}
