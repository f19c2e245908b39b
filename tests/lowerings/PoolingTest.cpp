// Pooling lowerings (core/lowerings/Pooling.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"max_pool2d as in ResNet",
     R"(def forward(self, x):
    return torch.max_pool2d(x, 3, 2, 1))",
     {{1, 3, 8, 8}},
     {{"max_pool", 1}},
     {{1, 3, 4, 4}}},
    {"max_pool2d with the default stride",
     R"(def forward(self, x):
    return torch.max_pool2d(x, 2))",
     {{1, 3, 8, 8}},
     {{"max_pool", 1}},
     {{1, 3, 4, 4}}},
    {"max_pool2d ceil_mode",
     R"(def forward(self, x):
    return torch.max_pool2d(x, 2, 2, 0, 1, True))",
     {{1, 3, 9, 9}},
     {{"max_pool", 1}},
     {{1, 3, 5, 5}}},
    {"max_pool2d ceil_mode where torch drops the last window",
     R"(def forward(self, x):
    return torch.max_pool2d(x, 1, 3, 0, 1, True))",
     {{1, 1, 5, 5}},
     {{"max_pool", 1}},
     {{1, 1, 2, 2}}},
    {"max_pool2d of an unbatched input",
     R"(def forward(self, x):
    return torch.max_pool2d(x, 2))",
     {{3, 8, 8}},
     {{"expand_dims", 1}, {"max_pool", 1}, {"squeeze", 1}},
     {{3, 4, 4}}},
    {"max_pool1d",
     R"(def forward(self, x):
    return torch.max_pool1d(x, 2))",
     {{1, 3, 16}},
     {{"max_pool", 1}},
     {{1, 3, 8}}},
    {"avg_pool2d",
     R"(def forward(self, x):
    return torch.avg_pool2d(x, 2))",
     {{1, 3, 8, 8}},
     {{"avg_pool", 1}},
     {{1, 3, 4, 4}}},
    {"avg_pool2d excluding padding",
     R"(def forward(self, x):
    return torch.avg_pool2d(x, 3, 2, 1, False, False))",
     {{1, 3, 8, 8}},
     {{"avg_pool", 1}},
     {{1, 3, 4, 4}}},
    {"avg_pool2d with divisor_override",
     R"(def forward(self, x):
    return torch.avg_pool2d(x, 2, divisor_override=3))",
     {{1, 3, 8, 8}},
     {{"avg_pool", 1}, {"mul", 1}},
     {{1, 3, 4, 4}}},
    {"adaptive_avg_pool2d to 1x1 is a mean",
     R"(def forward(self, x):
    return torch.adaptive_avg_pool2d(x, 1))",
     {{1, 3, 8, 8}},
     {{"reduce_mean", 1}, {"avg_pool", 0}},
     {{1, 3, 1, 1}}},
    {"adaptive_avg_pool2d to 1x1 of dynamic spatial dims",
     R"(def forward(self, x):
    return torch.adaptive_avg_pool2d(x, (1, 1)))",
     {dynamicInput({1, 3, 8, 8}, {2, 3})},
     {{"reduce_mean", 1}},
     {{1, 3, 1, 1}}},
    {"adaptive_avg_pool2d to a divisor is avg_pool",
     R"(def forward(self, x):
    return torch.adaptive_avg_pool2d(x, (4, 2)))",
     {{1, 3, 8, 8}},
     {{"avg_pool", 1}},
     {{1, 3, 4, 2}}},
    {"adaptive_avg_pool2d to a non-divisor",
     R"(def forward(self, x):
    return torch.adaptive_avg_pool2d(x, (3, 3)))",
     {{1, 3, 8, 8}},
     {{"slice_by_index", 6}, {"reduce_mean", 6}, {"concat", 2}},
     {{1, 3, 3, 3}}},
    {"adaptive_max_pool2d",
     R"(def forward(self, x):
    return torch.adaptive_max_pool2d(x, 1)[0])",
     {{1, 3, 8, 8}},
     {{"reduce_max", 1}},
     {{1, 3, 1, 1}}},
    {"adaptive_max_pool2d to a divisor",
     R"(def forward(self, x):
    return torch.adaptive_max_pool2d(x, 4)[0])",
     {{1, 3, 8, 8}},
     {{"max_pool", 1}},
     {{1, 3, 4, 4}}},
};

const std::vector<RefusedCase> kRefused = {
    {"max_pool2d with dilation",
     R"(def forward(self, x):
    return torch.max_pool2d(x, 2, 2, 0, 2))",
     {{1, 3, 8, 8}},
     {"dilation"}},
    {"adaptive pooling of dynamic spatial dims to 3x3",
     R"(def forward(self, x):
    return torch.adaptive_avg_pool2d(x, 3))",
     {dynamicInput({1, 3, 8, 8}, {2, 3})},
     {"static spatial dims"}},
};

}  // namespace

TEST_CASE("Pooling lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Pooling lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Pooling lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
