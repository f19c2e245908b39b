// Linear algebra lowerings (core/lowerings/Linear.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"linear",
     R"(def forward(self, x):
    return torch.linear(x, torch.ones(4, 8), torch.ones(4)))",
     {{2, 8}},
     {{"linear", 1}},
     {{2, 4}}},
    {"linear of a rank-3 input without bias",
     R"(def forward(self, x):
    return torch.linear(x, torch.ones(4, 8)))",
     {{2, 5, 8}},
     {{"linear", 1}},
     {{2, 5, 4}}},
    {"linear of a rank-4 input is a matmul",
     R"(def forward(self, x):
    return torch.linear(x, torch.ones(4, 8), torch.ones(4)))",
     {{2, 3, 5, 8}},
     {{"matmul", 1}, {"add", 1}, {"linear", 0}},
     {{2, 3, 5, 4}}},
    {"linear with a weight computed at run time",
     R"(def forward(self, x, w):
    return torch.linear(x, w))",
     {{2, 8}, {4, 8}},
     {{"matmul", 1}, {"linear", 0}},
     {{2, 4}}},
    {"linear of a dynamic batch",
     R"(def forward(self, x):
    return torch.linear(x, torch.ones(4, 8), torch.ones(4)))",
     {dynamicInput({2, 8}, {0})},
     {{"linear", 1}},
     {{kSymbolic, 4}}},
    {"matmul broadcasting",
     R"(def forward(self, x, y):
    return torch.matmul(x, y))",
     {{2, 3, 4}, {4, 5}},
     {{"matmul", 1}},
     {{2, 3, 5}}},
    {"mm",
     R"(def forward(self, x, y):
    return torch.mm(x, y))",
     {{3, 4}, {4, 5}},
     {{"matmul", 1}},
     {{3, 5}}},
    {"bmm",
     R"(def forward(self, x, y):
    return torch.bmm(x, y))",
     {{2, 3, 4}, {2, 4, 5}},
     {{"matmul", 1}},
     {{2, 3, 5}}},
    {"addmm",
     R"(def forward(self, b, x, y):
    return torch.addmm(b, x, y))",
     {{5}, {3, 4}, {4, 5}},
     {{"matmul", 1}, {"add", 1}, {"mul", 0}},
     {{3, 5}}},
    {"addmm with beta and alpha",
     R"(def forward(self, b, x, y):
    return torch.addmm(b, x, y, beta=0.5, alpha=2.0))",
     {{5}, {3, 4}, {4, 5}},
     {{"matmul", 1}, {"mul", 2}, {"add", 1}},
     {{3, 5}}},
    {"t",
     R"(def forward(self, x):
    return x.t())",
     {{3, 4}},
     {{"transpose", 1}},
     {{4, 3}}},
    {"t of a vector",
     R"(def forward(self, x):
    return x.t() * 2.0)",
     {{4}},
     {{"transpose", 0}, {"mul", 1}},
     {{4}}},
};

}  // namespace

TEST_CASE("Linear lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Linear lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
