// MIL op schemas that make tensors from shapes and ranges.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("fill: constant and computed shapes") {
    MilFixture f;
    CHECK(f.b.add("fill", {{"shape", {2, 3}}})->type().str() == "fp32[2,3]");
    CHECK(f.b.add("fill", {{"shape", {4}}, {"value", 7}})->type().str() == "int32[4]");
    Value* y = f.b.add("fill", {{"shape", f.b.add("shape", {{"x", f.fp32({"n", 5})}})}, {"value", 1.0}});
    CHECK(y->type().rank() == 2);
    CHECK(mentions(errorOf([&] { f.b.add("fill", {{"shape", {2, -3}}}); }), {"'fill'", "negative"}));
}

TEST_CASE("fill_like (iOS16)") {
    MilFixture f(Target::iOS16);
    CHECK(f.b.add("fill_like", {{"ref_tensor", f.input(DType::Int32, {"n", 2})}, {"value", true}})->type().str() ==
          "bool[n,2]");
}

TEST_CASE("range_1d: length ceil((end - start) / step)") {
    MilFixture f;
    CHECK(f.b.add("range_1d", {{"start", 0}, {"end", 10}, {"step", 3}})->type().str() == "int32[4]");
    CHECK(f.b.add("range_1d", {{"start", 1.0}, {"end", 2.0}, {"step", 0.25}})->type().str() == "fp32[4]");
    CHECK(f.b.add("range_1d", {{"start", 5}, {"end", 0}, {"step", -1}})->type().str() == "int32[5]");
    Value* n = f.input(DType::Int32, {});
    CHECK(!f.b.add("range_1d", {{"start", 0}, {"end", n}, {"step", 1}})->type().shape[0].isStatic());
    CHECK(mentions(errorOf([&] {
                       f.b.add("range_1d", {{"start", 0}, {"end", 10}, {"step", 0}});
                   }),
                   {"'range_1d'", "step"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("range_1d", {{"start", 0}, {"end", 1.0}, {"step", 1}});
                   }),
                   {"'range_1d'", "'end'"}));
}

TEST_CASE("one_hot") {
    MilFixture f;
    Value* idx = f.input(DType::Int32, {"b", 5});
    CHECK(f.b.add("one_hot", {{"indices", idx}, {"one_hot_vector_size", 10}})->type().str() == "int32[b,5,10]");
    CHECK(f.b.add("one_hot",
                  {{"indices", idx}, {"one_hot_vector_size", 10}, {"axis", 0}, {"on_value", 1.0}, {"off_value", 0.0}})
              ->type()
              .str() == "fp32[10,b,5]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("one_hot", {{"indices", idx}, {"one_hot_vector_size", 10}, {"on_value", 1.0}});
                   }),
                   {"'one_hot'", "share a dtype"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("one_hot", {{"indices", idx}, {"one_hot_vector_size", 10}, {"axis", 3}});
                   }),
                   {"'one_hot'", "axis 3"}));
}
