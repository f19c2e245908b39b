// TorchScript number lowerings (core/lowerings/Scalar.cpp): sizes computed in scripted models.
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"int arithmetic on static sizes folds",
     R"(def forward(self, x):
    n = x.size(0) // 2
    return x.view(n, -1))",
     {{4, 6}},
     {{"reshape", 1}, {"floor_div", 0}},
     {{2, 12}}},
    {"int arithmetic on a dynamic size runs in the model",
     R"(def forward(self, x):
    return x.view(x.size(0) * x.size(1), -1))",
     {dynamicInput({2, 3, 4}, {0})},
     {{"shape", 1}, {"gather", 1}, {"mul", 1}, {"concat", 1}, {"reshape", 1}},
     {{kAnyDim, kAnyDim}}},
    {"len of a shape",
     R"(def forward(self, x):
    return x * float(len(x.size())))",
     {{2, 3, 4}},
     {{"mul", 1}},
     {{2, 3, 4}}},
    {"comparison of sizes",
     R"(def forward(self, x):
    return x * float(x.size(1) > 2))",
     {{2, 3, 4}},
     {{"mul", 1}},
     {{2, 3, 4}}},
    {"list indexing of a shape",
     R"(def forward(self, x):
    s = x.shape
    return x.reshape(s[0], s[1] * s[2]))",
     {{2, 3, 4}},
     {{"reshape", 1}},
     {{2, 12}}},
    {"float arithmetic on sizes",
     R"(def forward(self, x):
    return x * (x.size(2) / 2))",
     {{2, 3, 4}},
     {{"mul", 1}},
     {{2, 3, 4}}},
};

}  // namespace

TEST_CASE("Scalar lowerings fold or emit TorchScript number arithmetic") { checkAll(kCases); }

TEST_CASE("Scalar lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
