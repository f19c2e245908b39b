// The builder checks every op against its schema when the op is created.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("mil builder: a well-formed op gets typed outputs and joins the block") {
    MilFixture f;
    Value* x = f.fp32({2, 3});
    Value* y = f.b.add("relu", {{"x", x}});
    CHECK(y->type().str() == "fp32[2,3]");
    CHECK(y->producer()->type() == "relu");
    CHECK(f.block.operations().back()->type() == "relu");
}

TEST_CASE("mil builder: literals become constants, integers as int32 and reals as fp32") {
    MilFixture f;
    Value* x = f.fp32({1, 4, 8});
    Value* y = f.b.add("softmax", {{"x", x}, {"axis", 1}});
    const Operation* op = y->producer();
    REQUIRE(op->input("axis")->constant());
    CHECK(op->input("axis")->type().str() == "int32[]");
    CHECK(f.b.add("leaky_relu", {{"x", x}, {"alpha", 0.1}})->producer()->input("alpha")->type().dtype ==
          DType::Float32);
}

TEST_CASE("mil builder: a wrong input dtype is rejected naming the op and the input") {
    MilFixture f;
    Value* x = f.input(DType::Int32, {1, 3, 8, 8});
    Value* w = f.fp32Const({4, 3, 3, 3});
    const std::string error = errorOf([&] { f.b.add("conv", {{"x", x}, {"weight", w}}); });
    CHECK(mentions(error, {"conv", "'x'", "int32", "fp16|fp32"}));
    CHECK(f.block.operations().size() == 1);  // only the weight constant; no conv was added
}

TEST_CASE("mil builder: inputs sharing a type variable must share a dtype") {
    MilFixture f;
    Value* x = f.fp32({2});
    Value* y = f.input(DType::Float16, {2});
    CHECK(mentions(errorOf([&] { f.b.add("add", {{"x", x}, {"y", y}}); }), {"'add'", "'y'", "fp16", "fp32"}));
    // int32 + fp32 too: MIL does not promote.
    Value* i = f.input(DType::Int32, {2});
    CHECK(mentions(errorOf([&] { f.b.add("mul", {{"x", i}, {"y", x}}); }), {"'mul'", "'y'"}));
}

TEST_CASE("mil builder: unknown input names are rejected with the op's inputs listed") {
    MilFixture f;
    Value* x = f.fp32({2, 2});
    const std::string error = errorOf([&] { f.b.add("relu", {{"input", x}}); });
    CHECK(mentions(error, {"'relu'", "no input named 'input'", "inputs: x"}));
}

TEST_CASE("mil builder: missing required inputs are rejected") {
    MilFixture f;
    Value* x = f.fp32({2, 2});
    CHECK(mentions(errorOf([&] { f.b.add("add", {{"x", x}}); }), {"'add'", "required input 'y' is missing"}));
    CHECK(mentions(errorOf([&] { f.b.add("transpose", {{"x", x}}); }), {"'transpose'", "'perm'"}));
}

TEST_CASE("mil builder: a computed value where a constant is required is rejected") {
    MilFixture f;
    Value* x = f.fp32({1, 3, 8, 8});
    Value* perm = f.input(DType::Int32, {4});
    CHECK(mentions(errorOf([&] {
                       f.b.add("transpose", {{"x", x}, {"perm", perm}});
                   }),
                   {"'transpose'", "'perm'", "must be a constant"}));
    // conv's bias is a constant on iOS15.
    Value* bias = f.fp32({4});
    CHECK(mentions(errorOf([&] {
                       f.b.add("conv", {{"x", x}, {"weight", f.fp32Const({4, 3, 1, 1})}, {"bias", bias}});
                   }),
                   {"'conv'", "'bias'", "must be a constant"}));
}

TEST_CASE("mil builder: an op newer than the target is rejected") {
    MilFixture f(Target::iOS15);
    Value* x = f.fp32({2, 3});
    CHECK(mentions(errorOf([&] {
                       f.b.add("fill_like", {{"ref_tensor", x}});
                   }),
                   {"'fill_like'", "needs iOS16 or later", "target is iOS15"}));
    MilFixture f16(Target::iOS16);
    CHECK(f16.b.add("fill_like", {{"ref_tensor", f16.fp32({2, 3})}})->type().str() == "fp32[2,3]");
    MilFixture f17(Target::iOS17);
    Value* q = f17.fp32({1, 4, 8});
    CHECK(mentions(errorOf([&] {
                       f17.b.add("scaled_dot_product_attention", {{"query", q}, {"key", q}, {"value", q}});
                   }),
                   {"needs iOS18"}));
}

TEST_CASE("mil builder: the base op set is available from iOS13 (NeuralNetwork targets)") {
    MilFixture f(Target::iOS13);
    Value* x = f.fp32({1, 3, 8, 8});
    CHECK(f.b.add("conv", {{"x", x}, {"weight", f.fp32Const({2, 3, 3, 3})}})->type().str() == "fp32[1,2,6,6]");
}

TEST_CASE("mil builder: unknown ops, lists for single inputs and const through addOp are rejected") {
    MilFixture f;
    Value* x = f.fp32({2});
    CHECK(mentions(errorOf([&] { f.b.add("frobnicate", {{"x", x}}); }), {"unknown MIL op 'frobnicate'"}));
    CHECK(mentions(errorOf([&] { f.b.add("relu", {{"x", std::vector<Value*>{x, x}}}); }), {"'relu'", "not a list"}));
    CHECK(mentions(errorOf([&] { f.b.addOp("const", {}); }), {"'const'", "Builder::constant"}));
    CHECK(SchemaTable::instance().find("const") != nullptr);
}

TEST_CASE("mil builder: add() refuses multi-output ops, addOp returns every output") {
    MilFixture f;
    Value* x = f.fp32({6, 4});
    CHECK(mentions(errorOf([&] { f.b.add("split", {{"x", x}, {"num_splits", 3}, {"axis", 0}}); }), {"3 outputs"}));
    CHECK(f.b.addOp("split", {{"x", x}, {"num_splits", 3}, {"axis", 0}}).size() == 3);
}

TEST_CASE("mil builder: every declared schema has a name, an inference rule and documentation") {
    const auto all = SchemaTable::instance().all();
    CHECK(all.size() > 100);
    for (const OpSchema* s : all) {
        CAPTURE(s->name);
        CHECK(!s->name.empty());
        CHECK(static_cast<bool>(s->infer));
        CHECK(!s->doc.empty());
        for (const InputSpec& in : s->inputs) {
            CAPTURE(in.name);
            // A default only makes sense on an optional input.
            CHECK((in.optional || std::holds_alternative<std::monostate>(in.defaultValue)));
        }
    }
}
