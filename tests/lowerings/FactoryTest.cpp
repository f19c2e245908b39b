// Tensor factory lowerings (core/lowerings/Factory.cpp). Factories of constant sizes are folded by
// torch before lowering; these take their sizes from an input of run-time length, as a traced
// `torch.arange(x.size(0))` does.
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const TestInput kRows = dynamicInput({5, 3}, {0});  // [1..20, 3]

const std::vector<LoweringCase> kCases = {
    {"arange to a run-time length (int)",
     R"(def forward(self, x):
    return torch.arange(x.size(0)))",
     {kRows},
     {{"range_1d", 1}},
     {TestOutput({kSymbolic}, DType::Int32)}},
    {"arange with start and step, as float (dtype 6)",
     R"(def forward(self, x):
    return x + torch.arange(1, x.size(0) * 2 + 1, 2, dtype=6).unsqueeze(1))",
     {kRows},
     {{"range_1d", 1}, {"cast", 1}},
     {{kSymbolic, 3}}},
    {"arange of float bounds",
     R"(def forward(self, x):
    return torch.arange(0.5, float(x.size(0))))",
     {kRows},
     {{"range_1d", 1}},
     {{kSymbolic}}},
    {"zeros of a run-time size",
     R"(def forward(self, x):
    return x + torch.zeros(x.size(0), 3))",
     {kRows},
     {{"fill", 1}},
     {{kSymbolic, 3}}},
    {"ones as int64 (dtype 4) narrows to int32",
     R"(def forward(self, x):
    return torch.ones([x.size(0), 2], dtype=4))",
     {kRows},
     {{"fill", 1}},
     {TestOutput({kSymbolic, 2}, DType::Int32)}},
    {"full of a run-time value",
     R"(def forward(self, x):
    return torch.full([x.size(0), 3], float(x.size(0))))",
     {kRows},
     {{"fill", 1}, {"add", 1}},
     {{kSymbolic, 3}}},
    {"zeros_like and ones_like",
     R"(def forward(self, x):
    return torch.zeros_like(x) + torch.ones_like(x) * x)",
     {kRows},
     {{"fill", 2}},
     {{kSymbolic, 3}}},
    {"full_like",
     R"(def forward(self, x):
    return torch.full_like(x, 2.5) - x)",
     {kRows},
     {{"fill", 1}},
     {{kSymbolic, 3}}},
};

}  // namespace

TEST_CASE("Factory lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Factory lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
