// Math lowerings: rounding, inverse hyperbolics, atan2, copysign, NaN / infinity tests
// (MathFunctions.cpp), bitwise ops (Bitwise.cpp), rrelu / hardtanh / clamp (Activation.cpp),
// remainder / floor_divide / where with scalars (Elementwise.cpp), statistics (Statistics.cpp),
// norms (Norm.cpp), losses (Loss.cpp) and the reductions all / any / aminmax / count_nonzero /
// cumprod (Reduction.cpp). Every case is compared with LibTorch as an ML Program and as a
// NeuralNetwork; outputs are floats or ints, since a Core ML model cannot output bools.
#include "backend/neuralnetwork/NeuralNetworkWriter.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const TestOutput kScalar({}, DType::Float32);

const std::vector<LoweringCase> kElementwise = {
    {"round to even, to decimals and to tens",
     R"(def forward(self, x):
    halves = torch.floor(x * 8.0) + 0.5
    return torch.round(halves), torch.round(x * 10.0), torch.round(x, decimals=2), torch.round(x * 1000.0, decimals=-2))",
     {{3, 8}},
     {{"round", 4}},
     {{3, 8}, {3, 8}, {3, 8}, {3, 8}}},
    {"round of an int tensor keeps it",
     R"(def forward(self, x):
    return torch.round(x))",
     {intInput({2, 5})},
     {{"round", 0}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"inverse hyperbolic functions and their arc names",
     R"(def forward(self, x):
    t = torch.tanh(x)
    a = torch.abs(x) + 1.0
    return torch.asinh(x * 10.0), torch.arcsinh(x), torch.acosh(a), torch.arccosh(a * 100.0), torch.atanh(t), torch.arctanh(t))",
     {{4, 6}},
     {{"atanh", 2}, {"sign", 2}},
     {{4, 6}, {4, 6}, {4, 6}, {4, 6}, {4, 6}, {4, 6}}},
    {"atan2 in all four quadrants, broadcast, of ints",
     R"(def forward(self, y, x, i):
    return torch.atan2(y, x), torch.arctan2(y, x[0]), torch.atan2(i - 5, i - 4))",
     {{3, 8}, {3, 8}, intInput({3, 8})},
     {{"atan", 3}},
     {{3, 8}, {3, 8}, {3, 8}}},
    {"copysign by a tensor, by a scalar and of ints",
     R"(def forward(self, x, y, i):
    return torch.copysign(x, y), torch.copysign(x, -2.0), torch.copysign(y, 1), torch.copysign(i, -1))",
     {{2, 7}, {2, 7}, intInput({2, 7})},
     {{"abs", 4}},
     {{2, 7}, {2, 7}, {2, 7}, {2, 7}}},
    {"bitwise ops and operators on bools, in place too, and of a bool with an int",
     R"(def forward(self, x, y):
    a = x > 0.0
    b = y > 0.0
    c = a.clone()
    c &= b
    d = a.clone()
    d.__ior__(b)
    return (a & b).float(), (a | b).float(), (a ^ b).float(), (~a).float(), torch.bitwise_or(a, 1).float(), c.float(), d.float())",
     {{3, 5}, {3, 5}},
     {{"logical_and", 2}, {"logical_or", 3}, {"logical_xor", 1}, {"logical_not", 1}, {"floor_div", 4}},
     {{3, 5}, {3, 5}, {3, 5}, {3, 5}, {3, 5}, {3, 5}, {3, 5}}},
    {"logical ops on floats and ints compare with zero",
     R"(def forward(self, x, i):
    return torch.logical_and(x, i).float(), torch.logical_or(x, i).float(), torch.logical_xor(i, x).float(), torch.logical_not(i).float())",
     {{3, 5}, intInput({3, 5})},
     {{"logical_and", 1}, {"logical_or", 1}, {"logical_xor", 1}, {"logical_not", 1}},
     {{3, 5}, {3, 5}, {3, 5}, {3, 5}}},
    {"bitwise ops on negative and positive ints, in place too",
     R"(def forward(self, x, y):
    a = (x - 5) * 1000003
    b = (y - 4) * 7919
    c = a.clone()
    c.__ixor__(b)
    return a & b, a | b, a ^ b, ~a, torch.bitwise_and(a, 6), torch.bitwise_or(a, -8), a ^ 255, c)",
     {intInput({4, 6}), intInput({4, 6})},
     {{"floor_div", 28}, {"logical_and", 2}, {"logical_or", 2}, {"logical_xor", 3}},
     {TestOutput({4, 6}, DType::Int32), TestOutput({4, 6}, DType::Int32), TestOutput({4, 6}, DType::Int32),
      TestOutput({4, 6}, DType::Int32), TestOutput({4, 6}, DType::Int32), TestOutput({4, 6}, DType::Int32),
      TestOutput({4, 6}, DType::Int32), TestOutput({4, 6}, DType::Int32)}},
    {"and with a low-bit mask is a floor modulo",
     R"(def forward(self, x):
    a = (x - 5) * 13
    return a & 7, torch.bitwise_and(a, 1))",
     {intInput({4, 6})},
     {{"floor_div", 2}, {"reduce_sum", 0}},
     {TestOutput({4, 6}, DType::Int32), TestOutput({4, 6}, DType::Int32)}},
    {"clamp with tensor bounds, clamp_min and clamp_max of tensors",
     R"(def forward(self, x, lo, hi):
    return torch.clamp(x, lo, lo + 1.0), torch.clamp(x, min=lo), torch.clamp(x, max=hi), torch.clamp_min(x, lo), torch.clamp_max(x, hi), torch.clip(x, hi))",
     {{2, 6}, {2, 6}, {6}},
     {{"maximum", 4}, {"minimum", 3}},
     {{2, 6}, {2, 6}, {2, 6}, {2, 6}, {2, 6}, {2, 6}}},
    {"clamp of ints by a real scalar and by int tensors",
     R"(def forward(self, i, j):
    return torch.clamp(i, 2.5), torch.clamp(i, j - 2, j + 2), torch.clamp(i, max=j))",
     {intInput({2, 6}), intInput({2, 6})},
     {{"maximum", 2}, {"minimum", 2}},
     {{2, 6}, TestOutput({2, 6}, DType::Int32), TestOutput({2, 6}, DType::Int32)}},
    {"hardtanh variants, in place, of ints and with equal bounds",
     R"(def forward(self, x, i):
    y = x * 3.0
    z = y.clone()
    torch.hardtanh_(z, -0.5, 2.0)
    return torch.hardtanh(y), torch.hardtanh(y, -2.0, 1.5), z, torch.hardtanh(y, 0.0, 6.0), torch.hardtanh(i, 2, 7), torch.hardtanh(y, 0.5, 0.5))",
     {{2, 8}, intInput({2, 8})},
     {{"clip", 3}, {"relu6", 1}, {"maximum", 2}, {"minimum", 2}},
     {{2, 8}, {2, 8}, {2, 8}, {2, 8}, TestOutput({2, 8}, DType::Int32), {2, 8}}},
    {"rrelu in evaluation, softsign",
     R"(def forward(self, x):
    y = x * 3.0
    return torch.rrelu(y), torch.rrelu(y, 0.1, 0.3, False), y / (torch.abs(y) + 1.0))",
     {{3, 7}},
     {{"leaky_relu", 2}},
     {{3, 7}, {3, 7}, {3, 7}}},
    {"remainder and floor_divide of reals take the divisor's sign",
     R"(def forward(self, x, y):
    a = x * 5.0
    return torch.remainder(a, y), torch.remainder(a, -1.5), torch.remainder(2.0, y), torch.floor_divide(a, y), torch.floor_divide(a, -0.7), a % 1.25)",
     {{3, 8}, {3, 8}},
     {},
     {{3, 8}, {3, 8}, {3, 8}, {3, 8}, {3, 8}, {3, 8}}},
    {"remainder and floor_divide of negative ints",
     R"(def forward(self, i, j):
    a = i - 5
    b = j + 1
    return torch.remainder(a, b), torch.remainder(a, -b), torch.remainder(a, -3), torch.floor_divide(a, b), torch.floor_divide(a, -b), a // 3)",
     {intInput({3, 8}), intInput({3, 8})},
     {{"floor_div", 6}},
     {TestOutput({3, 8}, DType::Int32), TestOutput({3, 8}, DType::Int32), TestOutput({3, 8}, DType::Int32),
      TestOutput({3, 8}, DType::Int32), TestOutput({3, 8}, DType::Int32), TestOutput({3, 8}, DType::Int32)}},
    {"where with a scalar on either side or both",
     R"(def forward(self, x, y):
    c = x > 0.0
    return torch.where(c, 1.5, y), torch.where(c, x, -1.0), torch.where(c, 2.0, 0.5), torch.where(c, 3, 4))",
     {{2, 5}, {2, 5}},
     {{"select", 4}},
     {{2, 5}, {2, 5}, {2, 5}, TestOutput({2, 5}, DType::Int32)}},
};

const std::vector<LoweringCase> kReductions = {
    {"var and std, unbiased and not, over dims and everything",
     R"(def forward(self, x):
    return torch.var(x), torch.var(x, False), torch.std(x), torch.std(x, unbiased=False), torch.var(x, 1), torch.std(x, [0, 2], keepdim=True), torch.var(x, -1, False, True))",
     {{3, 4, 5}},
     {{"reduce_sum_square", 7}, {"sqrt", 3}},
     {kScalar, kScalar, kScalar, kScalar, {3, 5}, {1, 4, 1}, {3, 4, 1}}},
    {"var and std with a correction",
     R"(def forward(self, x):
    return torch.var(x, 1, correction=0), torch.std(x, [-1], correction=2, keepdim=True), torch.var(x, None, correction=3), torch.std(x, None))",
     {{3, 4, 5}},
     {{"reduce_sum_square", 4}},
     {{3, 5}, {3, 4, 1}, kScalar, kScalar}},
    {"var_mean and std_mean",
     R"(def forward(self, x):
    v, m = torch.var_mean(x, 1)
    s, n = torch.std_mean(x, [0, -1], keepdim=True, correction=0)
    a, b = torch.std_mean(x)
    return v, m, s, n, a, b)",
     {{3, 4, 5}},
     {{"reduce_sum_square", 3}, {"reduce_mean", 6}},
     {{3, 5}, {3, 5}, {1, 4, 1}, {1, 4, 1}, kScalar, kScalar}},
    {"var over a dynamic dim counts its elements at run time",
     R"(def forward(self, x):
    return torch.var(x, 1), torch.std(x, unbiased=False))",
     {dynamicInput({3, 6}, {1})},
     {{"shape", 2}, {"reduce_prod", 2}},
     {{3}, kScalar}},
    {"var and std of ints are floats",
     R"(def forward(self, i):
    return torch.var(i.float(), 0), torch.std(i.float()))",
     {intInput({4, 3})},
     {{"reduce_sum_square", 2}},
     {{3}, kScalar}},
    {"norm: p 2, 1, inf, -inf, 0, 3, 0.5, -1 and None, over dims and everything",
     R"(def forward(self, x):
    inf = float('inf')
    return torch.norm(x), torch.norm(x, 1), torch.norm(x, inf, [1]), torch.norm(x, -inf, [0, 2], True), torch.norm(x, 0, [-1]), torch.norm(x, 3, [-1], True), torch.norm(x, 0.5), torch.norm(x, -1, [2]), torch.norm(x, None, [1]))",
     {{2, 3, 4}},
     {{"reduce_l2_norm", 2}, {"reduce_l1_norm", 1}, {"reduce_max", 1}, {"reduce_min", 1}, {"pow", 6}},
     {kScalar, kScalar, {2, 4}, {1, 3, 1}, {2, 3}, {2, 3, 1}, kScalar, {2, 3}, {2, 4}}},
    {"frobenius_norm and the norm with a dtype",
     R"(def forward(self, x):
    return torch.frobenius_norm(x), torch.frobenius_norm(x, [0, 1]), torch.norm(x, 2, [0], False, dtype=6))",
     {{3, 4}},
     {{"reduce_l2_norm", 3}},
     {kScalar, kScalar, {4}}},
    {"linalg_vector_norm of every order",
     R"(def forward(self, x):
    inf = float('inf')
    return torch.linalg_vector_norm(x), torch.linalg_vector_norm(x, 1, [1]), torch.linalg_vector_norm(x, inf, [-1], True), torch.linalg_vector_norm(x, -inf), torch.linalg_vector_norm(x, 3.5, [0, 2]), torch.linalg_vector_norm(x, 0), torch.linalg_vector_norm(x, -2, [1]))",
     {{2, 3, 4}},
     {{"reduce_l2_norm", 1}, {"reduce_l1_norm", 1}},
     {kScalar, {2, 4}, {2, 3, 1}, kScalar, {3}, kScalar, {2, 4}}},
    {"linalg_matrix_norm fro, 1, -1, inf, -inf over any two dims",
     R"(def forward(self, x):
    inf = float('inf')
    return torch.linalg_matrix_norm(x), torch.linalg_matrix_norm(x, 1), torch.linalg_matrix_norm(x, -1, [0, 2]), torch.linalg_matrix_norm(x, inf, [-1, -3], True), torch.linalg_matrix_norm(x, -inf), torch.linalg_matrix_norm(x, 'fro', [0, 1], True))",
     {{2, 3, 4}},
     {{"reduce_l2_norm", 2}, {"reduce_sum", 4}},
     {{2}, {2}, {3}, {1, 3, 1}, {2}, {1, 1, 4}}},
    {"linalg_norm picks the vector or the matrix norm",
     R"(def forward(self, x, m):
    inf = float('inf')
    return torch.linalg_norm(x), torch.linalg_norm(x, None, [1, 2]), torch.linalg_norm(x, 3, [1]), torch.linalg_norm(x, inf, [0, 2], True), torch.linalg_norm(x, 'fro', [-2, -1]), torch.linalg_norm(m, 1), torch.linalg_norm(m[0], -inf), torch.linalg_norm(m, 'fro'))",
     {{2, 3, 4}, {3, 5}},
     {{"reduce_l2_norm", 4}},
     {kScalar, {2}, {2, 4}, {1, 3, 1}, {2}, kScalar, kScalar, kScalar}},
    {"cumprod along dims, of ints, with a dtype",
     R"(def forward(self, x, i):
    return torch.cumprod(x, 1), torch.cumprod(x, -1), torch.cumprod(torch.relu(x), 0), torch.cumprod(i, 1), torch.cumprod(i, 0, dtype=6))",
     {{3, 5, 4}, intInput({3, 5})},
     {{"reduce_prod", 5}, {"select", 5}},
     {{3, 5, 4}, {3, 5, 4}, {3, 5, 4}, TestOutput({3, 5}, DType::Int32), {3, 5}}},
    {"cumprod along a dynamic dim",
     R"(def forward(self, x):
    return torch.cumprod(x, 1))",
     {dynamicInput({2, 5, 3}, {1})},
     {{"range_1d", 1}, {"reduce_prod", 1}},
     {{2, kSymbolic, 3}}},
    {"prod over a dim, keeping it, of ints and with a dtype",
     R"(def forward(self, x, i):
    return torch.prod(x, 1), torch.prod(x, -1, True), torch.prod(x), torch.prod(i, 0), torch.prod(i, 1, dtype=6))",
     {{2, 5, 3}, intInput({3, 4})},
     {{"reduce_prod", 5}},
     {{2, 3}, {2, 5, 1}, kScalar, TestOutput({4}, DType::Int32), {3}}},
    {"all and any over everything and over a dim",
     R"(def forward(self, x, i):
    return torch.all(x > -1.0).float(), torch.any(x > 2.0).float(), torch.all(x > -0.5, 1).float(), torch.any(x > 0.5, -1, keepdim=True).float(), torch.all(i).float(), i.any(0).float())",
     {{3, 5}, intInput({3, 5})},
     {{"reduce_min", 3}, {"reduce_max", 3}},
     {kScalar, kScalar, {3}, {3, 1}, kScalar, {5}}},
    {"aminmax over everything and along a dim",
     R"(def forward(self, x, i):
    a, b = torch.aminmax(x)
    c, d = torch.aminmax(x, dim=-1, keepdim=True)
    e, f = torch.aminmax(i, dim=0)
    return a, b, c, d, e, f)",
     {{3, 5}, intInput({3, 5})},
     {{"reduce_min", 3}, {"reduce_max", 3}},
     {kScalar, kScalar, {3, 1}, {3, 1}, TestOutput({5}, DType::Int32), TestOutput({5}, DType::Int32)}},
    {"logsumexp over dims, keeping them, of ints",
     R"(def forward(self, x, i):
    return torch.logsumexp(x, [0, 2]), torch.logsumexp(x, -1, True), torch.logsumexp(i, 1))",
     {{2, 3, 4}, intInput({3, 4})},
     {{"reduce_log_sum_exp", 3}},
     {{3}, {2, 3, 1}, {3}}},
    {"count_nonzero over everything, a dim and dims",
     R"(def forward(self, x, i):
    r = torch.relu(x)
    return torch.count_nonzero(r), torch.count_nonzero(r, 1), torch.count_nonzero(i, [0, -1]), torch.count_nonzero(i))",
     {{3, 4, 5}, intInput({3, 4, 5})},
     {{"reduce_sum", 4}},
     {TestOutput({}, DType::Int32), TestOutput({3, 5}, DType::Int32), TestOutput({4}, DType::Int32),
      TestOutput({}, DType::Int32)}},
    {"l1_loss and mse_loss with each reduction",
     R"(def forward(self, x, y):
    return torch.l1_loss(x, y), torch.l1_loss(x, y, 0), torch.l1_loss(x, y, 2), torch.mse_loss(x, y), torch.mse_loss(x, y, 0), torch.mse_loss(x, y, 2))",
     {{3, 4}, {3, 4}},
     {{"reduce_mean", 2}, {"reduce_sum", 2}},
     {kScalar, {3, 4}, kScalar, kScalar, {3, 4}, kScalar}},
};

const std::vector<RefusedCase> kRefused = {
    {"bitwise ops on reals",
     R"(def forward(self, x):
    return torch.bitwise_and(x, x))",
     {{2, 3}},
     {"aten::bitwise_and", "bool and integer tensors only", "fp32"}},
    {"the nuclear norm",
     R"(def forward(self, x):
    return torch.linalg_matrix_norm(x, 'nuc'))",
     {{3, 3}},
     {"aten::linalg_matrix_norm", "nuclear norm", "singular values"}},
    {"the spectral matrix norm",
     R"(def forward(self, x):
    return torch.linalg_norm(x, 2))",
     {{3, 3}},
     {"aten::linalg_norm", "ord=2", "singular values"}},
    {"linalg_norm with an ord of a 3-D input and no dim",
     R"(def forward(self, x):
    return torch.linalg_norm(x, 1))",
     {{2, 3, 3}},
     {"aten::linalg_norm", "1-D or 2-D"}},
    {"rrelu in training",
     R"(def forward(self, x):
    return torch.rrelu(x, 0.1, 0.3, True))",
     {{2, 3}},
     {"aten::rrelu", "training=True"}},
};

/// The cases as a NeuralNetwork (.mlmodel of layers, read back from the layers); every op here
/// has a layer, so none is refused.
void checkNeuralNetwork(const std::vector<LoweringCase>& cases) {
    NumericalOptions nn;
    nn.format = ModelFormat::NeuralNetwork;
    checkAllNumerics(numericCases(cases), nn);
}

const double kNan = std::numeric_limits<float>::quiet_NaN();
const double kInf = std::numeric_limits<float>::infinity();

/// Special values: NaN, both infinities, both zeros, the largest float, ordinary numbers.
at::Tensor specialValues() {
    return at::tensor({kNan, kInf, -kInf, 0.0, -0.0, 3.0e38, -1.5, 2.25}, at::kFloat).reshape({2, 4});
}

const LoweringCase kSpecialValues = {"isnan, isinf, isposinf, isneginf, isfinite and nan_to_num on NaN and infinities",
                                     R"(def forward(self, x):
    return torch.isnan(x).float(), torch.isinf(x).float(), torch.isposinf(x).float(), torch.isneginf(x).float(), torch.isfinite(x).float(), torch.nan_to_num(x), torch.nan_to_num(x, 1.0, 100.0, -100.0), torch.nan_to_num(x, posinf=7.0))",
                                     {{2, 4}},
                                     {{"not_equal", 4}, {"select", 9}},
                                     {{2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4}, {2, 4}}};

const LoweringCase kSpecialIntegers = {"NaN and infinity tests of ints",
                                       R"(def forward(self, i):
    return torch.isnan(i).float(), torch.isinf(i).float(), torch.isfinite(i).float(), torch.nan_to_num(i))",
                                       {intInput({2, 4})},
                                       {{"select", 0}},
                                       {{2, 4}, {2, 4}, {2, 4}, TestOutput({2, 4}, DType::Int32)}};

const LoweringCase kSignedZeros = {"atan2 at the origin and on the axes, copysign by signed zeros and infinities",
                                   R"(def forward(self, y, x):
    return torch.atan2(y, x), torch.copysign(x, y), torch.copysign(y, x))",
                                   {{2, 4}, {2, 4}},
                                   {},
                                   {{2, 4}, {2, 4}, {2, 4}}};

const LoweringCase kExtremeIntegers = {
    "bitwise ops on the extreme int32 values",
    R"(def forward(self, x, y):
    return x & y, x | y, x ^ y, ~x, x & 65535)",
    {intInput({2, 4}), intInput({2, 4})},
    {},
    {TestOutput({2, 4}, DType::Int32), TestOutput({2, 4}, DType::Int32), TestOutput({2, 4}, DType::Int32),
     TestOutput({2, 4}, DType::Int32), TestOutput({2, 4}, DType::Int32)}};

at::Tensor ints(std::vector<int32_t> v) { return at::tensor(v, at::TensorOptions().dtype(at::kInt)).reshape({2, 4}); }

}  // namespace

TEST_CASE("math lowerings emit the expected MIL ops") {
    checkAll(kElementwise);
    checkAll(kReductions);
    checkAll({kSpecialValues, kSpecialIntegers, kSignedZeros, kExtremeIntegers});
}

TEST_CASE("math lowerings refuse what torch or Core ML cannot compute and name the op") { checkAll(kRefused); }

TEST_CASE("elementwise math lowerings match LibTorch numerically") { checkAllNumerics(numericCases(kElementwise)); }

TEST_CASE("reduction and norm lowerings match LibTorch numerically") { checkAllNumerics(numericCases(kReductions)); }

TEST_CASE("elementwise math layers of a NeuralNetwork model match LibTorch numerically") {
    checkNeuralNetwork(kElementwise);
}

TEST_CASE("reduction and norm layers of a NeuralNetwork model match LibTorch numerically") {
    checkNeuralNetwork(kReductions);
}

TEST_CASE("NaN and infinities and signed zeros are handled as torch does in both formats") {
    for (ModelFormat format : {ModelFormat::MLProgram, ModelFormat::NeuralNetwork}) {
        CAPTURE(static_cast<int>(format));
        NumericalOptions options;
        options.format = format;
        options.feed = {specialValues()};
        checkNumerics(kSpecialValues, options);
        options.feed = {ints({0, 1, -1, 7, -100000, 100000, 5, -5})};
        checkNumerics(kSpecialIntegers, options);
        options.feed = {at::tensor({0.0, -0.0, 0.0, -0.0, 1.0, -1.0, kInf, -kInf}, at::kFloat).reshape({2, 4}),
                        at::tensor({0.0, 0.0, -0.0, -0.0, -kInf, kInf, 0.0, -0.0}, at::kFloat).reshape({2, 4})};
        checkNumerics(kSignedZeros, options);
    }
}

TEST_CASE("bitwise ops are exact on the extreme int32 values") {
    NumericalOptions options;
    options.feed = {ints({INT32_MIN, INT32_MAX, -1, 0, 123456789, -123456789, INT32_MIN, 65536}),
                    ints({INT32_MAX, INT32_MIN, INT32_MIN, -1, -987654321, 987654321, -1, 65535})};
    checkNumerics(kExtremeIntegers, options);
}
