// Scripted control flow: prim::If -> MIL cond, prim::Loop (for and while) -> MIL while_loop, and
// in a NeuralNetwork BranchLayer / LoopLayer. Each module is converted, written in both formats,
// read back, executed by the reference runtime and compared with LibTorch on inputs chosen to
// take every path.
#include "TestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

/// Op counts of the lowered (not yet optimized) program, nested blocks included.
std::map<std::string, int> opsOf(const std::string& source, const std::vector<TestInput>& inputs) {
    LoweredModel lowered = lower(scriptModule(source), modelInputs(inputs));
    std::map<std::string, int> histogram;
    mil::walk(lowered.program->main().body, [&](const mil::Operation& op) { ++histogram[op.type()]; });
    return histogram;
}

/// Converts to an ML Program and (fp32) to a NeuralNetwork of branch and loop layers, reads each
/// file back, executes it on `feed` and compares with LibTorch.
void checkOn(const std::string& name, const std::string& source, const std::vector<TestInput>& inputs,
             const std::vector<at::Tensor>& feed, Precision precision = Precision::Float32) {
    NumericalOptions options;
    options.feed = feed;
    options.precision = precision;
    checkNumerics(LoweringCase{name, source, inputs, {}, {}}, options);
    if (precision != Precision::Float32) return;
    options.format = ModelFormat::NeuralNetwork;
    checkNumerics(LoweringCase{name + ", NeuralNetwork", source, inputs, {}, {}}, options);
}

const char* kIf = R"(def forward(self, x):
    if bool(x.sum() > 0):
        y = x * 2.0 + 1.0
    else:
        y = torch.relu(x - 1.0)
    return y)";

// A loop over a constant range is unrolled by torch's freezing; one over an input's (flexible)
// size stays a loop.
const char* kFor = R"(def forward(self, x):
    y = x
    for i in range(x.size(0)):
        y = y * 0.5 + x
    return y)";

const char* kWhile = R"(def forward(self, x):
    y = x
    while bool(y.sum() < 100.0):
        y = y * 2.0
    return y)";

const char* kNested = R"(def forward(self, x):
    y = x
    if bool(x.mean() > 0):
        for i in range(x.size(0)):
            y = y + x * float(i)
    else:
        y = -x
    return y)";

const char* kGrowing = R"(def forward(self, x):
    y = x
    for i in range(x.size(0)):
        y = torch.cat([y, x * float(i)], 0)
    return y)";

}  // namespace

TEST_CASE("scripted if on a tensor condition becomes cond, and both branches match LibTorch") {
    CHECK(opsOf(kIf, {{2, 3}})["cond"] == 1);
    const at::Tensor pos = at::rand({2, 3}) + 0.1, neg = -at::rand({2, 3}) - 0.1;
    checkOn("if, then branch", kIf, {{2, 3}}, {pos});
    checkOn("if, else branch", kIf, {{2, 3}}, {neg});
    checkOn("if, then branch, fp16", kIf, {{2, 3}}, {pos}, Precision::Float16);
}

const TestInput kRows({4, 3}, {0});  // [1..64, 3]

TEST_CASE("a for loop with a carried tensor becomes while_loop") {
    CHECK(opsOf(kFor, {kRows})["while_loop"] == 1);
    checkOn("for loop, 4 rows", kFor, {kRows}, {at::randn({4, 3})});
    checkOn("for loop, 2 rows", kFor, {kRows}, {at::randn({2, 3})});
    checkOn("for loop, fp16", kFor, {kRows}, {at::randn({4, 3})}, Precision::Float16);
}

TEST_CASE("a data-dependent while loop runs as many times as LibTorch's") {
    CHECK(opsOf(kWhile, {{2, 3}})["while_loop"] == 1);
    checkOn("while loop, few iterations", kWhile, {{2, 3}}, {at::full({2, 3}, 5.0f)});
    checkOn("while loop, many iterations", kWhile, {{2, 3}}, {at::full({2, 3}, 0.01f)});
}

TEST_CASE("a loop nested in an if branch") {
    auto ops = opsOf(kNested, {kRows});
    CHECK(ops["cond"] == 1);
    CHECK(ops["while_loop"] == 1);
    checkOn("nested, loop branch", kNested, {kRows}, {at::rand({4, 3}) + 0.1});
    checkOn("nested, other branch", kNested, {kRows}, {-at::rand({3, 3}) - 0.1});
}

TEST_CASE("a tensor growing across loop iterations") {
    CHECK(opsOf(kGrowing, {kRows})["while_loop"] == 1);
    checkOn("growing, 3 rows", kGrowing, {kRows}, {at::randn({3, 3})});
    checkOn("growing, 1 row", kGrowing, {kRows}, {at::randn({1, 3})});
}

namespace {

// Reshape targets computed from the input's length at run time: baked from one length, they would
// fail (or silently mix rows) at any other.
const char* kReshapeByLength = R"(def forward(self, x):
    n = x.size(0)
    y = x.reshape(2, -1, n)
    z = y.sum(1).reshape(n * 2)
    return z.reshape(n, 2) * 2.0)";

}  // namespace

TEST_CASE("a reshape that depends on the input's length stays dynamic") {
    const TestInput rows({4, 4}, {0});  // [1..16, 4]
    LoweredModel lowered = lower(scriptModule(kReshapeByLength), modelInputs({rows}));
    const TensorType out = outputTypes(*lowered.program).at(0);
    REQUIRE(out.rank() == 2);
    CHECK_FALSE(out.shape[0].isStatic());
    CHECK(out.shape[1] == Dim::fixed(2));
    checkOn("reshape by length, 4 rows", kReshapeByLength, {rows}, {at::randn({4, 4})});
    checkOn("reshape by length, 7 rows", kReshapeByLength, {rows}, {at::randn({7, 4})});
    checkOn("reshape by length, 1 row", kReshapeByLength, {rows}, {at::randn({1, 4})});
}
