// Table-driven lowering tests: each case is one small scripted module, the sizes of its inputs,
// the MIL ops its lowering must emit and the outputs it must produce. Every family's table is also
// compared numerically with LibTorch (checkAllNumerics, tests/runtime/RuntimeTestSupport.h).
#pragma once

#include "TestSupport.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace ts2coreml::test {

/// One forward() argument: its sizes (what a numerical check runs with), the axes converted as
/// symbolic dims, and its dtype.
struct TestInput {
    TestInput(std::initializer_list<int64_t> s) : sizes(s) {}
    TestInput(std::vector<int64_t> s, std::vector<size_t> dynamic, DType d = DType::Float32)
        : sizes(std::move(s)), dynamicAxes(std::move(dynamic)), dtype(d) {}
    std::vector<int64_t> sizes;
    std::vector<size_t> dynamicAxes;
    DType dtype = DType::Float32;
};

/// An input whose listed axes are symbolic (bounded 1..4 * size) when converting.
inline TestInput dynamicInput(std::vector<int64_t> sizes, std::vector<size_t> axes) {
    return TestInput(std::move(sizes), std::move(axes));
}
inline TestInput intInput(std::vector<int64_t> sizes) { return TestInput(std::move(sizes), {}, DType::Int32); }

/// In an expected output: a dim that must be symbolic, and a dim not checked.
constexpr int64_t kSymbolic = -1;
constexpr int64_t kAnyDim = -2;

/// Expected output: sizes (or kSymbolic / kAnyDim) and dtype.
struct TestOutput {
    TestOutput(std::initializer_list<int64_t> s) : sizes(s) {}
    TestOutput(std::vector<int64_t> s, DType d) : sizes(std::move(s)), dtype(d) {}
    std::vector<int64_t> sizes;
    DType dtype = DType::Float32;
};

struct LoweringCase {
    std::string name;
    std::string source;  ///< `def forward(self, x, ...):` ...
    std::vector<TestInput> inputs;
    std::map<std::string, int> ops;  ///< MIL op -> exact count in main (0 = must be absent)
    std::vector<TestOutput> outputs;
};

struct RefusedCase {
    std::string name;
    std::string source;
    std::vector<TestInput> inputs;
    std::vector<std::string> errorMentions;  ///< each must appear in the conversion error
};

/// The ModelInputs a case converts with.
std::vector<ModelInput> modelInputs(const std::vector<TestInput>& inputs);

/// Lowers the case's module and checks its ops and output types; a failure names the case.
void checkLowering(const LoweringCase& c);
/// Lowering must fail with an error mentioning every expected fragment.
void checkRefused(const RefusedCase& c);

/// The cases a numerical comparison with LibTorch can run: all but those with a bool output, which
/// a Core ML model cannot have (the backend refuses bool multi-arrays).
inline std::vector<LoweringCase> numericCases(const std::vector<LoweringCase>& cases) {
    std::vector<LoweringCase> out;
    for (const auto& c : cases)
        if (std::none_of(c.outputs.begin(), c.outputs.end(),
                         [](const TestOutput& o) { return o.dtype == DType::Bool; }))
            out.push_back(c);
    return out;
}

inline void checkAll(const std::vector<LoweringCase>& cases) {
    for (const auto& c : cases) checkLowering(c);
}
inline void checkAll(const std::vector<RefusedCase>& cases) {
    for (const auto& c : cases) checkRefused(c);
}

}  // namespace ts2coreml::test
