// Resampling lowerings (core/lowerings/Resampling.cpp): nearest 1-D/3-D and nearest-exact, linear
// 1-D, bicubic and the antialiased modes, by output size and by scale factors.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"nearest1d by a fractional scale factor, batch 2",
     R"(def forward(self, x):
    return torch.upsample_nearest1d(x, None, [2.5]))",
     {{2, 3, 7}},
     {{"gather", 1}},
     {{2, 3, 17}}},
    {"nearest1d to a size",
     R"(def forward(self, x):
    return torch.upsample_nearest1d(x, [10]))",
     {{1, 3, 7}},
     {{"gather", 1}},
     {{1, 3, 10}}},
    {"nearest1d to a size with its scale",
     R"(def forward(self, x):
    return torch.upsample_nearest1d(x, [17], 2.5))",
     {{1, 3, 7}},
     {{"gather", 1}},
     {{1, 3, 17}}},
    {"nearest1d downsampling",
     R"(def forward(self, x):
    return torch.upsample_nearest1d(x, [4]))",
     {{1, 2, 9}},
     {{"gather", 1}},
     {{1, 2, 4}}},
    {"nearest1d of a dynamic batch",
     R"(def forward(self, x):
    return torch.upsample_nearest1d(x, None, [3.0]))",
     {dynamicInput({2, 3, 5}, {0})},
     {{"gather", 1}},
     {{kSymbolic, 3, 15}}},
    {"nearest3d by scale factors",
     R"(def forward(self, x):
    return torch.upsample_nearest3d(x, None, [2.0, 1.5, 3.0]))",
     {{1, 2, 3, 4, 5}},
     {{"gather", 3}},
     {{1, 2, 6, 6, 15}}},
    {"nearest3d to a size, odd sizes",
     R"(def forward(self, x):
    return torch.upsample_nearest3d(x, [5, 4, 3]))",
     {{2, 2, 3, 4, 5}},
     {{"gather", 2}},
     {{2, 2, 5, 4, 3}}},
    {"nearest-exact 1d",
     R"(def forward(self, x):
    return torch._upsample_nearest_exact1d(x, None, [1.7]))",
     {{1, 3, 7}},
     {{"gather", 1}},
     {{1, 3, 11}}},
    {"nearest-exact 2d",
     R"(def forward(self, x):
    return torch._upsample_nearest_exact2d(x, None, [1.7, 0.6]))",
     {{2, 3, 7, 9}},
     {{"gather", 2}},
     {{2, 3, 11, 5}}},
    {"nearest-exact 3d to a size",
     R"(def forward(self, x):
    return torch._upsample_nearest_exact3d(x, [4, 7, 2]))",
     {{1, 2, 3, 4, 5}},
     {{"gather", 3}},
     {{1, 2, 4, 7, 2}}},
    {"linear1d by a fractional scale factor",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, None, False, [2.5]))",
     {{2, 3, 7}},
     {{"matmul", 1}},
     {{2, 3, 17}}},
    {"linear1d aligning corners by a scale factor",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, None, True, [1.7]))",
     {{1, 3, 7}},
     {{"matmul", 1}},
     {{1, 3, 11}}},
    {"linear1d to a size",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, [11], False))",
     {{1, 3, 7}},
     {{"matmul", 1}},
     {{1, 3, 11}}},
    {"linear1d aligning corners to a size",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, [11], True))",
     {{1, 3, 7}},
     {{"matmul", 1}},
     {{1, 3, 11}}},
    {"linear1d to a size with its scale",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, [17], False, 2.5))",
     {{1, 3, 7}},
     {{"matmul", 1}},
     {{1, 3, 17}}},
    {"linear1d downsampling",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, [4], False))",
     {{1, 2, 9}},
     {{"matmul", 1}},
     {{1, 2, 4}}},
    {"linear1d aligning corners to one element",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, [1], True))",
     {{1, 2, 9}},
     {{"matmul", 1}},
     {{1, 2, 1}}},
    {"linear1d of a dynamic batch",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, None, False, [2.0]))",
     {dynamicInput({2, 3, 5}, {0})},
     {{"matmul", 1}},
     {{kSymbolic, 3, 10}}},
    {"linear1d of a dynamic length by a scale factor",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, None, False, [2.0]))",
     {dynamicInput({1, 3, 8}, {2})},
     {{"upsample_bilinear", 1}},
     {{1, 3, kSymbolic}}},
    {"linear1d of a dynamic length aligning corners",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, None, True, [3.0]))",
     {dynamicInput({2, 3, 8}, {0, 2})},
     {{"upsample_bilinear", 1}},
     {{kSymbolic, 3, kSymbolic}}},
    {"nearest1d of a dynamic length by a scale factor",
     R"(def forward(self, x):
    return torch.upsample_nearest1d(x, None, [3.0]))",
     {dynamicInput({1, 3, 8}, {2})},
     {{"upsample_nearest_neighbor", 1}},
     {{1, 3, kSymbolic}}},
    {"bicubic by a scale factor",
     R"(def forward(self, x):
    return torch.upsample_bicubic2d(x, None, False, [2.0, 2.0]))",
     {{1, 3, 5, 6}},
     {{"matmul", 2}},
     {{1, 3, 10, 12}}},
    {"bicubic aligning corners by fractional scale factors",
     R"(def forward(self, x):
    return torch.upsample_bicubic2d(x, None, True, [1.5, 0.7]))",
     {{2, 3, 5, 7}},
     {{"matmul", 2}},
     {{2, 3, 7, 4}}},
    {"bicubic to a size",
     R"(def forward(self, x):
    return torch.upsample_bicubic2d(x, [9, 13], False))",
     {{2, 2, 5, 6}},
     {{"matmul", 2}},
     {{2, 2, 9, 13}}},
    {"bicubic aligning corners to a size",
     R"(def forward(self, x):
    return torch.upsample_bicubic2d(x, [9, 13], True))",
     {{1, 2, 5, 6}},
     {{"matmul", 2}},
     {{1, 2, 9, 13}}},
    {"bicubic to a size with its scales",
     R"(def forward(self, x):
    return torch.upsample_bicubic2d(x, [12, 9], False, 2.4, 1.5))",
     {{1, 2, 5, 6}},
     {{"matmul", 2}},
     {{1, 2, 12, 9}}},
    {"bicubic downsampling one axis only",
     R"(def forward(self, x):
    return torch.upsample_bicubic2d(x, [3, 6], False))",
     {{1, 2, 7, 6}},
     {{"matmul", 1}},
     {{1, 2, 3, 6}}},
    {"antialiased bilinear downsampling to a size",
     R"(def forward(self, x):
    return torch._upsample_bilinear2d_aa(x, [5, 7], False))",
     {{1, 2, 16, 20}},
     {{"matmul", 2}},
     {{1, 2, 5, 7}}},
    {"antialiased bilinear by fractional scale factors",
     R"(def forward(self, x):
    return torch._upsample_bilinear2d_aa(x, None, False, [0.3, 1.5]))",
     {{2, 2, 17, 9}},
     {{"matmul", 2}},
     {{2, 2, 5, 13}}},
    {"antialiased bilinear aligning corners",
     R"(def forward(self, x):
    return torch._upsample_bilinear2d_aa(x, [6, 5], True))",
     {{1, 2, 15, 11}},
     {{"matmul", 2}},
     {{1, 2, 6, 5}}},
    {"antialiased bicubic downsampling to a size",
     R"(def forward(self, x):
    return torch._upsample_bicubic2d_aa(x, [5, 7], False))",
     {{1, 2, 16, 20}},
     {{"matmul", 2}},
     {{1, 2, 5, 7}}},
    {"antialiased bicubic by fractional scale factors",
     R"(def forward(self, x):
    return torch._upsample_bicubic2d_aa(x, None, False, [0.45, 2.5]))",
     {{1, 3, 17, 6}},
     {{"matmul", 2}},
     {{1, 3, 7, 15}}},
    {"antialiased bicubic aligning corners",
     R"(def forward(self, x):
    return torch._upsample_bicubic2d_aa(x, [6, 9], True))",
     {{2, 2, 15, 11}},
     {{"matmul", 2}},
     {{2, 2, 6, 9}}},
};

const std::vector<RefusedCase> kRefused = {
    {"linear1d of a dynamic length to a size",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, [12], False))",
     {dynamicInput({1, 3, 8}, {2})},
     {"upsample_linear1d", "dynamic length needs scale factors"}},
    {"linear1d of a dynamic length by a fractional scale",
     R"(def forward(self, x):
    return torch.upsample_linear1d(x, None, False, [2.5]))",
     {dynamicInput({1, 3, 8}, {2})},
     {"upsample_linear1d", "fractional output size"}},
    {"bicubic of a dynamic size",
     R"(def forward(self, x):
    return torch.upsample_bicubic2d(x, None, False, [2.0, 2.0]))",
     {dynamicInput({1, 3, 8, 8}, {3})},
     {"upsample_bicubic2d", "static spatial sizes"}},
    {"bicubic of a 3-D input",
     R"(def forward(self, x):
    return torch.upsample_bicubic2d(x, [4, 4], False))",
     {{3, 5, 6}},
     {"upsample_bicubic2d", "4-D input"}},
};

}  // namespace

TEST_CASE("Resampling lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Resampling lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("Resampling lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Resampling lowering cases match LibTorch as NeuralNetwork layers") {
    // The NeuralNetwork upsampling layer aligns corners only between static sizes.
    checkNeuralNetworkNumerics(numericCases(kCases),
                               {{"linear1d of a dynamic length aligning corners", "op 'upsample_bilinear'"}});
}
