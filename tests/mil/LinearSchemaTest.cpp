// Linear-algebra MIL op schemas.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("linear: x (*D, D_in) times weight (D_out, D_in)") {
    MilFixture f;
    CHECK(
        f.b.add("linear", {{"x", f.fp32({"b", 512})}, {"weight", f.fp32Const({10, 512})}, {"bias", f.fp32Const({10})}})
            ->type()
            .str() == "fp32[b,10]");
    CHECK(f.b.add("linear", {{"x", f.fp32({2, 7, 64})}, {"weight", f.fp32Const({32, 64})}})->type().str() ==
          "fp32[2,7,32]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("linear", {{"x", f.fp32({2, 63})}, {"weight", f.fp32Const({32, 64})}});
                   }),
                   {"'linear'", "last dimension of x"}));
    CHECK(mentions(
        errorOf([&] {
            f.b.add("linear", {{"x", f.fp32({2, 64})}, {"weight", f.fp32Const({32, 64})}, {"bias", f.fp32Const({31})}});
        }),
        {"'linear'", "bias"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("linear", {{"x", f.fp32({2, 64})}, {"weight", f.fp32({32, 64})}});
                   }),
                   {"'linear'", "'weight'", "constant"}));
}

TEST_CASE("matmul: numpy rules with batch broadcasting") {
    MilFixture f;
    CHECK(f.b.add("matmul", {{"x", f.fp32({2, 1, 3, 4})}, {"y", f.fp32({5, 4, 6})}})->type().str() == "fp32[2,5,3,6]");
    CHECK(f.b.add("matmul", {{"x", f.fp32({3, 4})}, {"y", f.fp32({4})}})->type().str() == "fp32[3]");
    CHECK(f.b.add("matmul", {{"x", f.fp32({4})}, {"y", f.fp32({2, 4, 5})}})->type().str() == "fp32[2,5]");
    CHECK(f.b.add("matmul", {{"x", f.fp32({4})}, {"y", f.fp32({4})}})->type().str() == "fp32[]");
    CHECK(f.b.add("matmul", {{"x", f.fp32({"b", 8, 4})}, {"y", f.fp32({"b", 8, 4})}, {"transpose_y", true}})
              ->type()
              .str() == "fp32[b,8,8]");
    CHECK(f.b.add("matmul", {{"x", f.fp32({4, 3})}, {"y", f.fp32({4, 5})}, {"transpose_x", true}})->type().str() ==
          "fp32[3,5]");
}

TEST_CASE("matmul: rejections") {
    MilFixture f;
    CHECK(mentions(errorOf([&] {
                       f.b.add("matmul", {{"x", f.fp32({3, 4})}, {"y", f.fp32({5, 6})}});
                   }),
                   {"'matmul'", "inner dimensions", "4", "5"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("matmul", {{"x", f.fp32({4})}, {"y", f.fp32({4, 2})}, {"transpose_x", true}});
                   }),
                   {"'matmul'", "transpose_x"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("matmul", {{"x", f.fp32({2, 3, 4})}, {"y", f.fp32({3, 4, 5})}});
                   }),
                   {"'matmul'", "not broadcastable"}));
}

TEST_CASE("einsum: the two supported equations") {
    MilFixture f;
    Value* a = f.fp32({2, 3, 4, 5});
    Value* b = f.fp32({2, 5, 4, 6});
    CHECK(f.b.add("einsum", {{"values", std::vector<Value*>{a, b}}, {"equation", "nchw,nwhr->nchr"}})->type().str() ==
          "fp32[2,3,4,6]");
    CHECK(f.b.add("einsum",
                  {{"values", std::vector<Value*>{f.fp32({3, 4, 5}), f.fp32({5, 4, 6})}}, {"equation", "abc,cbd->abd"}})
              ->type()
              .str() == "fp32[3,4,6]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("einsum", {{"values", std::vector<Value*>{a, b}}, {"equation", "ij,jk->ik"}});
                   }),
                   {"'einsum'", "not supported"}));
}
