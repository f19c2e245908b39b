// Unique values (Unique.cpp: _unique2, unique_consecutive): op counts, refusals naming the op, and
// numerics against LibTorch as an ML Program; as a NeuralNetwork the sort and the data-dependent
// count (argsort, non_zero) have no layer and are refused by name.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

TestOutput ints(std::vector<int64_t> sizes) { return TestOutput(std::move(sizes), DType::Int32); }

const std::vector<LoweringCase> kUnique = {
    {"unique of distinct floats, sorted",
     R"(def forward(self, x):
    return torch._unique2(x)[0])",
     {{3, 4}},
     {{"argsort", 1}, {"non_zero", 1}},
     {{kSymbolic}}},
    {"unique of repeated floats with inverse and counts, 2-D",
     R"(def forward(self, x):
    v, inv, n = torch._unique2(torch.round(x * 2.0), True, True, True)
    return v, inv, n)",
     {{4, 5}},
     {{"argsort", 1}, {"non_zero", 1}, {"cumsum", 1}, {"scatter", 1}},
     {{kSymbolic}, ints({4, 5}), ints({kSymbolic})}},
    {"unique of repeated ints with counts, 3-D",
     R"(def forward(self, i):
    v, _, n = torch._unique2(i % 4, True, False, True)
    return v, n)",
     {intInput({2, 3, 4})},
     {{"argsort", 1}, {"non_zero", 1}},
     {ints({kSymbolic}), ints({kSymbolic})}},
    {"unique of ints with inverse only, used as indices",
     R"(def forward(self, i, x):
    v, inv, _ = torch._unique2(i % 3, return_inverse=True)
    return v, inv, v[inv] * 2 + i.size(0))",
     {intInput({7}), {7}},
     {{"argsort", 1}, {"non_zero", 1}},
     {ints({kSymbolic}), ints({7}), ints({7})}},
    {"unique of distinct ints with inverse and counts",
     R"(def forward(self, i):
    d = i * 0 + torch.tensor([5, -2, 9, 0, 3, 7])
    v, inv, n = torch._unique2(d, True, True, True)
    return v, inv, n)",
     {intInput({6})},
     {{"non_zero", 1}},
     {ints({kSymbolic}), ints({6}), ints({kSymbolic})}},
    {"unique_consecutive of ints with inverse and counts",
     R"(def forward(self, i):
    v, inv, n = torch.unique_consecutive(i % 2, return_inverse=True, return_counts=True)
    return v, inv, n)",
     {intInput({3, 5})},
     {{"argsort", 0}, {"non_zero", 1}, {"cumsum", 1}},
     {ints({kSymbolic}), ints({3, 5}), ints({kSymbolic})}},
    {"unique_consecutive of floats",
     R"(def forward(self, x):
    return torch.unique_consecutive(torch.round(x))[0])",
     {{9}},
     {{"argsort", 0}, {"non_zero", 1}},
     {{kSymbolic}}},
};

const std::vector<RefusedCase> kRefused = {
    {"unique with sorted=False",
     R"(def forward(self, x):
    return torch._unique2(x, False)[0])",
     {{4}},
     {"_unique2", "sorted=False"}},
    {"unique along a dim",
     R"(def forward(self, x):
    return torch.unique_dim(x, 0)[0])",
     {{4, 2}},
     {"aten::unique_dim"}},
    {"unique_consecutive along a dim",
     R"(def forward(self, x):
    return torch.unique_consecutive(x, dim=0)[0])",
     {{4, 2}},
     {"unique_consecutive", "dim=None"}},
};

}  // namespace

TEST_CASE("unique lowerings emit the expected MIL ops") { checkAll(kUnique); }

TEST_CASE("unique lowerings refuse what they cannot express and name the op") { checkAll(kRefused); }

TEST_CASE("unique lowerings match LibTorch numerically") { checkAllNumerics(numericCases(kUnique)); }

TEST_CASE("unique as a NeuralNetwork model: the sort and the run count have no layer and are refused by name") {
    std::map<std::string, std::string> refused;
    for (const auto& c : kUnique)
        refused[c.name] = c.name.rfind("unique_consecutive", 0) == 0 ? "'non_zero'" : "'argsort'";
    checkNeuralNetworkNumerics(kUnique, refused);
}
