// Scatter lowerings (core/lowerings/Scatter.cpp). Random int inputs are 0..9: indices are clamped
// into range, and where writes must not collide (torch leaves the order of colliding writes
// undefined) they are a rotation of arange, which torch cannot fold to a constant.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"scatter src cut to the index, and a value on a negative dim",
     R"(def forward(self, x, src, i):
    idx = torch.roll(i * 0 + torch.arange(4), 1, 1)
    return torch.scatter(x, 1, idx, src), torch.scatter(x, -1, idx, 2.5))",
     {{2, 4}, {3, 5}, intInput({2, 4})},
     {{"scatter_along_axis", 2}},
     {{2, 4}, {2, 4}}},
    {"scatter with reduce add and multiply, colliding",
     R"(def forward(self, x, src, i):
    idx = torch.clamp(i, 0, 2)
    return (torch.scatter(x, 0, idx, src, reduce='add'), torch.scatter(x, 0, idx, src, reduce='multiply'),
            torch.scatter(x, 0, idx, 1.5, reduce='add')))",
     {{3, 4}, {2, 4}, intInput({2, 4})},
     {{"scatter_along_axis", 3}},
     {{3, 4}, {3, 4}, {3, 4}}},
    {"scatter_add with more indices than self along dim",
     R"(def forward(self, x, src, i):
    return torch.scatter_add(x, 1, torch.clamp(i, 0, 3), src))",
     {{2, 4}, {2, 6}, intInput({2, 6})},
     {{"scatter_along_axis", 1}},
     {{2, 4}}},
    {"scatter_add of ints",
     R"(def forward(self, x, i):
    return torch.scatter_add(x, 0, torch.clamp(i, 0, 1), i))",
     {intInput({2, 3}), intInput({4, 3})},
     {{"scatter_along_axis", 1}},
     {TestOutput({2, 3}, DType::Int32)}},
    {"scatter_reduce including self",
     R"(def forward(self, x, src, i):
    idx = torch.clamp(i, 0, 2)
    return (torch.scatter_reduce(x, 0, idx, src, 'sum'), torch.scatter_reduce(x, 0, idx, src, 'prod'),
            torch.scatter_reduce(x, 0, idx, src, 'mean'), torch.scatter_reduce(x, 0, idx, src, 'amax'),
            torch.scatter_reduce(x, 0, idx, src, 'amin')))",
     {{3, 4}, {5, 4}, intInput({5, 4})},
     {},
     {{3, 4}, {3, 4}, {3, 4}, {3, 4}, {3, 4}}},
    {"scatter_reduce excluding self",
     R"(def forward(self, x, src, i):
    idx = torch.clamp(i, 0, 4)
    return (torch.scatter_reduce(x, 1, idx, src, 'sum', include_self=False),
            torch.scatter_reduce(x, 1, idx, src, 'prod', include_self=False),
            torch.scatter_reduce(x, 1, idx, src, 'mean', include_self=False),
            torch.scatter_reduce(x, 1, idx, src, 'amax', include_self=False),
            torch.scatter_reduce(x, 1, idx, src, 'amin', include_self=False)))",
     {{2, 6}, {2, 3}, intInput({2, 3})},
     {},
     {{2, 6}, {2, 6}, {2, 6}, {2, 6}, {2, 6}}},
    {"scatter_reduce amax of ints excluding self",
     R"(def forward(self, x, i):
    return torch.scatter_reduce(x, 1, torch.clamp(i, 0, 2), i, 'amax', include_self=False))",
     {intInput({2, 5}), intInput({2, 4})},
     {},
     {TestOutput({2, 5}, DType::Int32)}},
    {"index_add with alpha, colliding",
     R"(def forward(self, x, s, j):
    return torch.index_add(x, 1, torch.clamp(j, 0, 3), s, alpha=2.0))",
     {{2, 4}, {2, 3}, intInput({3})},
     {{"scatter", 1}},
     {{2, 4}}},
    {"index_fill by a number on a negative dim, and by a 0-D tensor",
     R"(def forward(self, x, y, j):
    return torch.index_fill(x, -1, torch.clamp(j, 0, 3), -1.0), x.index_fill(0, torch.clamp(j, 0, 2), y.sum()))",
     {{3, 4}, {5}, intInput({2})},
     {{"select", 2}},
     {{3, 4}, {3, 4}}},
    {"index_put at distinct rows, by assignment",
     R"(def forward(self, x, v, i):
    y = x.clone()
    y[(i[0] * 0 + torch.arange(2)) * 2] = v
    return y)",
     {{4, 3}, {2, 3}, intInput({2})},
     {{"scatter_nd", 1}},
     {{4, 3}}},
    {"index_put accumulating colliding rows, values broadcast",
     R"(def forward(self, x, v, i):
    return torch.index_put(x, [torch.clamp(i, 0, 3)], v, True))",
     {{4, 3}, {3}, intInput({5})},
     {{"scatter_nd", 1}},
     {{4, 3}}},
    {"index_put with two index tensors and a negative index",
     R"(def forward(self, x, v, i):
    y = x.clone()
    y[i * 0 - 1, i * 0 + torch.arange(3)] = v
    return y)",
     {{2, 4, 2}, {3, 2}, intInput({3})},
     {{"scatter_nd", 1}},
     {{2, 4, 2}}},
    {"index_put after a leading None",
     R"(def forward(self, x, v, i):
    return torch.index_put(x, [None, i * 0 + torch.arange(2)], v))",
     {{3, 4}, {3, 2}, intInput({2})},
     {{"scatter_nd", 1}},
     {{3, 4}}},
    {"index_put of one value by a bool mask",
     R"(def forward(self, x):
    return torch.index_put(x, [x > 0.5], torch.tensor(0.25)))",
     {{3, 4}},
     {{"select", 1}},
     {{3, 4}}},
    {"index_put of a row by a row mask",
     R"(def forward(self, x, v):
    y = x.clone()
    y[v > 0] = v
    return y)",
     {{4, 4}, {4}},
     {{"select", 1}, {"cumsum", 0}},
     {{4, 4}}},
    {"index_put of rows by a row mask, accumulating",
     R"(def forward(self, x, s, i):
    return torch.index_put(x, [(i * 0 + torch.arange(4)) % 2 == 0], s, True))",
     {{4, 3}, {2, 3}, intInput({4})},
     {{"cumsum", 1}},
     {{4, 3}}},
    {"masked_scatter",
     R"(def forward(self, x, s):
    return torch.masked_scatter(x, x > 0, s))",
     {{2, 5}, {12}},
     {{"cumsum", 1}, {"select", 1}},
     {{2, 5}}},
    {"masked_scatter with a broadcast mask",
     R"(def forward(self, x, m, s):
    return x.masked_scatter(m > 0, s))",
     {{3, 4}, {4}, {12}},
     {{"cumsum", 1}},
     {{3, 4}}},
    {"select_scatter at a negative index",
     R"(def forward(self, x, s):
    return torch.select_scatter(x, s, 1, -1))",
     {{2, 3, 4}, {2, 4}},
     {{"select", 1}},
     {{2, 3, 4}}},
    {"slice_scatter with step 1 and step 2",
     R"(def forward(self, x, s, t):
    return torch.slice_scatter(x, s, 1, 1, 3), torch.slice_scatter(x.transpose(0, 1), t, 0, 1, None, 2))",
     {{2, 5}, {2, 2}, {2, 2}},
     {{"concat", 1}, {"gather", 1}},
     {{2, 5}, {5, 2}}},
    {"take_along_dim broadcasting, and flattened",
     R"(def forward(self, x, i, j):
    return torch.take_along_dim(x, torch.clamp(i, 0, 3), 1), torch.take_along_dim(x, torch.clamp(j, 0, 11)))",
     {{3, 4}, intInput({1, 5}), intInput({5})},
     {{"gather_along_axis", 2}},
     {{3, 5}, {5}}},
};

const std::vector<RefusedCase> kRefused = {
    {"scatter with an index narrower than self",
     R"(def forward(self, x, src, i):
    return torch.scatter(x, 0, torch.clamp(i, 0, 1), src))",
     {{2, 4}, {2, 4}, intInput({2, 3})},
     {"index smaller than self in dim 1"}},
    {"scatter_reduce with an unknown reduction",
     R"(def forward(self, x, src, i):
    return torch.scatter_reduce(x, 0, torch.clamp(i, 0, 1), src, 'median'))",
     {{2, 4}, {2, 4}, intInput({2, 4})},
     {"'median'"}},
};

}  // namespace

TEST_CASE("Scatter lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Scatter lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("Scatter lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Scatter lowering cases match LibTorch numerically as NeuralNetwork layers") {
    // A running count (cumsum) has no NeuralNetwork layer.
    checkNeuralNetworkNumerics(numericCases(kCases),
                               {{"masked_scatter", "op 'cumsum'"},
                                {"masked_scatter with a broadcast mask", "op 'cumsum'"},
                                {"index_put of rows by a row mask, accumulating", "op 'cumsum'"}});
}
