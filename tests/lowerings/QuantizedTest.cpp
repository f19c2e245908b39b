// Quantized lowerings (core/lowerings/Quantized.cpp), compared with LibTorch as ML Programs and as
// NeuralNetwork models. Each case returns dequantized values; its tolerance is half a quantum of its
// output's scale (rtol 0). In general a value that lies within float rounding of a half quantum may
// round the other way than in torch's integer kernels (one quantum apart); the seeded inputs here
// hold none, so a rounding or zero-point mistake, a quantum at least, fails the case. Exact halves
// themselves round as torch rounds them (to even): "quantize rounds exact halves to even" feeds them.
// The weights of quantized conv2d and linear are made in the scripted source and prepacked there:
// torch folds the prepacking into constant packed-parameter objects, which the frontend unpacks.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <map>

// Dtypes are torch's ScalarType codes in the sources (a module compiled from C++ cannot name
// torch.qint8): 12 qint8, 13 quint8, 14 qint32, 7 double, 4 long; ops outside aten are called as
// serialized TorchScript calls them, `ops.quantized.add`.

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

// The quantum (output scale) of each case, the unit of its tolerance.
const std::map<std::string, double> kQuantum = {
    {"quantize_per_tensor quint8", 0.01},
    {"quantize_per_tensor qint8", 0.02},
    {"quantize_per_tensor qint32", 0.001},
    {"quantize_per_tensor with tensor parameters", 0.03},
    {"quantize_per_channel qint8", 0.1},
    {"quantize_per_channel quint8 along the last axis", 0.04},
    {"quantized add quint8", 0.04},
    {"quantized add_relu qint8 broadcasting", 0.03},
    {"quantized mul qint8", 0.02},
    {"quantized matmul quint8", 0.1},
    {"linear_prepack of a computed weight into quantized linear", 0.05},
    {"quantized linear_relu with a per-channel weight", 0.04},
    {"quantized conv2d strided, padded, dilated, grouped", 0.05},
    {"quantized conv2d_relu with a per-tensor weight", 0.03},
    {"quantized embedding_byte", 1e-5},  // a float output: the table's own dequantized values
};

const std::vector<LoweringCase> kCases = {
    {"quantize_per_tensor quint8",
     R"(def forward(self, x):
    return torch.quantize_per_tensor(x, 0.01, 128, 13).dequantize())",
     {{2, 3, 4}},
     {{"mul", 2}, {"round", 1}, {"clip", 1}},
     {{2, 3, 4}}},
    {"quantize_per_tensor qint8",
     R"(def forward(self, x):
    return torch.quantize_per_tensor(x, 0.02, -5, 12).dequantize())",
     {{2, 3, 4}},
     {{"round", 1}, {"clip", 1}},
     {{2, 3, 4}}},
    {"quantize_per_tensor qint32",
     R"(def forward(self, x):
    return torch.quantize_per_tensor(x * 1000.0, 0.001, 7, 14).dequantize())",
     {{2, 5}},
     {{"round", 1}, {"clip", 1}},
     {{2, 5}}},
    {"quantize_per_tensor with tensor parameters",
     R"(def forward(self, x):
    return torch.quantize_per_tensor(x, torch.tensor(0.03), torch.tensor(10), 13).dequantize())",
     {{3, 4}},
     {{"round", 1}, {"clip", 1}},
     {{3, 4}}},
    {"quantize_per_channel qint8",
     R"(def forward(self, x):
    s = torch.tensor([0.02, 0.05, 0.1], dtype=7)
    return torch.quantize_per_channel(x, s, torch.tensor([0, 10, -3]), 1, 12).dequantize())",
     {{2, 3, 4}},
     {{"round", 1}, {"maximum", 1}, {"minimum", 1}, {"clip", 0}},
     {{2, 3, 4}}},
    {"quantize_per_channel quint8 along the last axis",
     R"(def forward(self, x):
    s = torch.tensor([0.01, 0.02, 0.03, 0.04], dtype=7)
    return torch.quantize_per_channel(x, s, torch.tensor([128, 0, 255, 60]), 2, 13).dequantize())",
     {{2, 3, 4}},
     {{"round", 1}, {"maximum", 1}, {"minimum", 1}},
     {{2, 3, 4}}},
    {"quantized add quint8",
     R"(def forward(self, x, y):
    qa = torch.quantize_per_tensor(x, 0.02, 100, 13)
    qb = torch.quantize_per_tensor(y, 0.03, 120, 13)
    return ops.quantized.add(qa, qb, 0.04, 128).dequantize())",
     {{2, 3, 4}, {2, 3, 4}},
     {{"add", 1}, {"round", 3}, {"clip", 3}},
     {{2, 3, 4}}},
    {"quantized add_relu qint8 broadcasting",
     R"(def forward(self, x, y):
    qa = torch.quantize_per_tensor(x, 0.02, 3, 12)
    qb = torch.quantize_per_tensor(y, 0.025, -4, 12)
    return ops.quantized.add_relu(qa, qb, 0.03, -20).dequantize())",
     {{2, 3, 4}, {4}},
     {{"add", 1}, {"relu", 1}, {"round", 3}},
     {{2, 3, 4}}},
    {"quantized mul qint8",
     R"(def forward(self, x, y):
    qa = torch.quantize_per_tensor(x, 0.02, 0, 12)
    qb = torch.quantize_per_tensor(y, 0.03, 5, 12)
    return ops.quantized.mul(qa, qb, 0.02, -2).dequantize())",
     {{3, 4}, {3, 4}},
     {{"mul", 7}, {"round", 3}},
     {{3, 4}}},
    {"quantized matmul quint8",
     R"(def forward(self, x, y):
    qa = torch.quantize_per_tensor(x, 0.02, 128, 13)
    qb = torch.quantize_per_tensor(y, 0.03, 120, 13)
    return ops.quantized.matmul(qa, qb, 0.1, 128).dequantize())",
     {{2, 3, 4}, {2, 4, 5}},
     {{"matmul", 1}, {"round", 3}},
     {{2, 3, 5}}},
    {"linear_prepack of a computed weight into quantized linear",
     R"(def forward(self, x, w):
    qx = torch.quantize_per_tensor(x, 0.03, 128, 13)
    qw = torch.quantize_per_tensor(w, 0.01, 0, 12)
    packed = ops.quantized.linear_prepack(qw, None)
    return ops.quantized.linear(qx, packed, 0.05, 100).dequantize())",
     {{3, 6}, {4, 6}},
     {{"matmul", 1}, {"round", 3}},
     {{3, 4}}},
    {"quantized linear_relu with a per-channel weight",
     R"(def forward(self, x):
    w = torch.sin(torch.arange(24.0) * 0.7).reshape(4, 6)
    s = torch.tensor([0.004, 0.008, 0.006, 0.005], dtype=7)
    qw = torch.quantize_per_channel(w, s, torch.zeros(4, dtype=4), 0, 12)
    packed = ops.quantized.linear_prepack(qw, torch.tensor([0.1, -0.2, 0.3, 0.0]))
    qx = torch.quantize_per_tensor(x, 0.02, 128, 13)
    return ops.quantized.linear_relu(qx, packed, 0.04, 0).dequantize())",
     {{2, 3, 6}},
     {{"linear", 1}, {"relu", 1}, {"round", 2}},
     {{2, 3, 4}}},
    {"quantized conv2d strided, padded, dilated, grouped",
     R"(def forward(self, x):
    w = torch.sin(torch.arange(72.0) * 0.37).reshape(4, 2, 3, 3)
    s = torch.tensor([0.004, 0.008, 0.006, 0.005], dtype=7)
    qw = torch.quantize_per_channel(w, s, torch.zeros(4, dtype=4), 0, 12)
    packed = ops.quantized.conv2d_prepack(qw, torch.tensor([0.1, -0.2, 0.3, 0.0]), [2, 1], [1, 0], [1, 2], 2)
    qx = torch.quantize_per_tensor(x, 0.02, 128, 13)
    return ops.quantized.conv2d(qx, packed, 0.05, 64).dequantize())",
     {{1, 4, 7, 9}},
     {{"conv", 1}, {"round", 2}},
     {{1, 4, 4, 5}}},
    {"quantized conv2d_relu with a per-tensor weight",
     R"(def forward(self, x):
    w = torch.cos(torch.arange(54.0) * 0.53).reshape(2, 3, 3, 3)
    qw = torch.quantize_per_tensor(w, 0.008, 0, 12)
    packed = ops.quantized.conv2d_prepack(qw, None, [1, 1], [1, 1], [1, 1], 1)
    qx = torch.quantize_per_tensor(x, 0.02, 128, 13)
    return ops.quantized.conv2d_relu(qx, packed, 0.03, 0).dequantize())",
     {{2, 3, 5, 5}},
     {{"conv", 1}, {"relu", 1}, {"round", 2}},
     {{2, 2, 5, 5}}},
    {"quantized embedding_byte",
     R"(def forward(self, i):
    w = torch.sin(torch.arange(60.0) * 0.91).reshape(10, 6)
    s = torch.tensor([0.004, 0.008, 0.006, 0.005, 0.01, 0.003, 0.007, 0.009, 0.002, 0.0045], dtype=7)
    z = torch.tensor([0.1, -0.2, 0.0, 0.3, 0.05, -0.1, 0.2, 0.0, -0.3, 0.15])
    qw = torch.quantize_per_channel(w, s, z, 0, 13)
    packed = ops.quantized.embedding_bag_prepack(qw)
    return ops.quantized.embedding_byte(packed, i, False))",
     {intInput({3, 4})},
     {{"gather", 1}, {"round", 0}},
     {{3, 4, 6}}},
};

const std::vector<RefusedCase> kRefused = {
    {"quantized add of a scalar",
     R"(def forward(self, x):
    return ops.quantized.add(torch.quantize_per_tensor(x, 0.02, 100, 13), 1.5).dequantize())",
     {{2, 3}},
     {"quantized::add", "'Scalar' overload is not supported"}},
    {"quantization parameters computed at run time",
     R"(def forward(self, x):
    return torch.quantize_per_tensor(x, float(x.abs().max()) / 127.0, 0, 12).dequantize())",
     {{2, 3}},
     {"aten::quantize_per_tensor", "'scale' must be a constant number"}},
    {"a pruned embedding table",
     R"(def forward(self, i):
    w = torch.sin(torch.arange(12.0)).reshape(4, 3)
    s = torch.tensor([0.01, 0.01, 0.01, 0.01], dtype=7)
    qw = torch.quantize_per_channel(w, s, torch.zeros(4), 0, 13)
    return ops.quantized.embedding_byte(ops.quantized.embedding_bag_prepack(qw), i, True))",
     {intInput({2})},
     {"quantized::embedding_byte", "pruned_weights=True"}},
};

NumericalOptions withinHalfQuantum(const LoweringCase& c, NumericalOptions options = {}) {
    const auto quantum = kQuantum.find(c.name);
    REQUIRE_MESSAGE(quantum != kQuantum.end(), "no quantum for case ", c.name);
    options.tolerance = verify::Tolerance{0.5 * quantum->second, 0.0};
    return options;
}

}  // namespace

TEST_CASE("Quantized lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Quantized lowerings refuse what they cannot convert") { checkAll(kRefused); }

TEST_CASE("Quantized lowering cases match LibTorch within half a quantum") {
    for (const auto& c : kCases) checkNumerics(c, withinHalfQuantum(c));
}

TEST_CASE("Quantized lowering cases match LibTorch within half a quantum as NeuralNetwork layers") {
    NumericalOptions nn;
    nn.format = ModelFormat::NeuralNetwork;
    for (const auto& c : kCases) checkNumerics(c, withinHalfQuantum(c, nn));
}

TEST_CASE("quantize rounds exact halves to even") {
    // x * (1 / 0.25) is exactly k + 0.5: torch rounds each to the even neighbour, and so must MIL's
    // round (round-half-away would differ by a quantum on half of them).
    std::vector<float> halves;
    for (int k = -8; k < 8; ++k) halves.push_back((static_cast<float>(k) + 0.5f) * 0.25f);
    const LoweringCase c{"exact halves",
                         R"(def forward(self, x):
    return torch.quantize_per_tensor(x, 0.25, 3, 12).dequantize())",
                         {{16}},
                         {},
                         {{16}}};
    for (ModelFormat format : {ModelFormat::MLProgram, ModelFormat::NeuralNetwork}) {
        NumericalOptions options;
        options.format = format;
        options.feed = {at::tensor(halves)};
        options.tolerance = verify::Tolerance{1e-6, 0.0};
        checkNumerics(c, options);
    }
}
