// End to end, numerically: small TorchScript modules, one per argument variant of each lowering
// family, converted -> written as .mlpackage -> read back -> executed by the reference runtime ->
// compared with LibTorch's forward on the same seeded inputs. A family's own case table
// (tests/lowerings/<Family>Test.cpp) is checked the same way with checkAllNumerics(kCases).
#include "backend/neuralnetwork/NeuralNetworkWriter.h"
#include "lowerings/BothFormats.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <set>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

// Outputs are not checked by type here (the lowering tests do that): only ops and numbers.
LoweringCase numeric(std::string name, std::string source, std::vector<TestInput> inputs) {
    return LoweringCase{std::move(name), std::move(source), std::move(inputs), {}, {}};
}

// Weights that differ per element, so a transposed or shifted kernel cannot pass by symmetry.
const std::vector<LoweringCase> kConvolution = {
    numeric("conv2d bias, padding 1", R"(def forward(self, x):
    w = torch.sin(torch.arange(216.0)).reshape(8, 3, 3, 3)
    return torch.conv2d(x, w, torch.cos(torch.arange(8.0)), 1, 1))",
            {{1, 3, 8, 8}}),
    numeric("conv2d stride 2, asymmetric stride and padding", R"(def forward(self, x):
    w = torch.sin(torch.arange(36.0)).reshape(4, 3, 3, 1)
    return torch.conv2d(x, w, None, [2, 1], [1, 0]))",
            {{1, 3, 9, 8}}),
    numeric("conv2d depthwise, dilated", R"(def forward(self, x):
    w = torch.sin(torch.arange(27.0)).reshape(3, 1, 3, 3)
    return torch.conv2d(x, w, None, 1, 2, 2, 3))",
            {{2, 3, 8, 8}}),
    numeric("conv2d padding='same' with an even kernel", R"(def forward(self, x):
    w = torch.sin(torch.arange(96.0)).reshape(2, 3, 4, 4)
    return torch.conv2d(x, w, None, 1, 'same'))",
            {{1, 3, 7, 8}}),
    numeric("conv1d and conv3d", R"(def forward(self, x, y):
    a = torch.conv1d(x, torch.sin(torch.arange(60.0)).reshape(4, 3, 5), torch.ones(4), 2)
    b = torch.conv3d(y, torch.sin(torch.arange(108.0)).reshape(2, 2, 3, 3, 3), None, 1, 1)
    return a, b)",
            {{1, 3, 16}, {1, 2, 4, 6, 6}}),
    numeric("conv_transpose2d stride 2, padding 1, output_padding 1", R"(def forward(self, x):
    w = torch.sin(torch.arange(72.0)).reshape(4, 2, 3, 3)
    return torch.conv_transpose2d(x, w, torch.ones(2), 2, 1, 1))",
            {{1, 4, 5, 5}}),
    numeric("conv_transpose2d grouped and dilated; conv_transpose1d", R"(def forward(self, x, y):
    a = torch.conv_transpose2d(x, torch.sin(torch.arange(36.0)).reshape(4, 1, 3, 3), None, 1, 0, 0, 2, 2)
    b = torch.conv_transpose1d(y, torch.sin(torch.arange(24.0)).reshape(4, 2, 3), None, 2)
    return a, b)",
            {{1, 4, 6, 6}, {1, 4, 10}}),
};

const std::vector<LoweringCase> kPooling = {
    numeric("max_pool2d 3/2/1 (ResNet) and ceil_mode", R"(def forward(self, x):
    return torch.max_pool2d(x, 3, 2, 1), torch.max_pool2d(x, 2, 2, 0, 1, True))",
            {{1, 3, 9, 9}}),
    numeric("avg_pool2d including and excluding padding", R"(def forward(self, x):
    return torch.avg_pool2d(x, 3, 2, 1), torch.avg_pool2d(x, 3, 2, 1, False, False))",
            {{1, 3, 8, 8}}),
    numeric("avg_pool2d ceil_mode, divisor_override", R"(def forward(self, x):
    return torch.avg_pool2d(x, 2, 2, 0, True), torch.avg_pool2d(x, 2, divisor_override=3))",
            {{1, 2, 7, 7}}),
    numeric("adaptive pooling", R"(def forward(self, x):
    return torch.adaptive_avg_pool2d(x, 1), torch.adaptive_avg_pool2d(x, (3, 3)), torch.adaptive_max_pool2d(x, 4)[0])",
            {{1, 3, 8, 8}}),
    numeric("max_pool1d", R"(def forward(self, x):
    return torch.max_pool1d(x, 3, 2))",
            {{1, 3, 16}}),
};

const std::vector<LoweringCase> kActivation = {
    numeric("relu family", R"(def forward(self, x):
    return torch.relu(x), torch.relu6(x * 4.0), torch.hardtanh(x, -0.5, 0.5), torch.leaky_relu(x, 0.2))",
            {{2, 3, 4}}),
    numeric("sigmoids and smooth activations", R"(def forward(self, x):
    return torch.hardswish(x * 4.0), torch.hardsigmoid(x * 4.0), torch.silu(x), torch.gelu(x), torch.gelu(x, approximate='tanh'))",
            {{2, 16}}),
    numeric("elu, selu, softplus, mish", R"(def forward(self, x):
    return torch.elu(x, 0.5), torch.selu(x), torch.softplus(x, 2.0, 5.0), torch.mish(x))",
            {{2, 16}}),
    numeric("softmax, log_softmax, prelu", R"(def forward(self, x):
    return torch.softmax(x, 1), torch.log_softmax(x, -1), torch.prelu(x, torch.arange(3.0) / 4.0))",
            {{2, 3, 5}}),
    numeric("clamp variants", R"(def forward(self, x):
    return torch.clamp(x, -1.0, 1.0), torch.clamp(x, min=0.5), torch.clamp(x, max=2))",
            {{2, 5}}),
};

const std::vector<LoweringCase> kElementwise = {
    numeric("arithmetic with broadcasting and alpha", R"(def forward(self, x, y):
    return x + y, torch.add(x, y, alpha=2), x - y, x * y, x / (torch.abs(y) + 1.0))",
            {{1, 3, 4, 4}, {3, 1, 1}}),
    numeric("scalars on either side", R"(def forward(self, x):
    return x + 1, 1.0 - x, torch.rsub(x, 2.0), x * 3, -x)",
            {{2, 5}}),
    numeric("division rounding modes and remainder", R"(def forward(self, x, y):
    z = torch.abs(y) + 0.5
    return torch.div(x * 4.0, z, rounding_mode='floor'), torch.div(x * 4.0, z, rounding_mode='trunc'), torch.remainder(x, 0.3))",
            {{2, 5}, {2, 5}}),
    numeric("powers, roots, logs", R"(def forward(self, x):
    a = torch.abs(x) + 0.1
    return a ** 2, torch.pow(a, 0.5), torch.pow(a, 1.7), torch.sqrt(a), torch.rsqrt(a), torch.log(a), torch.exp(x), torch.reciprocal(a))",
            {{2, 5}}),
    numeric("comparisons, where, logic", R"(def forward(self, x, y):
    # Core ML outputs cannot be bool: comparisons are returned as floats.
    return (x > y).float(), (x == 0.5).float(), torch.where(x > 0.5, x, y), torch.where(x > 0.5, x, 0.0), torch.logical_and(x > 0.0, y > 0.0).float())",
            {{2, 5}, {2, 5}}),
    numeric("int tensors", R"(def forward(self, x, y):
    return x + y, x * 2, (x <= 2).int(), torch.maximum(x, y), x / (y + 1))",
            {intInput({2, 5}), intInput({2, 5})}),
};

const std::vector<LoweringCase> kNormalization = {
    numeric("batch_norm with running statistics", R"(def forward(self, x):
    mean = torch.arange(3.0) / 10.0
    var = torch.arange(3.0) + 0.5
    return torch.batch_norm(x, torch.arange(3.0) + 1.0, torch.ones(3) * 0.1, mean, var, False, 0.1, 1e-5, False))",
            {{2, 3, 4, 4}}),
    numeric("layer_norm over one and two dims", R"(def forward(self, x):
    return torch.layer_norm(x, [8], torch.arange(8.0) / 4.0, torch.ones(8)), torch.layer_norm(x, [5, 8]))",
            {{2, 5, 8}}),
    numeric("instance_norm and group_norm", R"(def forward(self, x):
    a = torch.instance_norm(x, torch.arange(4.0), torch.ones(4), None, None, True, 0.1, 1e-5, False)
    b = torch.group_norm(x, 2, torch.arange(4.0) / 2.0, torch.ones(4))
    return a, b)",
            {{1, 4, 6, 6}}),
};

const std::vector<LoweringCase> kReduction = {
    numeric("mean, sum, keepdim, negative dims", R"(def forward(self, x):
    return x.mean([2, 3], keepdim=True), x.mean(), x.sum(1), torch.sum(x, -1, keepdim=True))",
            {{1, 3, 4, 5}}),
    numeric("amax, amin, max and min with indices", R"(def forward(self, x):
    v, i = torch.max(x, 1)
    return torch.amax(x, dim=(1, 2)), torch.amin(x, 1, True), v, i, torch.min(x, 0, keepdim=True)[0])",
            {{2, 5, 3}}),
    numeric("argmax, prod, logsumexp", R"(def forward(self, x):
    return torch.argmax(x, dim=1), torch.argmax(x), torch.prod(x, 1), torch.logsumexp(x, 1))",
            {{2, 5, 3}}),
};

const std::vector<LoweringCase> kResize = {
    numeric("bilinear by scale, to a multiple, to another size, aligned", R"(def forward(self, x):
    a = torch.upsample_bilinear2d(x, None, False, [2.0, 2.0])
    b = torch.upsample_bilinear2d(x, [16, 32], False)
    c = torch.upsample_bilinear2d(x, [12, 11], False)
    d = torch.upsample_bilinear2d(x, [12, 10], True)
    return a, b, c, d)",
            {{1, 3, 8, 8}}),
    numeric("nearest by scale and to a size", R"(def forward(self, x):
    return torch.upsample_nearest2d(x, None, [2.0, 3.0]), torch.upsample_nearest2d(x, [16, 8]))",
            {{1, 2, 4, 4}}),
};

const std::vector<LoweringCase> kShape = {
    numeric("view, reshape, flatten, permute, transpose", R"(def forward(self, x):
    return x.view(2, -1), x.reshape(-1, 4), torch.flatten(x, 1), x.permute(0, 2, 3, 1), x.transpose(1, 3))",
            {{2, 3, 4, 4}}),
    numeric("cat, stack, split, chunk", R"(def forward(self, x, y):
    a, b = torch.split(x, [1, 2], 1)
    return torch.cat([x, y], 1), torch.stack([x, y], 0), a, b, torch.chunk(y, 3, 1)[2])",
            {{2, 3, 4}, {2, 3, 4}}),
    numeric("squeeze, unsqueeze, expand, repeat", R"(def forward(self, x):
    return x.squeeze(1), x.unsqueeze(-1), x.expand(3, 1, 4, 5), x.repeat(1, 2, 1, 1))",
            {{3, 1, 4, 5}}),
    numeric("pad modes, pixel_shuffle", R"(def forward(self, x):
    a = torch.constant_pad_nd(x, [1, 2, 0, 3])
    b = torch.reflection_pad2d(x, [2, 1, 1, 2])
    c = torch.replication_pad2d(x, [1, 1, 2, 2])
    return a, b, c, torch.pixel_shuffle(x, 2))",
            {{1, 4, 4, 5}}),
};

const std::vector<LoweringCase> kIndexing = {
    numeric("slicing with steps and negative bounds", R"(def forward(self, x):
    return x[:, 1:3], x[..., ::2], x[:, -2:], x[0], x[:, :, 1])",
            {{2, 4, 6}}),
    numeric("index_select, gather, embedding", R"(def forward(self, x, i):
    j = torch.clamp(i, 0, 3)
    return torch.index_select(x, 1, j), torch.gather(x, 1, j.reshape(1, 3, 1).expand(2, 3, 6)))",
            {{2, 4, 6}, TestInput({3}, {}, DType::Int32)}),
};

}  // namespace

TEST_CASE("Convolution lowerings match LibTorch numerically") { checkAllNumerics(kConvolution); }
TEST_CASE("Pooling lowerings match LibTorch numerically") { checkAllNumerics(kPooling); }
TEST_CASE("Activation lowerings match LibTorch numerically") { checkAllNumerics(kActivation); }
TEST_CASE("Elementwise lowerings match LibTorch numerically") { checkAllNumerics(kElementwise); }
TEST_CASE("Normalization lowerings match LibTorch numerically") { checkAllNumerics(kNormalization); }
TEST_CASE("Reduction lowerings match LibTorch numerically") { checkAllNumerics(kReduction); }
TEST_CASE("Resize lowerings match LibTorch numerically") { checkAllNumerics(kResize); }
TEST_CASE("Shape lowerings match LibTorch numerically") { checkAllNumerics(kShape); }
TEST_CASE("Indexing lowerings match LibTorch numerically") { checkAllNumerics(kIndexing); }

namespace {

// The same cases written as NeuralNetwork layers (.mlmodel) and read back from the layers. A case
// using an op with no layer must be refused, naming that op.
// Cases that fail as ML Programs too, for reasons outside the backends, are left out by name.
void checkNeuralNetwork(const std::vector<LoweringCase>& cases, const std::map<std::string, std::string>& refused = {},
                        const std::set<std::string>& leftOut = {}) {
    checkNeuralNetworkNumerics(cases, refused, leftOut);
}

}  // namespace

TEST_CASE("Convolution layers of a NeuralNetwork model match LibTorch numerically") {
    checkNeuralNetwork(kConvolution, {{"conv1d and conv3d", "op 'conv'"}});
}
TEST_CASE("Pooling layers of a NeuralNetwork model match LibTorch numerically") { checkNeuralNetwork(kPooling); }
TEST_CASE("Activation layers of a NeuralNetwork model match LibTorch numerically") { checkNeuralNetwork(kActivation); }
TEST_CASE("Elementwise layers of a NeuralNetwork model match LibTorch numerically") {
    // Bool outputs have no Core ML multi-array type (the description refuses them in both formats).
    checkNeuralNetwork(kElementwise, {}, {"comparisons, where, logic", "int tensors"});
}
TEST_CASE("Normalization layers of a NeuralNetwork model match LibTorch numerically") {
    checkNeuralNetwork(kNormalization);
}
TEST_CASE("Reduction layers of a NeuralNetwork model match LibTorch numerically") { checkNeuralNetwork(kReduction); }
TEST_CASE("Resize layers of a NeuralNetwork model match LibTorch numerically") { checkNeuralNetwork(kResize); }
TEST_CASE("Shape layers of a NeuralNetwork model match LibTorch numerically") { checkNeuralNetwork(kShape); }

TEST_CASE("padding modes and pixel_shuffle become ConstantPad, Padding and ReorganizeData layers") {
    NumericalOptions nn;
    nn.format = ModelFormat::NeuralNetwork;
    checkNumerics(numeric("pad modes, pixel_shuffle (scriptable)", R"(def forward(self, x):
    a = torch.constant_pad_nd(x, [1, 2, 0, 3], 0.5)
    b = torch.reflection_pad2d(x, [2, 1, 1, 2])
    c = torch.replication_pad2d(x, [1, 1, 2, 2])
    return a, b, c, torch.pixel_shuffle(x, 2))",
                          {{1, 4, 5, 6}}),
                  nn);
}
TEST_CASE("Indexing layers of a NeuralNetwork model match LibTorch numerically") { checkNeuralNetwork(kIndexing); }

TEST_CASE("fp16 conversions match LibTorch within the fp16 tolerance") {
    NumericalOptions fp16;
    fp16.precision = Precision::Float16;
    checkAllNumerics(kConvolution, fp16);
    checkAllNumerics(kNormalization, fp16);
}

TEST_CASE("a lowering registered wrong is caught numerically") {
    // aten::relu lowered to sigmoid: the ops are valid, the shapes right, only the numbers wrong.
    LoweringRegistry wrong = LoweringRegistry::withBuiltins();
    LoweringOptions replace;
    replace.replaces = true;
    wrong.add(
        "aten::relu",
        [](LoweringContext& ctx) {
            ctx.bind(0, ctx.builder().add("sigmoid", {{"x", ctx.tensor("self")}}));
        },
        replace);
    NumericalOptions options;
    options.registry = &wrong;
    const NumericalResult r = convertAndCompare("wrong relu", R"(def forward(self, x):
    return torch.relu(x))",
                                                {{2, 8}}, options);
    REQUIRE(r.outputs.size() == 1);
    CHECK_FALSE(r.pass);
    CHECK(r.outputs[0].maxAbsError > 0.1);
    // The same module with the built-in lowering passes.
    CHECK(convertAndCompare("right relu", R"(def forward(self, x):
    return torch.relu(x))",
                            {{2, 8}})
              .pass);
}
