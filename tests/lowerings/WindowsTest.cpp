// Sliding-window lowerings (core/lowerings/Windows.cpp): Tensor.unfold, im2col, col2im, max pooling
// with indices, _adaptive_avg_pool2d; and convolutions with padding='same' / 'valid'.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"unfold a middle dim",
     R"(def forward(self, x):
    return x.unfold(1, 3, 2))",
     {{2, 7, 4}},
     {{"gather", 1}, {"transpose", 1}},
     {{2, 3, 4, 3}}},
    {"unfold a negative dim",
     R"(def forward(self, x):
    return x.unfold(-1, 2, 1))",
     {{2, 3, 5}},
     {{"gather", 1}, {"transpose", 0}},
     {{2, 3, 4, 2}}},
    {"unfold with a step larger than the window",
     R"(def forward(self, x):
    return x.unfold(0, 2, 3))",
     {{8, 3}},
     {{"gather", 1}},
     {{3, 3, 2}}},
    {"unfold one window of the whole dim",
     R"(def forward(self, x):
    return x.unfold(2, 5, 5))",
     {{1, 2, 5}},
     {{"gather", 1}},
     {{1, 2, 1, 5}}},
    {"unfold a 1-D tensor",
     R"(def forward(self, x):
    return x.unfold(0, 3, 1))",
     {{6}},
     {{"gather", 1}},
     {{4, 3}}},
    {"unfold beside a dynamic batch",
     R"(def forward(self, x):
    return x.unfold(1, 3, 2))",
     {dynamicInput({2, 7}, {0})},
     {{"gather", 1}},
     {{kSymbolic, 3, 3}}},
    {"unfold an int tensor",
     R"(def forward(self, x):
    return x.unfold(1, 2, 2))",
     {intInput({3, 6})},
     {{"gather", 1}},
     {TestOutput({3, 3, 2}, DType::Int32)}},
    {"im2col",
     R"(def forward(self, x):
    return torch.im2col(x, [2, 3], [1, 1], [0, 0], [1, 1]))",
     {{2, 3, 5, 6}},
     {{"gather", 1}, {"pad", 0}},
     {{2, 18, 16}}},
    {"im2col with dilation, padding and stride",
     R"(def forward(self, x):
    return torch.im2col(x, [3, 2], [2, 1], [1, 2], [2, 3]))",
     {{1, 2, 7, 8}},
     {{"gather", 1}, {"pad", 1}},
     {{1, 12, 12}}},
    {"im2col of an unbatched input",
     R"(def forward(self, x):
    return torch.im2col(x, [2, 2], [1, 1], [1, 1], [2, 2]))",
     {{3, 5, 6}},
     {{"gather", 1}},
     {{12, 12}}},
    {"im2col of a dynamic batch",
     R"(def forward(self, x):
    return torch.im2col(x, [2, 2], [1, 1], [0, 0], [1, 1]))",
     {dynamicInput({2, 3, 4, 4}, {0})},
     {{"gather", 1}},
     {{kSymbolic, 12, 9}}},
    {"col2im",
     R"(def forward(self, x):
    return torch.col2im(x, [5, 6], [2, 3], [1, 1], [0, 0], [1, 1]))",
     {{2, 18, 16}},
     {{"conv_transpose", 1}},
     {{2, 3, 5, 6}}},
    {"col2im with dilation, padding and stride",
     R"(def forward(self, x):
    return torch.col2im(x, [7, 8], [3, 2], [2, 1], [1, 2], [2, 3]))",
     {{1, 12, 12}},
     {{"conv_transpose", 1}},
     {{1, 2, 7, 8}}},
    {"col2im whose windows leave the last rows uncovered",
     R"(def forward(self, x):
    return torch.col2im(x, [7, 7], [2, 2], [1, 1], [0, 0], [2, 2]))",
     {{1, 8, 9}},
     {{"conv_transpose", 1}, {"pad", 1}},
     {{1, 2, 7, 7}}},
    {"col2im of an unbatched input",
     R"(def forward(self, x):
    return torch.col2im(x, [4, 5], [2, 2], [1, 1], [0, 0], [1, 1]))",
     {{8, 12}},
     {{"conv_transpose", 1}},
     {{2, 4, 5}}},
    {"max_pool2d_with_indices, values only",
     R"(def forward(self, x):
    return torch.max_pool2d_with_indices(x, [3, 3], [2, 2], [1, 1])[0])",
     {{1, 3, 9, 9}},
     {{"max_pool", 1}},
     {{1, 3, 5, 5}}},
    {"max_pool2d_with_indices, values and indices",
     R"(def forward(self, x):
    y, i = torch.max_pool2d_with_indices(x, [3, 2], [2, 2], [1, 0])
    return y, i)",
     {{2, 3, 9, 8}},
     {{"max_pool", 1}, {"reduce_argmax", 1}},
     {{2, 3, 5, 4}, TestOutput({2, 3, 5, 4}, DType::Int32)}},
    {"max_pool2d_with_indices in ceil mode",
     R"(def forward(self, x):
    y, i = torch.max_pool2d_with_indices(x, [3, 3], [2, 2], [0, 0], [1, 1], True)
    return y, i)",
     {{1, 2, 8, 8}},
     {{"max_pool", 1}},
     {{1, 2, 4, 4}, TestOutput({1, 2, 4, 4}, DType::Int32)}},
    {"max_pool2d_with_indices with dilation",
     R"(def forward(self, x):
    y, i = torch.max_pool2d_with_indices(x, [3, 3], [1, 1], [1, 1], [2, 2])
    return y, i)",
     {{1, 2, 9, 9}},
     {{"max_pool", 0}, {"reduce_max", 1}},
     {{1, 2, 7, 7}, TestOutput({1, 2, 7, 7}, DType::Int32)}},
    {"max_pool2d_with_indices of an unbatched input",
     R"(def forward(self, x):
    y, i = torch.max_pool2d_with_indices(x, [2, 2])
    return y, i)",
     {{3, 8, 7}},
     {{"max_pool", 1}},
     {{3, 4, 3}, TestOutput({3, 4, 3}, DType::Int32)}},
    {"max_pool2d_with_indices of a dynamic batch",
     R"(def forward(self, x):
    y, i = torch.max_pool2d_with_indices(x, [2, 2])
    return y, i)",
     {dynamicInput({2, 3, 8, 8}, {0})},
     {{"max_pool", 1}},
     {{kSymbolic, 3, 4, 4}, TestOutput({kSymbolic, 3, 4, 4}, DType::Int32)}},
    {"max_pool1d_with_indices",
     R"(def forward(self, x):
    y, i = torch.max_pool1d_with_indices(x, [3], [2], [1])
    return y, i)",
     {{2, 3, 10}},
     {{"max_pool", 1}},
     {{2, 3, 5}, TestOutput({2, 3, 5}, DType::Int32)}},
    {"max_pool3d_with_indices",
     R"(def forward(self, x):
    y, i = torch.max_pool3d_with_indices(x, [2, 2, 2], [2, 2, 2])
    return y, i)",
     {{1, 2, 5, 6, 7}},
     {{"max_pool", 1}},
     {{1, 2, 2, 3, 3}, TestOutput({1, 2, 2, 3, 3}, DType::Int32)}},
    {"_adaptive_avg_pool2d",
     R"(def forward(self, x):
    return torch._adaptive_avg_pool2d(x, [3, 5]))",
     {{2, 3, 9, 11}},
     {{"reduce_mean", 8}},
     {{2, 3, 3, 5}}},
    {"conv2d padding='same' with dilation, groups and bias",
     R"(def forward(self, x):
    w = torch.arange(96.0).reshape(8, 2, 3, 2) / 50.0 - 1.0
    return torch.conv2d(x, w, torch.arange(8.0), 1, 'same', [2, 1], 2))",
     {{2, 4, 9, 8}},
     {{"conv", 1}},
     {{2, 8, 9, 8}}},
    {"conv2d padding='valid' with stride",
     R"(def forward(self, x):
    w = torch.arange(72.0).reshape(4, 3, 3, 2) / 30.0 - 1.0
    return torch.conv2d(x, w, None, [2, 1], 'valid'))",
     {{1, 3, 9, 8}},
     {{"conv", 1}},
     {{1, 4, 4, 7}}},
    {"conv1d padding='same' with an even kernel",
     R"(def forward(self, x):
    w = torch.arange(24.0).reshape(4, 3, 2) / 10.0 - 1.0
    return torch.conv1d(x, w, None, 1, 'same'))",
     {{2, 3, 9}},
     {{"conv", 1}},
     {{2, 4, 9}}},
    {"_convolution_mode 'same'",
     R"(def forward(self, x):
    w = torch.arange(54.0).reshape(2, 3, 3, 3) / 20.0 - 1.0
    return torch._convolution_mode(x, w, None, [1, 1], 'same', [1, 1], 1))",
     {{1, 3, 7, 6}},
     {{"conv", 1}},
     {{1, 2, 7, 6}}},
    {"conv3d padding='valid'",
     R"(def forward(self, x):
    w = torch.arange(48.0).reshape(2, 3, 2, 2, 2) / 20.0 - 1.0
    return torch.conv3d(x, w, None, 1, 'valid'))",
     {{1, 3, 4, 5, 6}},
     {{"conv", 1}},
     {{1, 2, 3, 4, 5}}},
};

const std::vector<RefusedCase> kRefused = {
    {"unfold of a dynamic dim",
     R"(def forward(self, x):
    return x.unfold(1, 3, 2))",
     {dynamicInput({2, 7}, {1})},
     {"aten::unfold", "static size along dimension 1"}},
    {"unfold with a window larger than the dim",
     R"(def forward(self, x):
    return x.unfold(1, 9, 2))",
     {{2, 7}},
     {"aten::unfold", "size 9"}},
    {"col2im with the wrong number of windows",
     R"(def forward(self, x):
    return torch.col2im(x, [5, 6], [2, 3], [1, 1], [0, 0], [1, 1]))",
     {{2, 18, 15}},
     {"aten::col2im", "number of windows"}},
};

}  // namespace

TEST_CASE("Windows lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Windows lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("Windows lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Windows lowering cases match LibTorch as NeuralNetwork layers") {
    checkNeuralNetworkNumerics(numericCases(kCases),
                               {{"max_pool3d_with_indices", "max_pool"}, {"conv3d padding='valid'", "conv"}});
}
