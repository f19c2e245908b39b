// Grid sampling lowerings (core/lowerings/GridSampling.cpp): grid_sampler in every interpolation
// and padding mode, and affine_grid_generator.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"grid_sampler bilinear, zeros padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 0, 0, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler bilinear, zeros padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 0, 0, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler bilinear, border padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 0, 1, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler bilinear, border padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 0, 1, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler bilinear, reflection padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 0, 2, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler bilinear, reflection padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 0, 2, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler nearest, zeros padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 1, 0, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler nearest, zeros padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 1, 0, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler nearest, border padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 1, 1, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler nearest, border padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 1, 1, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler nearest, reflection padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 1, 2, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler nearest, reflection padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 1, 2, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler bicubic, zeros padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 2, 0, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler bicubic, zeros padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 2, 0, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler bicubic, border padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 2, 1, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler bicubic, border padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 2, 1, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler bicubic, reflection padding, align_corners=False",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 2, 2, False))",
     {{2, 3, 5, 6}, {2, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{2, 3, 4, 7}}},
    {"grid_sampler bicubic, reflection padding, align_corners=True",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g * 1.2, 2, 2, True))",
     {{1, 3, 5, 6}, {1, 4, 7, 2}},
     {{"gather", 1}, {"reduce_sum", 1}},
     {{1, 3, 4, 7}}},
    {"grid_sampler of an odd-sized single-row input",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g, 0, 2, False))",
     {{1, 2, 1, 5}, {1, 3, 3, 2}},
     {{"gather", 1}},
     {{1, 2, 3, 3}}},
    {"grid_sampler of a dynamic batch",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g, 0, 0, False))",
     {dynamicInput({2, 3, 5, 6}, {0}), dynamicInput({2, 4, 7, 2}, {0})},
     {{"gather", 2}, {"range_1d", 1}},
     {{kSymbolic, 3, 4, 7}}},
    {"affine_grid_generator",
     R"(def forward(self, theta):
    return torch.affine_grid_generator(theta, [2, 3, 5, 6], False))",
     {{2, 2, 3}},
     {{"matmul", 1}},
     {{2, 5, 6, 2}}},
    {"affine_grid_generator aligning corners",
     R"(def forward(self, theta):
    return torch.affine_grid_generator(theta, [1, 3, 4, 7], True))",
     {{1, 2, 3}},
     {{"matmul", 1}},
     {{1, 4, 7, 2}}},
    {"affine_grid_generator of a single column",
     R"(def forward(self, theta):
    return torch.affine_grid_generator(theta, [1, 1, 5, 1], False))",
     {{1, 2, 3}},
     {{"matmul", 1}},
     {{1, 5, 1, 2}}},
    {"spatial transformer: affine grid then bilinear sampling",
     R"(def forward(self, x, theta):
    grid = torch.affine_grid_generator(theta, [2, 3, 6, 5], False)
    return torch.grid_sampler(x, grid, 0, 0, False))",
     {{2, 3, 8, 9}, {2, 2, 3}},
     {{"matmul", 1}, {"gather", 1}},
     {{2, 3, 6, 5}}},
};

const std::vector<RefusedCase> kRefused = {
    {"grid_sampler of a 5-D input",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g, 0, 0, False))",
     {{1, 2, 3, 4, 5}, {1, 2, 2, 2, 3}},
     {"aten::grid_sampler", "only 2-D grid sampling"}},
    {"grid_sampler of a dynamic input size",
     R"(def forward(self, x, g):
    return torch.grid_sampler(x, g, 0, 0, False))",
     {dynamicInput({1, 3, 5, 6}, {2}), {1, 4, 7, 2}},
     {"aten::grid_sampler", "static"}},
    {"affine_grid_generator in 3-D",
     R"(def forward(self, theta):
    return torch.affine_grid_generator(theta, [1, 1, 2, 3, 4], False))",
     {{1, 3, 4}},
     {"aten::affine_grid_generator", "only 2-D"}},
};

}  // namespace

TEST_CASE("Grid sampling lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Grid sampling lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("Grid sampling lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Grid sampling lowering cases match LibTorch as NeuralNetwork layers") {
    checkNeuralNetworkNumerics(numericCases(kCases));
}
