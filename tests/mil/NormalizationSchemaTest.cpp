// Normalization MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("normalization: batch_norm takes per-channel constants") {
    MilFixture f;
    Value* x = f.fp32({"n", 16, 8, 8});
    Value* c = f.fp32Const({16});
    CHECK(f.b.add("batch_norm", {{"x", x}, {"mean", c}, {"variance", c}})->type().str() == "fp32[n,16,8,8]");
    CHECK(f.b.add("batch_norm", {{"x", x}, {"mean", c}, {"variance", c}, {"gamma", c}, {"beta", c}, {"epsilon", 1e-3}})
              ->type()
              .str() == "fp32[n,16,8,8]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("batch_norm", {{"x", x}, {"mean", f.fp32Const({8})}, {"variance", c}});
                   }),
                   {"'batch_norm'", "'mean' has 8 values", "16 channels"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("batch_norm", {{"x", f.fp32({4, 16})}, {"mean", c}, {"variance", c}});
                   }),
                   {"'batch_norm'", "rank 3 to 5"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("batch_norm", {{"x", x}, {"mean", f.fp32({16})}, {"variance", c}});
                   }),
                   {"'batch_norm'", "'mean'", "constant"}));
}

TEST_CASE("normalization: layer_norm axes and parameter shapes") {
    MilFixture f;
    Value* x = f.fp32({2, 5, 768});
    CHECK(f.b.add("layer_norm", {{"x", x}, {"axes", {-1}}, {"gamma", f.fp32Const({768})}, {"beta", f.fp32Const({768})}})
              ->type()
              .str() == "fp32[2,5,768]");
    CHECK(f.b.add("layer_norm", {{"x", x}})->type().str() == "fp32[2,5,768]");
    CHECK(f.b.add("layer_norm", {{"x", x}, {"axes", {2, 1}}, {"gamma", f.fp32Const({5, 768})}})->type().str() ==
          "fp32[2,5,768]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("layer_norm", {{"x", x}, {"axes", {-1}}, {"gamma", f.fp32Const({512})}});
                   }),
                   {"'layer_norm'", "'gamma'", "[768]"}));
    CHECK(mentions(errorOf([&] { f.b.add("layer_norm", {{"x", x}, {"axes", {3}}}); }), {"'layer_norm'", "axis 3"}));
}

TEST_CASE("normalization: instance_norm, l2_norm, local_response_norm") {
    MilFixture f;
    Value* x = f.fp32({1, 4, 8, 8});
    CHECK(f.b.add("instance_norm", {{"x", x}, {"gamma", f.fp32Const({4})}})->type().str() == "fp32[1,4,8,8]");
    CHECK(f.b.add("l2_norm", {{"x", x}})->type().str() == "fp32[1,4,8,8]");
    CHECK(mentions(errorOf([&] { f.b.add("l2_norm", {{"x", f.fp32({4, 8})}}); }), {"'l2_norm'", "at least 3"}));
    CHECK(f.b.add("local_response_norm", {{"x", x}, {"size", 5}})->type().str() == "fp32[1,4,8,8]");
    CHECK(mentions(errorOf([&] { f.b.add("local_response_norm", {{"x", x}}); }), {"'size'", "missing"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("instance_norm", {{"x", f.fp32({1, 4, 8, 8, 8})}});
                   }),
                   {"'instance_norm'", "rank 3 to 4"}));
}
