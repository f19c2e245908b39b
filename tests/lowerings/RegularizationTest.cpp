// Regularization lowerings (core/lowerings/Regularization.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"dropout at inference is the identity",
     R"(def forward(self, x):
    return torch.dropout(x, 0.5, False) * 2.0)",
     {{2, 5}},
     {{"mul", 1}},
     {{2, 5}}},
    {"dropout2d at inference is the identity",
     R"(def forward(self, x):
    return torch.feature_dropout(x, 0.5, False) * 2.0)",
     {{1, 3, 8, 8}},
     {{"mul", 1}},
     {{1, 3, 8, 8}}},
};

const std::vector<RefusedCase> kRefused = {
    {"dropout in training mode",
     R"(def forward(self, x):
    return torch.dropout(x, 0.5, True))",
     {{2, 5}},
     {"train=True"}},
};

}  // namespace

TEST_CASE("Regularization lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Regularization lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Regularization lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
