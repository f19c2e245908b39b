// Attention MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("scaled_dot_product_attention (iOS18)") {
    MilFixture f(Target::iOS18);
    Value* q = f.fp32({2, 8, 10, 64});
    Value* k = f.fp32({2, 8, 12, 64});
    Value* v = f.fp32({2, 8, 12, 32});
    CHECK(f.b.add("scaled_dot_product_attention", {{"query", q}, {"key", k}, {"value", v}})->type().str() ==
          "fp32[2,8,10,32]");
    Value* mask = f.input(DType::Bool, {10, 12});
    CHECK(f.b.add("scaled_dot_product_attention", {{"query", q}, {"key", k}, {"value", v}, {"attn_mask", mask}})
              ->type()
              .str() == "fp32[2,8,10,32]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("scaled_dot_product_attention", {{"query", q}, {"key", v}, {"value", v}});
                   }),
                   {"'scaled_dot_product_attention'", "embedding"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("scaled_dot_product_attention",
                               {{"query", q}, {"key", k}, {"value", v}, {"attn_mask", f.fp32({10, 11})}});
                   }),
                   {"'scaled_dot_product_attention'", "attn_mask"}));
}
