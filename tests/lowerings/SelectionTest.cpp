// Selection lowerings (Selection.cpp: kthvalue, msort, nonzero, argwhere, nonzero_numpy,
// searchsorted, bucketize), the other spellings of Variants.cpp (_softmax, native_layer_norm,
// native_group_norm, native_dropout, _to_copy, item, _logcumsumexp, _weight_norm, copy, ...) and
// nll_loss (Loss.cpp): op counts, refusals naming the op, and numerics against LibTorch as an ML
// Program and, where layers exist, as a NeuralNetwork.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const TestOutput kScalar({}, DType::Float32);

TestOutput ints(std::vector<int64_t> sizes) { return TestOutput(std::move(sizes), DType::Int32); }

const std::vector<LoweringCase> kSelection = {
    {"kthvalue along the last dim, along dim 0 kept, of ints",
     R"(def forward(self, x, i):
    v, j = torch.kthvalue(x, 3)
    w, k = torch.kthvalue(x, 2, 0, True)
    u, l = torch.kthvalue(i, 1, -2)
    return v, j, w, k, u, l)",
     {{4, 7}, intInput({5, 3})},
     {{"topk", 3}},
     {{4}, ints({4}), {1, 7}, ints({1, 7}), ints({3}), ints({3})}},
    {"msort of floats and of ints",
     R"(def forward(self, x, i):
    return torch.msort(x), torch.msort(i))",
     {{6, 3}, intInput({5})},
     {{"argsort", 2}, {"gather_along_axis", 2}},
     {{6, 3}, ints({5})}},
    {"searchsorted into a 1-D sequence, left and right, by side, int32 out, of a scalar",
     R"(def forward(self, x, v):
    s = torch.msort(x)
    return (torch.searchsorted(s, v), torch.searchsorted(s, v, right=True), torch.searchsorted(s, v, side='right'),
            torch.searchsorted(s, v, out_int32=True), torch.searchsorted(s, 0.25), torch.searchsorted(s, s)))",
     {{9}, {3, 4}},
     {{"less", 4}, {"less_equal", 2}},
     {ints({3, 4}), ints({3, 4}), ints({3, 4}), ints({3, 4}), ints({}), ints({9})}},
    {"searchsorted row by row into a batch of sequences, with a sorter",
     R"(def forward(self, x, v):
    s = torch.msort(x.t()).t()
    descending = s[:, [5, 4, 3, 2, 1, 0]]
    order = torch.tensor([5, 4, 3, 2, 1, 0]).repeat(3, 1)
    return torch.searchsorted(s, v), torch.searchsorted(descending, v, right=True, sorter=order))",
     {{3, 6}, {3, 5}},
     {{"less", 1}, {"less_equal", 1}},
     {ints({3, 5}), ints({3, 5})}},
    {"bucketize left and right, into int boundaries, of a scalar",
     R"(def forward(self, x, b, i):
    bounds = torch.msort(b)
    return (torch.bucketize(x, bounds), torch.bucketize(x, bounds, right=True),
            torch.bucketize(i, torch.msort(i[0]), out_int32=True), torch.bucketize(0.1, bounds)))",
     {{2, 5}, {6}, intInput({3, 4})},
     {{"less", 3}, {"less_equal", 1}},
     {ints({2, 5}), ints({2, 5}), ints({3, 4}), ints({})}},
};

// non_zero's result has a run-time length.
const std::vector<LoweringCase> kNonzero = {
    {"nonzero and argwhere of floats, ints and bools",
     R"(def forward(self, x, i):
    return torch.nonzero(x > 0.2), torch.argwhere(torch.relu(x)), torch.nonzero(i % 3))",
     {{4, 5}, intInput({3, 2, 2})},
     {{"non_zero", 3}},
     {ints({kSymbolic, 2}), ints({kSymbolic, 2}), ints({kSymbolic, 3})}},
    {"nonzero_numpy gives one index vector per dim",
     R"(def forward(self, x):
    rows, cols = torch.nonzero_numpy(x > 0.0)
    return rows, cols)",
     {{4, 6}},
     {{"non_zero", 1}},
     {ints({kSymbolic}), ints({kSymbolic})}},
};

const std::vector<LoweringCase> kVariants = {
    {"celu with the default and other alphas",
     R"(def forward(self, x, i):
    return torch.celu(x * 3.0), torch.celu(x * 3.0, 0.5), torch.celu(i, 2.0))",
     {{3, 5}, {4}},
     {{"elu", 3}},
     {{3, 5}, {3, 5}, {4}}},
    {"x.dtype follows the tensor: a cast to another input's dtype",
     R"(def forward(self, x, i):
    return x.to(i.dtype), i.to(x.dtype) * 0.5, (x > 0.0).to(x.dtype))",
     {{3, 4}, intInput({5})},
     {},
     {ints({3, 4}), {5}, {3, 4}}},
    {"a tuple indexed by a constant",
     R"(def forward(self, x):
    pair = (x + 1.0, x * 2.0)
    return pair[1], pair[-2])",
     {{3, 4}},
     {},
     {{3, 4}, {3, 4}}},
    {"lists appended to in straight-line code",
     R"(def forward(self, x):
    sizes: List[int] = []
    sizes.append(x.size(1))
    sizes.append(-1)
    parts = [x]
    parts.append(x * 2.0)
    return torch.cat(parts, 0).reshape(sizes))",
     {{3, 4}},
     {{"concat", 1}},
     {{4, 6}}},
    {"in-place writes into slices, selects and reshapes reach the tensor they view",
     R"(def forward(self, x, y):
    z = torch.zeros(4, 5)
    z[1:3, 2:4] = x
    z[0] = 1.0
    z.view(20)[19] = 7.0
    w = y.clone()
    w[w > 0.5] = 0.25
    w[:, 1].zero_()
    return z, w)",
     {{2, 2}, {3, 4}},
     {},
     {{4, 5}, {3, 4}}},
    {"_softmax and _log_softmax",
     R"(def forward(self, x):
    return torch._softmax(x, 1, False), torch._log_softmax(x, -1, False))",
     {{3, 5, 2}},
     {{"softmax", 1}, {"reduce_log_sum_exp", 1}},
     {{3, 5, 2}, {3, 5, 2}}},
    {"native_layer_norm with its mean and rstd",
     R"(def forward(self, x):
    return torch.native_layer_norm(x, [4, 5], None, None, 1e-5))",
     {{2, 3, 4, 5}},
     {{"layer_norm", 1}},
     {{2, 3, 4, 5}, {2, 3, 1, 1}, {2, 3, 1, 1}}},
    {"native_group_norm with its mean and rstd",
     R"(def forward(self, x):
    return torch.native_group_norm(x, None, None, 2, 6, 20, 3, 1e-5))",
     {{2, 6, 4, 5}},
     {},
     {{2, 6, 4, 5}, {2, 3}, {2, 3}}},
    {"native_dropout in eval, its mask as floats",
     R"(def forward(self, x):
    y, mask = torch.native_dropout(x, 0.3, False)
    return y * 2.0, mask.float())",
     {{3, 4}},
     {},
     {{3, 4}, {3, 4}}},
    {"_to_copy to int and keeping the dtype, is_floating_point",
     R"(def forward(self, x, i):
    k = float(x.is_floating_point()) + 2.0 * float(i.is_floating_point())
    return torch._to_copy(x * 10.0, dtype=3), torch._to_copy(x) * k)",
     {{3, 4}, intInput({2})},
     {{"cast", 1}},
     {ints({3, 4}), {3, 4}}},
    {"item of a float and of an int element",
     R"(def forward(self, x, i):
    return x * x[0, 1].item(), i + i[1].item())",
     {{3, 4}, intInput({3})},
     {},
     {{3, 4}, ints({3})}},
    {"_logcumsumexp along each dim, of large values",
     R"(def forward(self, x):
    return torch._logcumsumexp(x * 100.0, 1), torch._logcumsumexp(x, -3))",
     {{2, 5, 3}},
     {{"reduce_log_sum_exp", 2}},
     {{2, 5, 3}, {2, 5, 3}}},
    {"_weight_norm along dim 0, dim 1 and over all, and its interface",
     R"(def forward(self, v, g, h):
    w, norms = torch._weight_norm_interface(v, g, 0)
    return torch._weight_norm(v, g, 0), torch._weight_norm(v, h, 1), torch._weight_norm(v, g[0, 0], -1), w, norms)",
     {{4, 3, 2}, {4, 1, 1}, {1, 3, 1}},
     {{"reduce_l2_norm", 4}},
     {{4, 3, 2}, {4, 3, 2}, {4, 3, 2}, {4, 3, 2}, {4, 1, 1}}},
    {"copy broadcasts and casts its source onto self",
     R"(def forward(self, x, r, i):
    return torch.copy(x, r), torch.copy(i, x))",
     {{3, 4}, {4}, intInput({3, 4})},
     {},
     {{3, 4}, ints({3, 4})}},
    {"nll_loss mean, sum and none, with weights and an ignored class",
     R"(def forward(self, x, i, w):
    logp = torch.log_softmax(x, 1)
    t = i % 5
    return (torch.nll_loss(logp, t, None, 1, -100), torch.nll_loss(logp, t, None, 2, -100), torch.nll_loss(logp, t, None, 0, -100),
            torch.nll_loss(logp, t, torch.abs(w) + 0.1, 1, 2), torch.nll_loss(logp[0], t[0], None, 1, -100)))",
     {{6, 5}, intInput({6}), {5}},
     {{"gather_along_axis", 5}},
     {kScalar, kScalar, {6}, kScalar, kScalar}},
    {"nll_loss over spatial dims (nll_loss2d and nd)",
     R"(def forward(self, x, i):
    logp = torch.log_softmax(x, 1)
    return (torch.nll_loss2d(logp, i % 4, None, 1, -100),
            torch.nll_loss_nd(logp[:, :, 0], i[:, 0] % 4, None, 0, -100)))",
     {{2, 4, 3, 5}, intInput({2, 3, 5})},
     {{"gather_along_axis", 2}},
     {kScalar, {2, 5}}},
};

const std::vector<RefusedCase> kRefused = {
    {"kthvalue with k beyond the dim",
     R"(def forward(self, x):
    return torch.kthvalue(x, 9)[0])",
     {{3, 4}},
     {"kthvalue", "k = 9 is out of range"}},
    {"nonzero of a scalar",
     R"(def forward(self, x):
    return torch.nonzero(x.sum()))",
     {{3}},
     {"nonzero", "scalar"}},
    {"bucketize into 2-D boundaries",
     R"(def forward(self, x, b):
    return torch.bucketize(x, b))",
     {{3}, {2, 2}},
     {"bucketize needs 1-D boundaries"}},
    {"an in-place write into a transposed view",
     R"(def forward(self, x):
    z = x.clone()
    z.t()[0] = 1.0
    return z)",
     {{3, 4}},
     {"writes in place into a view made by 'aten::t'"}},
    {"a view read after a write into its tensor",
     R"(def forward(self, x):
    z = x.clone()
    a = z[0:2]
    z[1] = 0.0
    return a + 1.0)",
     {{3, 4}},
     {"is read after the write"}},
    {"a list appended to inside an if",
     R"(def forward(self, x):
    parts = [x]
    if bool(x.sum() > 0.0):
        parts.append(x * 2.0)
    return torch.cat(parts, 0))",
     {{3}},
     {"aten::append", "inside a loop or an if"}},
    {"native_dropout in training",
     R"(def forward(self, x):
    return torch.native_dropout(x, 0.3, True)[0])",
     {{3}},
     {"native_dropout", "model.eval()"}},
};

}  // namespace

TEST_CASE("selection and variant lowerings emit the expected MIL ops") {
    checkAll(kSelection);
    checkAll(kNonzero);
    checkAll(kVariants);
}

TEST_CASE("selection and variant lowerings refuse what they cannot express and name the op") { checkAll(kRefused); }

TEST_CASE("selection lowerings match LibTorch numerically") {
    checkAllNumerics(kSelection);
    checkAllNumerics(kNonzero);
}

TEST_CASE("variant lowerings and nll_loss match LibTorch numerically") { checkAllNumerics(kVariants); }

TEST_CASE("selection as a NeuralNetwork model: sorting layers are refused by name, the rest matches LibTorch") {
    checkNeuralNetworkNumerics(kSelection,
                               {{"kthvalue along the last dim, along dim 0 kept, of ints", "'topk'"},
                                {"msort of floats and of ints", "'argsort'"},
                                {"searchsorted into a 1-D sequence, left and right, by side, int32 "
                                 "out, of a scalar",
                                 "'argsort'"},
                                {"searchsorted row by row into a batch of sequences, with a sorter", "'argsort'"},
                                {"bucketize left and right, into int boundaries, of a scalar", "'argsort'"}});
    checkNeuralNetworkNumerics(kNonzero, {{"nonzero and argwhere of floats, ints and bools", "'non_zero'"},
                                          {"nonzero_numpy gives one index vector per dim", "'non_zero'"}});
}

TEST_CASE("variant lowerings and nll_loss as a NeuralNetwork model match LibTorch numerically") {
    checkNeuralNetworkNumerics(kVariants);
}
