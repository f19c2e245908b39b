// Arrangement lowerings (core/lowerings/Arrangement.cpp): rolls, tiles, splits, repeats, diagonals,
// triangles, grids, broadcasting, stacking, moved dims, shuffles and the view/copy aliases.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"roll along two dims, one negative",
     R"(def forward(self, x):
    return torch.roll(x, [1, -2], [0, -1]))",
     {{3, 5}},
     {{"concat", 2}},
     {{3, 5}}},
    {"roll flattened",
     R"(def forward(self, x):
    return torch.roll(x, 3))",
     {{2, 5}},
     {{"concat", 1}, {"reshape", 2}},
     {{2, 5}}},
    {"roll of ints by more than the size",
     R"(def forward(self, x):
    return torch.roll(x, 7, 1))",
     {intInput({2, 5})},
     {{"concat", 1}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"tile with fewer and with more dims than the input",
     R"(def forward(self, x):
    return torch.tile(x, [2]), torch.tile(x, [2, 1, 3]))",
     {{2, 3}},
     {{"tile", 2}},
     {{2, 6}, {2, 2, 9}}},
    {"split_with_sizes on a negative dim",
     R"(def forward(self, x):
    a, b, c = torch.split_with_sizes(x, [1, 3, 2], -1)
    return a, b, c)",
     {{2, 6}},
     {{"split", 1}},
     {{2, 1}, {2, 3}, {2, 2}}},
    {"tensor_split into sections of unequal size",
     R"(def forward(self, x):
    a, b, c = torch.tensor_split(x, 3, dim=1)
    return a, b, c)",
     {{2, 7}},
     {{"split", 1}},
     {{2, 3}, {2, 2}, {2, 2}}},
    {"tensor_split at indices, one negative",
     R"(def forward(self, x):
    a, b, c = torch.tensor_split(x, [2, -1])
    return a, b, c)",
     {{6, 2}},
     {{"split", 1}},
     {{2, 2}, {3, 2}, {1, 2}}},
    {"tensor_split at the indices of a constant tensor",
     R"(def forward(self, x):
    a, b, c = torch.tensor_split(x, torch.tensor([1, 3]), 1)
    return a, b, c)",
     {{2, 5}},
     {{"split", 1}},
     {{2, 1}, {2, 2}, {2, 2}}},
    {"unflatten with a -1",
     R"(def forward(self, x):
    return torch.unflatten(x, -2, [2, -1]))",
     {{3, 8, 5}},
     {{"reshape", 1}},
     {{3, 2, 4, 5}}},
    {"unflatten a dynamic batch",
     R"(def forward(self, x):
    return torch.unflatten(x, 1, [2, 4]))",
     {dynamicInput({3, 8}, {0})},
     {{"reshape", 1}},
     {{kSymbolic, 2, 4}}},
    {"repeat_interleave by an int along a dim",
     R"(def forward(self, x):
    return torch.repeat_interleave(x, 2, dim=1))",
     {{2, 3}},
     {{"tile", 1}},
     {{2, 6}}},
    {"repeat_interleave flattened, of ints",
     R"(def forward(self, x):
    return x.repeat_interleave(3))",
     {intInput({2, 2})},
     {{"tile", 1}},
     {TestOutput({12}, DType::Int32)}},
    {"repeat_interleave by a constant tensor of repeats",
     R"(def forward(self, x):
    return torch.repeat_interleave(x, torch.arange(3) + 1, dim=0))",
     {{3, 2}},
     {{"gather", 1}},
     {{6, 2}}},
    {"repeat_interleave of a dynamic dim",
     R"(def forward(self, x):
    return torch.repeat_interleave(x, 2, dim=0))",
     {dynamicInput({3, 2}, {0})},
     {{"tile", 1}},
     {{kAnyDim, 2}}},
    {"diagonal with an offset, of dims 0 and 2",
     R"(def forward(self, x):
    return torch.diagonal(x, 1, 0, 2))",
     {{3, 4, 5}},
     {},
     {{4, 3}}},
    {"diagonal below the main one, dims in reverse order",
     R"(def forward(self, x):
    return torch.diagonal(x, -1, -1, -2))",
     {{2, 4, 3}},
     {},
     {{2, 2}}},
    {"diagonal of an int matrix",
     R"(def forward(self, x):
    return torch.diagonal(x))",
     {intInput({3, 3})},
     {},
     {TestOutput({3}, DType::Int32)}},
    {"diag_embed on the last two dims",
     R"(def forward(self, x):
    return torch.diag_embed(x))",
     {{2, 3}},
     {{"select", 1}, {"gather", 0}},
     {{2, 3, 3}}},
    {"diag_embed above the diagonal into dims 0 and 2",
     R"(def forward(self, x):
    return torch.diag_embed(x, 1, 0, 2))",
     {{2, 3}},
     {{"select", 1}, {"gather", 1}},
     {{4, 2, 4}}},
    {"diag_embed below the diagonal, dim1 after dim2",
     R"(def forward(self, x):
    return torch.diag_embed(x, -2, 2, 0))",
     {{2, 3}},
     {{"select", 1}},
     {{5, 2, 5}}},
    {"triu and tril with offsets",
     R"(def forward(self, x):
    return torch.triu(x, 1), torch.tril(x, -1), torch.triu(x), torch.tril(x, 2))",
     {{2, 4, 5}},
     {{"select", 4}},
     {{2, 4, 5}, {2, 4, 5}, {2, 4, 5}, {2, 4, 5}}},
    {"tril of ints",
     R"(def forward(self, x):
    return torch.tril(x))",
     {intInput({3, 3})},
     {{"select", 1}},
     {TestOutput({3, 3}, DType::Int32)}},
    {"triu of a dynamic matrix",
     R"(def forward(self, x):
    return torch.triu(x, -1))",
     {dynamicInput({4, 3}, {0})},
     {{"range_1d", 1}, {"select", 1}},
     {{kSymbolic, 3}}},
    {"fliplr and flipud",
     R"(def forward(self, x):
    return torch.fliplr(x), torch.flipud(x))",
     {{3, 4, 2}},
     {{"reverse", 2}},
     {{3, 4, 2}, {3, 4, 2}}},
    {"meshgrid with ij indexing of three tensors",
     R"(def forward(self, a, b, c):
    x, y, z = torch.meshgrid([a, b, c], indexing='ij')
    return x, y, z)",
     {{2}, {3}, {4}},
     {},
     {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}}},
    {"meshgrid without indexing is ij",
     R"(def forward(self, a, b):
    x, y = torch.meshgrid([a, b])
    return x, y)",
     {{2}, {3}},
     {},
     {{2, 3}, {2, 3}}},
    {"meshgrid with xy indexing",
     R"(def forward(self, a, b):
    x, y = torch.meshgrid([a, b], indexing='xy')
    return x, y)",
     {{2}, {3}},
     {},
     {{3, 2}, {3, 2}}},
    {"atleast_1d, 2d and 3d",
     R"(def forward(self, v, m):
    s = v.sum()
    return torch.atleast_1d(s), torch.atleast_2d(v), torch.atleast_3d(v), torch.atleast_3d(m), torch.atleast_2d(m))",
     {{4}, {2, 3}},
     {},
     {{1}, {1, 4}, {1, 4, 1}, {2, 3, 1}, {2, 3}}},
    {"atleast_2d of a list",
     R"(def forward(self, v, m):
    a, b = torch.atleast_2d([v, m])
    return a, b)",
     {{4}, {2, 3}},
     {},
     {{1, 4}, {2, 3}}},
    {"broadcast_tensors",
     R"(def forward(self, x, y):
    a, b = torch.broadcast_tensors(x, y)
    return a, b)",
     {{3, 1}, {2, 1, 4}},
     {{"tile", 2}},
     {{2, 3, 4}, {2, 3, 4}}},
    {"broadcast_tensors with a dynamic dim",
     R"(def forward(self, x, y):
    a, b = torch.broadcast_tensors(x, y)
    return a, b)",
     {dynamicInput({3, 1}, {0}), {1, 4}},
     {},
     {{kAnyDim, kAnyDim}, {kAnyDim, kAnyDim}}},
    {"hstack of vectors and of matrices",
     R"(def forward(self, a, b, m, n):
    return torch.hstack([a, b]), torch.hstack([m, n]))",
     {{3}, {4}, {2, 3}, {2, 4}},
     {{"concat", 2}},
     {{7}, {2, 7}}},
    {"vstack and dstack",
     R"(def forward(self, a, m):
    return torch.vstack([a, a]), torch.dstack([m, m]), torch.vstack([m, a]))",
     {{3}, {2, 3}},
     {{"concat", 3}},
     {{2, 3}, {2, 3, 2}, {3, 3}}},
    {"movedim of one dim and of several",
     R"(def forward(self, x):
    return torch.movedim(x, 0, -1), torch.movedim(x, [0, 3], [2, 0]), torch.moveaxis(x, -1, 1))",
     {{2, 3, 4, 5}},
     {{"transpose", 3}},
     {{3, 4, 5, 2}, {5, 3, 2, 4}, {2, 5, 3, 4}}},
    {"pixel_unshuffle",
     R"(def forward(self, x):
    return torch.pixel_unshuffle(x, 2))",
     {{1, 2, 4, 6}},
     {{"transpose", 1}, {"reshape", 2}},
     {{1, 8, 2, 3}}},
    {"channel_shuffle",
     R"(def forward(self, x):
    return torch.channel_shuffle(x, 3))",
     {{2, 6, 3, 2}},
     {{"transpose", 1}, {"reshape", 2}},
     {{2, 6, 3, 2}}},
    {"copy aliases of views",
     R"(def forward(self, x):
    a = torch._unsafe_view(torch.view_copy(x, [4, 6]), [6, 4])
    b = torch.permute_copy(x, [2, 0, 1])
    c = torch.select_copy(x, 1, -1)
    d = torch.slice_copy(x, 2, 1, 3)
    e = torch.transpose_copy(x, 0, 2)
    f = torch.unsqueeze_copy(x, -1)
    g = torch.squeeze_copy(f, -1)
    return a, b, c, d, e, f, g)",
     {{2, 3, 4}},
     {},
     {{6, 4}, {4, 2, 3}, {2, 4}, {2, 3, 2}, {4, 3, 2}, {2, 3, 4, 1}, {2, 3, 4}}},
    {"copy aliases of expand, unbind, diagonal and alias",
     R"(def forward(self, x):
    a = torch.expand_copy(x[:, :1], [3, 5])
    u, v, w = torch.unbind_copy(x, 0)
    d = torch.diagonal_copy(x, 1)
    return a, u, w, d, torch.alias_copy(x))",
     {{3, 5}},
     {},
     {{3, 5}, {5}, {5}, {3}, {3, 5}}},
    {"reshape_as, numpy_T and the shape as a tensor",
     R"(def forward(self, x, y):
    shape = torch._shape_as_tensor(y)
    return x.reshape_as(y), x.T, torch._reshape_from_tensor(x, shape), shape)",
     {{2, 3, 4}, {4, 6}},
     {},
     {{4, 6}, {4, 3, 2}, {4, 6}, TestOutput({2}, DType::Int32)}},
};

const std::vector<RefusedCase> kRefused = {
    {"roll of a dynamic dim",
     R"(def forward(self, x):
    return torch.roll(x, 1, 0))",
     {dynamicInput({3, 2}, {0})},
     {"aten::roll needs a static size along dim 0"}},
    {"tensor_split into empty pieces",
     R"(def forward(self, x):
    a, b, c = torch.tensor_split(x, 3)
    return a, b, c)",
     {{2}},
     {"empty piece"}},
    {"repeat_interleave of repeats known at run time",
     R"(def forward(self, i):
    return torch.repeat_interleave(i))",
     {intInput({3})},
     {"data-dependent size"}},
    {"diagonal of a dynamic dim",
     R"(def forward(self, x):
    return torch.diagonal(x))",
     {dynamicInput({3, 3}, {1})},
     {"aten::diagonal needs a static size along dim 1"}},
    {"view_copy to a dtype",
     R"(def forward(self, x):
    return torch.view_copy(x, 3))",
     {{2, 3}},
     {"view_copy.dtype is not supported"}},
};

}  // namespace

TEST_CASE("Arrangement lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Arrangement lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Arrangement lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Arrangement lowering cases match LibTorch numerically as NeuralNetwork layers") {
    checkNeuralNetworkNumerics(numericCases(kCases));
}
