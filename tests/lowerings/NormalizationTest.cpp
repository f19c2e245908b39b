// Normalization lowerings (core/lowerings/Normalization.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"batch_norm with running statistics",
     R"(def forward(self, x):
    mean = torch.arange(3.0) / 10.0
    var = torch.ones(3) * 2.0
    return torch.batch_norm(x, torch.ones(3) * 0.5, torch.ones(3), mean, var, False, 0.1, 1e-3, False))",
     {{1, 3, 8, 8}},
     {{"batch_norm", 1}},
     {{1, 3, 8, 8}}},
    {"batch_norm without affine parameters",
     R"(def forward(self, x):
    return torch.batch_norm(x, None, None, torch.zeros(3), torch.ones(3), False, 0.1, 1e-5, False))",
     {{1, 3, 8, 8}},
     {{"batch_norm", 1}},
     {{1, 3, 8, 8}}},
    {"batch_norm of a rank-2 input (BatchNorm1d)",
     R"(def forward(self, x):
    return torch.batch_norm(x, None, None, torch.zeros(3), torch.ones(3), False, 0.1, 1e-5, False))",
     {{4, 3}},
     {{"expand_dims", 1}, {"batch_norm", 1}, {"squeeze", 1}},
     {{4, 3}}},
    {"batch_norm of a dynamic batch",
     R"(def forward(self, x):
    return torch.batch_norm(x, None, None, torch.zeros(3), torch.ones(3), False, 0.1, 1e-5, False))",
     {dynamicInput({2, 3, 8, 8}, {0})},
     {{"batch_norm", 1}},
     {{kSymbolic, 3, 8, 8}}},
    {"layer_norm over the last dim",
     R"(def forward(self, x):
    return torch.layer_norm(x, [8], torch.ones(8) * 2.0, torch.ones(8)))",
     {{2, 5, 8}},
     {{"layer_norm", 1}},
     {{2, 5, 8}}},
    {"layer_norm over two dims without affine parameters",
     R"(def forward(self, x):
    return torch.layer_norm(x, [5, 8]))",
     {{2, 5, 8}},
     {{"layer_norm", 1}},
     {{2, 5, 8}}},
    {"instance_norm",
     R"(def forward(self, x):
    return torch.instance_norm(x, torch.ones(3), torch.zeros(3), None, None, True, 0.1, 1e-5, False))",
     {{1, 3, 8, 8}},
     {{"instance_norm", 1}},
     {{1, 3, 8, 8}}},
    {"instance_norm with running statistics is batch_norm",
     R"(def forward(self, x):
    return torch.instance_norm(x, None, None, torch.zeros(3), torch.ones(3), False, 0.1, 1e-5, False))",
     {{1, 3, 8, 8}},
     {{"batch_norm", 1}, {"instance_norm", 0}},
     {{1, 3, 8, 8}}},
    {"group_norm",
     R"(def forward(self, x):
    return torch.group_norm(x, 2, torch.ones(4) * 2.0, torch.ones(4)))",
     {{1, 4, 8, 8}},
     {{"reshape", 4}, {"layer_norm", 1}, {"mul", 1}, {"add", 1}},
     {{1, 4, 8, 8}}},
    {"group_norm of a dynamic batch",
     R"(def forward(self, x):
    return torch.group_norm(x, 2))",
     {dynamicInput({2, 4, 8, 8}, {0})},
     {{"layer_norm", 1}},
     {{kAnyDim, kAnyDim, kAnyDim, kAnyDim}}},
};

const std::vector<RefusedCase> kRefused = {
    {"batch_norm in training mode",
     R"(def forward(self, x, mean, var):
    return torch.batch_norm(x, None, None, mean, var, True, 0.1, 1e-5, False))",
     {{1, 3, 8, 8}, {3}, {3}},
     {"training=True"}},
    {"batch_norm without running statistics",
     R"(def forward(self, x):
    return torch.batch_norm(x, None, None, None, None, False, 0.1, 1e-5, False))",
     {{1, 3, 8, 8}},
     {"running statistics"}},
    {"group_norm with groups not dividing the channels",
     R"(def forward(self, x):
    return torch.group_norm(x, 3))",
     {{1, 4, 8, 8}},
     {"num_groups = 3"}},
};

}  // namespace

TEST_CASE("Normalization lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Normalization lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Normalization lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
