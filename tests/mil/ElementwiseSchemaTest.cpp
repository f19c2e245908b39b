// Elementwise MIL op schemas: broadcasting, result dtypes, domains.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("elementwise: binary ops broadcast numpy-style") {
    MilFixture f;
    Value* a = f.fp32({2, 1, 4});
    Value* b = f.fp32({3, 1});
    CHECK(f.b.add("add", {{"x", a}, {"y", b}})->type().str() == "fp32[2,3,4]");
    CHECK(f.b.add("real_div", {{"x", a}, {"y", 2.0}})->type().str() == "fp32[2,1,4]");
    CHECK(f.b.add("pow", {{"x", f.fp32({})}, {"y", f.fp32({})}})->type().str() == "fp32[]");
    Value* i = f.input(DType::Int32, {5});
    CHECK(f.b.add("floor_div", {{"x", i}, {"y", 2}})->type().str() == "int32[5]");
}

TEST_CASE("elementwise: non-broadcastable shapes are rejected naming the op") {
    MilFixture f;
    const std::string error = errorOf([&] { f.b.add("sub", {{"x", f.fp32({2, 3})}, {"y", f.fp32({4})}}); });
    CHECK(mentions(error, {"MIL op 'sub'", "[2,3]", "[4]", "not broadcastable"}));
}

TEST_CASE("elementwise: symbolic dimensions survive broadcasting") {
    MilFixture f;
    Value* y = f.b.add("mul", {{"x", f.fp32({"batch", 1, 8})}, {"y", f.fp32({4, 1})}});
    CHECK(y->type().str() == "fp32[batch,4,8]");
}

TEST_CASE("elementwise: comparisons give bool, logical ops take bool") {
    MilFixture f;
    Value* x = f.fp32({3});
    Value* c = f.b.add("greater_equal", {{"x", x}, {"y", 0.5}});
    CHECK(c->type().str() == "bool[3]");
    for (const char* op : {"equal", "not_equal", "less", "less_equal", "greater"})
        CHECK(f.b.add(op, {{"x", x}, {"y", x}})->type().dtype == DType::Bool);
    CHECK(f.b.add("logical_and", {{"x", c}, {"y", c}})->type().str() == "bool[3]");
    CHECK(f.b.add("logical_not", {{"x", c}})->type().str() == "bool[3]");
    CHECK(mentions(errorOf([&] { f.b.add("logical_or", {{"x", x}, {"y", x}}); }), {"'logical_or'", "'x'", "bool"}));
}

TEST_CASE("elementwise: unary ops keep the type, int32 only where Apple allows it") {
    MilFixture f;
    Value* x = f.fp32({2, "s0"});
    for (const char* op : {"sqrt", "exp", "log", "sin", "cos", "tanh", "erf", "floor", "ceil", "round", "atanh"})
        CHECK(f.b.add(op, {{"x", x}})->type().str() == "fp32[2,s0]");
    Value* i = f.input(DType::Int32, {4});
    for (const char* op : {"abs", "sign", "square", "exp2"}) CHECK(f.b.add(op, {{"x", i}})->type().str() == "int32[4]");
    CHECK(mentions(errorOf([&] { f.b.add("sqrt", {{"x", i}}); }), {"'sqrt'", "'x'", "int32"}));
}

TEST_CASE("elementwise: epsilon inputs default and share x's dtype") {
    MilFixture f;
    Value* x = f.fp32({4});
    CHECK(f.b.add("rsqrt", {{"x", x}})->type().str() == "fp32[4]");
    CHECK(f.b.add("log", {{"x", x}, {"epsilon", 1e-6}})->type().str() == "fp32[4]");
    const InputSpec* eps = SchemaTable::instance().find("inverse")->findInput("epsilon");
    REQUIRE(eps);
    CHECK(std::get<double>(eps->defaultValue) == doctest::Approx(1e-4));
    Value* h = f.input(DType::Float16, {4});
    CHECK(mentions(errorOf([&] { f.b.add("rsqrt", {{"x", h}, {"epsilon", 1e-6}}); }), {"'rsqrt'", "'epsilon'"}));
}

TEST_CASE("elementwise: clip and threshold") {
    MilFixture f;
    Value* x = f.fp32({2, 2});
    CHECK(f.b.add("clip", {{"x", x}, {"alpha", 0.0}, {"beta", 6.0}})->type().str() == "fp32[2,2]");
    CHECK(mentions(errorOf([&] { f.b.add("clip", {{"x", x}, {"alpha", 1.0}, {"beta", 1.0}}); }), {"'clip'", "alpha"}));
    CHECK(f.b.add("threshold", {{"x", x}, {"alpha", 0.5}})->type().str() == "fp32[2,2]");
    // Scalar parameters must be scalars.
    CHECK(mentions(errorOf([&] {
                       f.b.add("threshold", {{"x", x}, {"alpha", std::vector<double>{1, 2}}});
                   }),
                   {"'threshold'", "'alpha'", "scalar"}));
}

TEST_CASE("elementwise: cast to the four MIL dtypes") {
    MilFixture f;
    Value* x = f.fp32({"n", 3});
    CHECK(f.b.add("cast", {{"x", x}, {"dtype", "fp16"}})->type().str() == "fp16[n,3]");
    CHECK(f.b.add("cast", {{"x", x}, {"dtype", "int32"}})->type().str() == "int32[n,3]");
    CHECK(f.b.add("cast", {{"x", x}, {"dtype", "bool"}})->type().str() == "bool[n,3]");
    CHECK(mentions(errorOf([&] { f.b.add("cast", {{"x", x}, {"dtype", "int64"}}); }), {"'cast'", "'dtype'", "int64"}));
    CHECK(mentions(errorOf([&] { f.b.add("cast", {{"x", x}, {"dtype", 3}}); }), {"'cast'", "'dtype'", "string"}));
}

TEST_CASE("elementwise: select broadcasts cond, a and b") {
    MilFixture f;
    Value* cond = f.input(DType::Bool, {2, 1, 1});
    Value* y = f.b.add("select", {{"cond", cond}, {"a", f.fp32({1, 3, 1})}, {"b", f.fp32({4})}});
    CHECK(y->type().str() == "fp32[2,3,4]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("select", {{"cond", f.fp32({2})}, {"a", f.fp32({2})}, {"b", f.fp32({2})}});
                   }),
                   {"'select'", "'cond'", "bool"}));
}
