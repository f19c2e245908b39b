// The executor (core/runtime/Executor.cpp): input binding, kernel lookup, fp16 storage, and the
// promise that every declared MIL op is executable.
#include "runtime/RuntimeTestSupport.h"

#include "mil/IRAccess.h"

#include <doctest/doctest.h>

#include <set>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

mil::Program reluProgram(TensorType type) {
    mil::Program program;
    mil::Block& main = program.main().body;
    mil::Builder b(main, Target::iOS15);
    mil::Value* x = main.addInput("x", type);
    main.outputs() = {b.add("relu", {{"x", x}})};
    return program;
}

}  // namespace

TEST_CASE("every declared MIL op has a kernel") {
    // const, cond and while_loop are run by the executor itself, not by kernels; NMS is emitted by
    // no built-in lowering.
    const std::set<std::string> exempt{"const", "cond", "while_loop", "non_maximum_suppression"};
    const auto& kernels = runtime::KernelTable::builtin();
    for (const mil::OpSchema* s : mil::SchemaTable::instance().all()) {
        if (exempt.count(s->name)) continue;
        CHECK_MESSAGE(kernels.find(s->name) != nullptr, "no kernel for MIL op '", s->name, "'");
    }
    for (const std::string& op : kernels.opTypes())
        CHECK_MESSAGE(mil::SchemaTable::instance().find(op) != nullptr, "kernel for undeclared MIL op '", op, "'");
}

TEST_CASE("inputs are checked against the program's declared inputs") {
    const mil::Program p = reluProgram(TensorType::of(DType::Float32, {2, 3}));
    CHECK_THROWS_WITH_AS(runtime::execute(p, {}), doctest::Contains("missing input 'x'"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(runtime::execute(p, {{"x", at::ones({2, 3})}, {"y", at::ones({1})}}),
                         doctest::Contains("no input named 'y'"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(runtime::execute(p, {{"x", at::ones({3, 2})}}), doctest::Contains("expected fp32[2,3]"),
                         std::invalid_argument);
    // An int64 tensor feeds an fp32 input after conversion.
    CHECK(at::equal(runtime::execute(p, {{"x", at::full({2, 3}, -2, at::kLong)}}).at(0), at::zeros({2, 3})));
}

TEST_CASE("an op without a kernel is named in the error") {
    const mil::Program p = reluProgram(TensorType::of(DType::Float32, {2}));
    runtime::KernelTable empty;
    runtime::ExecutionOptions options;
    options.kernels = &empty;
    CHECK_THROWS_WITH_AS(runtime::execute(p, {{"x", at::ones({2})}}, options),
                         doctest::Contains("no kernel for MIL op 'relu'"), runtime::ExecutionError);

    mil::Program q;
    mil::Block& main = q.main().body;
    mil::Value* x = main.addInput("x", TensorType::of(DType::Float32, {2}));
    auto op = std::make_unique<mil::Operation>("fancy_op", &main);
    mil::IRAccess::inputs(*op).emplace_back("x", std::vector<mil::Value*>{x});
    mil::Value* y = op->addOutput("y", TensorType::of(DType::Float32, {2}));
    mil::IRAccess::operations(main).push_back(std::move(op));
    main.outputs() = {y};
    CHECK_THROWS_WITH_AS(runtime::execute(q, {{"x", at::ones({2})}}),
                         doctest::Contains("no kernel for MIL op 'fancy_op'"), runtime::ExecutionError);
    CHECK(runtime::unsupportedOps(q) == std::vector<std::string>{"fancy_op"});
}

TEST_CASE("a kernel result that disagrees with the declared type is an error") {
    mil::Program p = reluProgram(TensorType::of(DType::Float32, {2}));
    // Pretend the program declared another shape for relu's output.
    p.main().body.operations().back()->output()->setType(TensorType::of(DType::Float32, {3}));
    CHECK_THROWS_WITH_AS(runtime::execute(p, {{"x", at::ones({2})}}),
                         doctest::Contains("the kernel and the program's type disagree"), runtime::ExecutionError);
}

TEST_CASE("fp16 values are stored as fp16 between ops") {
    // 1 + 2^-11 is not representable in fp16: it rounds to 1 after the cast, and stays 1.
    const at::Tensor x = at::full({1}, 1.0 + 1.0 / 2048, at::kFloat);
    const at::Tensor y = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        mil::Value* h = b.add("cast", {{"x", in[0]}, {"dtype", "fp16"}});
        mil::Value* twice = b.add("add", {{"x", h}, {"y", h}});
        return b.add("cast", {{"x", twice}, {"dtype", "fp32"}});
    });
    CHECK(y.item<float>() == 2.0f);
    // fp16 overflow: 60000 + 60000 is inf in fp16.
    const at::Tensor big = runOp({at::full({1}, 60000.0f)}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        mil::Value* h = b.add("cast", {{"x", in[0]}, {"dtype", "fp16"}});
        return b.add("cast", {{"x", b.add("add", {{"x", h}, {"y", h}})}, {"dtype", "fp32"}});
    });
    CHECK(std::isinf(big.item<float>()));
}

TEST_CASE("an observer sees every op's outputs") {
    const mil::Program p = reluProgram(TensorType::of(DType::Float32, {2}));
    std::vector<std::string> seen;
    runtime::ExecutionOptions options;
    options.observer = [&](const mil::Operation& op, const std::vector<at::Tensor>& outs) {
        seen.push_back(op.type() + ":" + std::to_string(outs.size()));
    };
    runtime::execute(p, {{"x", at::ones({2})}}, options);
    CHECK(seen == std::vector<std::string>{"relu:1"});
}
