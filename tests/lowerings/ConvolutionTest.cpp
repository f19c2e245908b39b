// Convolution lowerings (core/lowerings/Convolution.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"conv2d with bias and padding",
     R"(def forward(self, x):
    w = torch.arange(216.0).reshape(8, 3, 3, 3) / 100.0
    return torch.conv2d(x, w, torch.ones(8), 1, 1))",
     {{1, 3, 8, 8}},
     {{"conv", 1}},
     {{1, 8, 8, 8}}},
    {"conv2d stride 2 without bias",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(8, 3, 3, 3), None, 2))",
     {{1, 3, 8, 8}},
     {{"conv", 1}},
     {{1, 8, 3, 3}}},
    {"conv2d depthwise",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(3, 1, 3, 3), None, 1, 1, 1, 3))",
     {{1, 3, 8, 8}},
     {{"conv", 1}},
     {{1, 3, 8, 8}}},
    {"conv2d dilated",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(8, 3, 3, 3), None, 1, 2, 2))",
     {{1, 3, 8, 8}},
     {{"conv", 1}},
     {{1, 8, 8, 8}}},
    {"conv2d asymmetric stride and padding",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(4, 3, 3, 1), None, [2, 1], [1, 0]))",
     {{1, 3, 8, 8}},
     {{"conv", 1}},
     {{1, 4, 4, 8}}},
    {"conv2d padding='same'",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(8, 3, 3, 3), None, 1, 'same'))",
     {{1, 3, 8, 8}},
     {{"conv", 1}},
     {{1, 8, 8, 8}}},
    {"conv2d padding='same' with an even kernel",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(8, 3, 4, 4), None, 1, 'same'))",
     {{1, 3, 8, 8}},
     {{"conv", 1}},
     {{1, 8, 8, 8}}},
    {"conv2d padding='valid'",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(8, 3, 3, 3), None, 1, 'valid'))",
     {{1, 3, 8, 8}},
     {{"conv", 1}},
     {{1, 8, 6, 6}}},
    {"conv2d of an unbatched input",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(8, 3, 3, 3), None, 1, 1))",
     {{3, 8, 8}},
     {{"expand_dims", 1}, {"conv", 1}, {"squeeze", 1}},
     {{8, 8, 8}}},
    {"conv2d of a dynamic batch",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(8, 3, 3, 3), torch.ones(8), 1, 1))",
     {dynamicInput({2, 3, 8, 8}, {0})},
     {{"conv", 1}},
     {{kSymbolic, 8, 8, 8}}},
    {"conv1d",
     R"(def forward(self, x):
    return torch.conv1d(x, torch.ones(4, 3, 5), torch.ones(4)))",
     {{1, 3, 16}},
     {{"conv", 1}},
     {{1, 4, 12}}},
    {"conv3d",
     R"(def forward(self, x):
    return torch.conv3d(x, torch.ones(4, 2, 3, 3, 3), None, 1, 1))",
     {{1, 2, 4, 8, 8}},
     {{"conv", 1}},
     {{1, 4, 4, 8, 8}}},
    {"_convolution as traced graphs record it",
     R"(def forward(self, x):
    w = torch.ones(8, 3, 3, 3)
    return torch._convolution(x, w, torch.ones(8), [1, 1], [1, 1], [1, 1], False, [0, 0], 1, False, False, True, True))",
     {{1, 3, 8, 8}},
     {{"conv", 1}, {"conv_transpose", 0}},
     {{1, 8, 8, 8}}},
    {"_convolution transposed",
     R"(def forward(self, x):
    w = torch.ones(4, 2, 3, 3)
    return torch._convolution(x, w, None, [2, 2], [1, 1], [1, 1], True, [0, 0], 1, False, False, True, True))",
     {{1, 4, 8, 8}},
     {{"conv_transpose", 1}, {"conv", 0}},
     {{1, 2, 15, 15}}},
    {"conv_transpose2d",
     R"(def forward(self, x):
    return torch.conv_transpose2d(x, torch.ones(4, 2, 3, 3), torch.ones(2), 2, 1))",
     {{1, 4, 8, 8}},
     {{"conv_transpose", 1}, {"slice_by_index", 0}},
     {{1, 2, 15, 15}}},
    {"conv_transpose2d with output_padding within padding",
     R"(def forward(self, x):
    return torch.conv_transpose2d(x, torch.ones(4, 2, 3, 3), torch.ones(2), 2, 1, 1))",
     {{1, 4, 8, 8}},
     {{"conv_transpose", 1}, {"slice_by_index", 1}, {"pad", 0}, {"add", 1}},
     {{1, 2, 16, 16}}},
    {"conv_transpose2d with output_padding beyond padding",
     R"(def forward(self, x):
    return torch.conv_transpose2d(x, torch.ones(4, 2, 3, 3), torch.ones(2), 2, 0, 1))",
     {{1, 4, 8, 8}},
     {{"conv_transpose", 1}, {"pad", 1}, {"slice_by_index", 1}, {"add", 1}},
     {{1, 2, 18, 18}}},
    {"conv_transpose2d grouped and dilated",
     R"(def forward(self, x):
    return torch.conv_transpose2d(x, torch.ones(4, 1, 3, 3), None, 1, 0, 0, 2, 2))",
     {{1, 4, 8, 8}},
     {{"conv_transpose", 1}},
     {{1, 2, 12, 12}}},
    {"conv_transpose1d",
     R"(def forward(self, x):
    return torch.conv_transpose1d(x, torch.ones(4, 2, 3), None, 2))",
     {{1, 4, 10}},
     {{"conv_transpose", 1}},
     {{1, 2, 21}}},
};

const std::vector<RefusedCase> kRefused = {
    {"conv_transpose2d with a weight computed at run time",
     R"(def forward(self, x, w):
    return torch.conv_transpose2d(x, w))",
     {{1, 4, 8, 8}, {4, 2, 3, 3}},
     {"constant weight"}},
    {"conv2d with an unknown padding mode",
     R"(def forward(self, x):
    return torch.conv2d(x, torch.ones(8, 3, 3, 3), None, 1, 'full'))",
     {{1, 3, 8, 8}},
     {"padding='full'"}},
};

}  // namespace

TEST_CASE("Convolution lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Convolution lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Convolution lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
