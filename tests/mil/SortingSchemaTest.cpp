// Sorting MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("topk: values and int32 indices") {
    MilFixture f;
    Value* x = f.fp32({"b", 100});
    auto outs = f.b.addOp("topk", {{"x", x}, {"k", 5}});
    REQUIRE(outs.size() == 2);
    CHECK(outs[0]->type().str() == "fp32[b,5]");
    CHECK(outs[1]->type().str() == "int32[b,5]");
    CHECK(f.b.addOp("topk", {{"x", x}, {"k", 3}, {"return_indices", false}}).size() == 1);
    CHECK(mentions(errorOf([&] { f.b.addOp("topk", {{"x", x}, {"k", 101}}); }), {"'topk'", "k = 101"}));
    CHECK(mentions(errorOf([&] { f.b.addOp("topk", {{"x", x}, {"axis", 2}}); }), {"'topk'", "axis 2"}));
}

TEST_CASE("argsort gives int32 of x's shape") {
    MilFixture f;
    CHECK(f.b.add("argsort", {{"x", f.fp32({3, 4})}, {"axis", 0}, {"ascending", true}})->type().str() == "int32[3,4]");
}
