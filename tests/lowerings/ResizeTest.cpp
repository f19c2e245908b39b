// Resize lowerings (core/lowerings/Resize.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"bilinear by a scale factor",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, None, False, [2.0, 2.0]))",
     {{1, 3, 8, 8}},
     {{"upsample_bilinear", 1}},
     {{1, 3, 16, 16}}},
    {"bilinear to a whole multiple of the input",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, [16, 32], False))",
     {{1, 3, 8, 8}},
     {{"upsample_bilinear", 1}, {"resize_bilinear", 0}},
     {{1, 3, 16, 32}}},
    {"bilinear to another size",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, [12, 12], False))",
     {{1, 3, 8, 8}},
     {{"resize_bilinear", 1}},
     {{1, 3, 12, 12}}},
    {"bilinear aligning corners",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, [12, 12], True))",
     {{1, 3, 8, 8}},
     {{"resize_bilinear", 1}},
     {{1, 3, 12, 12}}},
    {"bilinear to the size of another tensor (DeepLabV3)",
     R"(def forward(self, x, y):
    return torch.upsample_bilinear2d(x, y.shape[-2:], False))",
     {{1, 3, 8, 8}, {1, 1, 32, 32}},
     {{"upsample_bilinear", 1}},
     {{1, 3, 32, 32}}},
    {"bilinear by a scale of a dynamic input",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, None, False, [2.0, 2.0]))",
     {dynamicInput({1, 3, 8, 8}, {0})},
     {{"upsample_bilinear", 1}},
     {{kSymbolic, 3, 16, 16}}},
    {"upsample_bilinear2d to an output size, as traced graphs record it",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, [16, 16], False, None))",
     {{1, 3, 8, 8}},
     {{"upsample_bilinear", 1}},
     {{1, 3, 16, 16}}},
    {"upsample_bilinear2d by scale factors",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, None, True, [2.0, 3.0]))",
     {{1, 3, 8, 8}},
     {{"upsample_bilinear", 1}},
     {{1, 3, 16, 24}}},
    {"upsample_bilinear2d aligning corners to another size",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, [12, 10], True))",
     {{1, 3, 8, 8}},
     {{"resize_bilinear", 1}},
     {{1, 3, 12, 10}}},
    {"upsample_nearest2d by scale factors",
     R"(def forward(self, x):
    return torch.upsample_nearest2d(x, None, [2.0, 2.0]))",
     {{1, 3, 8, 8}},
     {{"upsample_nearest_neighbor", 1}},
     {{1, 3, 16, 16}}},
    {"nearest by a scale factor",
     R"(def forward(self, x):
    return torch.upsample_nearest2d(x, None, [2.0, 2.0]))",
     {{1, 3, 8, 8}},
     {{"upsample_nearest_neighbor", 1}},
     {{1, 3, 16, 16}}},
    {"nearest to whole multiples",
     R"(def forward(self, x):
    return torch.upsample_nearest2d(x, [16, 24]))",
     {{1, 3, 8, 8}},
     {{"upsample_nearest_neighbor", 1}},
     {{1, 3, 16, 24}}},
};

const std::vector<RefusedCase> kRefused = {
    {"nearest to a size that is not a multiple",
     R"(def forward(self, x):
    return torch.upsample_nearest2d(x, [12, 12]))",
     {{1, 3, 8, 8}},
     {"whole multiples"}},
    {"bilinear by a scale giving a fractional size",
     R"(def forward(self, x):
    return torch.upsample_bilinear2d(x, None, False, [1.5, 1.5]))",
     {{1, 3, 7, 7}},
     {"fractional output size"}},
};

}  // namespace

TEST_CASE("Resize lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Resize lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Resize lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
