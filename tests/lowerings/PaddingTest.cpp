// Padding lowerings (core/lowerings/Padding.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"constant_pad_nd of the last two dims",
     R"(def forward(self, x):
    return torch.constant_pad_nd(x, [1, 2, 0, 3], 0.5))",
     {{1, 4, 4, 5}},
     {{"pad", 1}},
     {{1, 4, 7, 8}}},
    {"constant_pad_nd of the last dim",
     R"(def forward(self, x):
    return torch.constant_pad_nd(x, [2, 0]))",
     {{2, 3}},
     {{"pad", 1}},
     {{2, 5}}},
    {"reflection_pad2d",
     R"(def forward(self, x):
    return torch.reflection_pad2d(x, [2, 1, 1, 2]))",
     {{1, 4, 4, 5}},
     {{"pad", 1}},
     {{1, 4, 7, 8}}},
    {"replication_pad2d",
     R"(def forward(self, x):
    return torch.replication_pad2d(x, [1, 1, 2, 2]))",
     {{1, 4, 4, 5}},
     {{"pad", 1}},
     {{1, 4, 8, 7}}},
    {"reflection_pad1d",
     R"(def forward(self, x):
    return torch.reflection_pad1d(x, [3, 1]))",
     {{1, 2, 6}},
     {{"pad", 1}},
     {{1, 2, 10}}},
    {"pad with a mode",
     R"(def forward(self, x):
    return torch.pad(x, [1, 1, 1, 1], 'replicate'))",
     {{1, 4, 4, 5}},
     {{"pad", 1}},
     {{1, 4, 6, 7}}},
};

const std::vector<RefusedCase> kRefused = {
    {"negative padding crops",
     R"(def forward(self, x):
    return torch.constant_pad_nd(x, [-1, 0]))",
     {{2, 3}},
     {"negative padding"}},
    {"circular padding",
     R"(def forward(self, x):
    return torch.pad(x, [1, 1], 'circular'))",
     {{1, 2, 6}},
     {"'circular'"}},
};

}  // namespace

TEST_CASE("Padding lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Padding lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Padding lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
