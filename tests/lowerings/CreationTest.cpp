// Creation lowerings (core/lowerings/Creation.cpp). torch folds a factory of constant arguments
// before lowering, so the sizes here come from the inputs (x.size(i)): static ones reach the
// constant forms, run-time ones the computed forms.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const TestInput kRows = dynamicInput({4, 3}, {0});  // [1..16, 3]

const std::vector<LoweringCase> kCases = {
    {"eye of static sizes, square and not, as int",
     R"(def forward(self, x):
    return x + torch.eye(x.size(0)), torch.eye(x.size(0), x.size(0) + 2, dtype=3))",
     {{3, 3}},
     {{"equal", 0}},
     {{3, 3}, TestOutput({3, 5}, DType::Int32)}},
    {"eye of a run-time size",
     R"(def forward(self, x):
    return x + torch.eye(x.size(0), 3))",
     {kRows},
     {{"range_1d", 1}, {"equal", 1}},
     {{kSymbolic, 3}}},
    {"linspace of static steps, and as ints",
     R"(def forward(self, x):
    return x + torch.linspace(-1.0, 2.0, x.size(1)), torch.linspace(0, 9, x.size(1), dtype=3))",
     {{2, 7}},
     {},
     {{2, 7}, TestOutput({7}, DType::Int32)}},
    {"linspace to a run-time bound",
     R"(def forward(self, x):
    return x + torch.linspace(0.0, x.size(0), 3))",
     {kRows},
     {{"range_1d", 0}, {"mul", 1}},
     {{kSymbolic, 3}}},
    {"logspace of base 10 and base 2",
     R"(def forward(self, x):
    return x * torch.logspace(-1.0, 1.0, x.size(1)), torch.logspace(0.0, 3.0, x.size(1), 2.0))",
     {{2, 4}},
     {},
     {{2, 4}, {4}}},
    {"logspace to a run-time bound",
     R"(def forward(self, x):
    return x * torch.logspace(0.0, x.size(0) * 0.25, 3))",
     {kRows},
     {{"pow", 1}},
     {{kSymbolic, 3}}},
    {"one_hot",
     R"(def forward(self, i):
    return torch.one_hot(i, 10))",
     {intInput({2, 3})},
     {{"equal", 1}, {"cast", 1}},
     {TestOutput({2, 3, 10}, DType::Int32)}},
    {"new_zeros, new_ones, new_full and new_empty keep self's dtype",
     R"(def forward(self, x, i):
    return x.new_zeros([x.size(0), 2]) + 1.5, x.new_ones(x.size(1)), i.new_full([2, i.size(1)], 7), torch.zeros_like(x.new_empty([x.size(1)])))",
     {{2, 3}, intInput({2, 4})},
     {},
     {{2, 2}, {3}, TestOutput({2, 4}, DType::Int32), {3}}},
    {"new_ones of a run-time size with a dtype",
     R"(def forward(self, x):
    return x.new_ones([x.size(0)], dtype=3))",
     {kRows},
     {{"fill", 1}},
     {TestOutput({kSymbolic}, DType::Int32)}},
    {"empty and empty_like, filled in place",
     R"(def forward(self, x):
    return torch.empty(x.size(0), 2).fill_(1.5), torch.empty_like(x).fill_(-2) + x)",
     {{2, 3}},
     {},
     {{2, 2}, {2, 3}}},
    {"tensor of a number and of a list holding a size",
     R"(def forward(self, x):
    return x + torch.tensor(0.5), torch.tensor([x.size(1), 2]), torch.tensor([x.size(0), 4]))",
     {kRows},
     {{"concat", 1}},
     {{kSymbolic, 3}, TestOutput({2}, DType::Int32), TestOutput({2}, DType::Int32)}},
    {"fill by a number and by a 0-D tensor",
     R"(def forward(self, x, y):
    return torch.fill(x, 2.5), torch.fill(x, y.sum()))",
     {{2, 3}, {4}},
     {},
     {{2, 3}, {2, 3}}},
    {"scalar_tensor of a number and of a size",
     R"(def forward(self, x):
    return x + torch.scalar_tensor(x.size(1) * 0.5), torch.scalar_tensor(x.size(0), dtype=3))",
     {{2, 3}},
     {},
     {{2, 3}, TestOutput({}, DType::Int32)}},
};

const std::vector<RefusedCase> kRefused = {
    {"one_hot of run-time indices without num_classes",
     R"(def forward(self, i):
    return torch.one_hot(i))",
     {intInput({3})},
     {"give num_classes"}},
};

}  // namespace

TEST_CASE("Creation lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Creation lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("Creation lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Creation lowering cases match LibTorch numerically as NeuralNetwork layers") {
    // MIL fill, which makes a tensor of a run-time size, has no NeuralNetwork layer.
    checkNeuralNetworkNumerics(numericCases(kCases), {{"new_ones of a run-time size with a dtype", "op 'fill'"}});
}
