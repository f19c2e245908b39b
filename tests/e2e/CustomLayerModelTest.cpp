// Custom layers in NeuralNetwork models, end to end. A fixture plugin lowers aten::hardshrink to a
// custom layer of class HardShrink (tests/plugin/fixtures/CustomLayerPlugin.cpp); the .mlmodel
// keeps its class, parameters and weights; inspect shows them; verify compares the values feeding
// the layer with LibTorch's (or, given a reference kernel, runs through it to the outputs); stubs
// writes Swift; an .mlpackage refuses it.
#include "Converter.h"
#include "e2e/CliTestSupport.h"
#include "plugin/PluginLoader.h"
#include "runtime/RuntimeTestSupport.h"
#include "verify/CustomLayerCheck.h"

#include "Model.pb.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::string kPlugin = TS2COREML_CUSTOM_LAYER_PLUGIN;

// y = x W^T feeds the custom layer; the second output does not depend on it.
const char* kLinearHardshrink = R"(
def forward(self, x):
    y = torch.linear(x, self.weight)
    return torch.hardshrink(y, 0.5) * 2.0, y + 1.0
)";

at::Tensor linearWeight() { return at::arange(12, at::kFloat).reshape({3, 4}) * 0.125 - 0.7; }

/// Saves the linear -> hardshrink model as DIR/model.pt and returns its path.
std::string saveLinearHardshrink(const CliTempDir& dir) {
    torch::jit::Module m("CustomLayerModel");
    m.register_parameter("weight", linearWeight(), false);
    m.define(kLinearHardshrink);
    const std::string path = dir / "model.pt";
    m.save(path);
    return path;
}

/// `convert MODEL -o OUT --input INPUT` with the fixture plugin.
Run convertWithPlugin(const CliTempDir& dir, const std::string& model, const std::string& out,
                      const std::string& input) {
    return runTs2coreml(dir, "convert " + model + " -o " + out + " --input " + input + " --plugin-path " + kPlugin);
}

/// `verify MODEL OUT` with the fixture plugin.
Run verifyWithPlugin(const CliTempDir& dir, const std::string& model, const std::string& out) {
    return runTs2coreml(dir, "verify " + model + " " + out + " --plugin-path " + kPlugin);
}

const LoweringRegistry& customRegistry() {
    static const LoweringRegistry registry = [] {
        LoweringRegistry r = LoweringRegistry::withBuiltins();
        loadPlugin(kPlugin, r);
        return r;
    }();
    return registry;
}

spec::Model readSpec(const std::string& path) {
    spec::Model model;
    std::ifstream in(path, std::ios::binary);
    REQUIRE(model.ParseFromIstream(&in));
    return model;
}

const spec::NeuralNetworkLayer* customLayerOf(const spec::Model& model) {
    for (const auto& l : model.neuralnetwork().layers())
        if (l.has_custom()) return &l;
    return nullptr;
}

const mil::Operation* onlyCustomOp(const mil::Program& program) {
    const auto ops = verify::customLayerOps(program);
    REQUIRE(ops.size() == 1);
    return ops.front();
}

// The reference semantics of the fixture's class.
std::vector<at::Tensor> hardShrinkKernel(const mil::CustomLayer& layer, const std::vector<at::Tensor>& in) {
    const double lambda = std::get<double>(layer.parameters.at("lambda"));
    return {at::where(at::abs(in.at(0)) > lambda, in.at(0), at::zeros_like(in.at(0)))};
}

}  // namespace

TEST_CASE("A custom layer converts to an .mlmodel and reads back with its class, parameters and weights") {
    CliTempDir dir("custom_roundtrip");
    ConvertOptions options;
    options.modelPath = saveLinearHardshrink(dir);
    options.outputPath = dir / "out.mlmodel";
    options.inputs = {{"x", TensorType::of(DType::Float32, {2, 4})}};
    convertModel(options, customRegistry());

    const spec::Model model = readSpec(options.outputPath);
    CHECK(model.specificationversion() == 4);  // custom layers need nothing above iOS13
    const spec::NeuralNetworkLayer* layer = customLayerOf(model);
    REQUIRE(layer);
    const auto& p = layer->custom();
    CHECK(p.classname() == "HardShrink");
    CHECK(p.description() == "x where |x| > lambda, else 0");
    using V = spec::CustomLayerParams::CustomLayerParamValue;
    REQUIRE(p.parameters().size() == 5);
    CHECK(p.parameters().at("lambda").value_case() == V::kDoubleValue);
    CHECK(p.parameters().at("lambda").doublevalue() == 0.5);
    CHECK(p.parameters().at("mode").stringvalue() == "symmetric");
    CHECK(p.parameters().at("version").value_case() == V::kIntValue);
    CHECK(p.parameters().at("version").intvalue() == 2);
    CHECK(p.parameters().at("elements").value_case() == V::kLongValue);
    CHECK(p.parameters().at("elements").longvalue() == int64_t{1} << 40);
    CHECK(p.parameters().at("inplace").value_case() == V::kBoolValue);
    CHECK_FALSE(p.parameters().at("inplace").boolvalue());
    REQUIRE(p.weights_size() == 1);
    CHECK(std::vector<float>(p.weights(0).floatvalue().begin(), p.weights(0).floatvalue().end()) ==
          std::vector<float>{0.25f, -1.5f, 3.0f});
    REQUIRE(layer->input_size() == 1);
    REQUIRE(layer->outputtensor_size() == 1);
    CHECK(layer->outputtensor(0).rank() == 2);
    CHECK(layer->outputtensor(0).dimvalue(1) == 3);

    // Read back: the same description on a custom_layer op, its output typed as declared.
    const backend::ReadModel read = backend::readModel(options.outputPath);
    const mil::Operation* op = onlyCustomOp(*read.program);
    const mil::CustomLayer& c = *op->customLayer();
    CHECK(c.className == "HardShrink");
    CHECK(c.description == "x where |x| > lambda, else 0");
    CHECK(std::get<double>(c.parameters.at("lambda")) == 0.5);
    CHECK(std::get<std::string>(c.parameters.at("mode")) == "symmetric");
    CHECK(std::get<int32_t>(c.parameters.at("version")) == 2);
    CHECK(std::get<int64_t>(c.parameters.at("elements")) == int64_t{1} << 40);
    CHECK(std::get<bool>(c.parameters.at("inplace")) == false);
    REQUIRE(c.weights.size() == 1);
    CHECK(c.weights[0]->toDoubles() == std::vector<double>{0.25, -1.5, 3.0});
    CHECK(op->output()->type().str() == "fp32[2,3]");
    CHECK(op->inputList("inputs")->size() == 1);

    // fp16 weight storage applies to the custom layer's weights too.
    options.outputPath = dir / "half.mlmodel";
    options.precision = Precision::Float16;
    convertModel(options, customRegistry());
    const spec::Model halfSpec = readSpec(options.outputPath);
    const spec::NeuralNetworkLayer* half = customLayerOf(halfSpec);
    REQUIRE(half);
    CHECK(half->custom().weights(0).floatvalue_size() == 0);
    CHECK(half->custom().weights(0).float16value().size() == 6);
    const backend::ReadModel halfRead = backend::readModel(options.outputPath);
    CHECK(onlyCustomOp(*halfRead.program)->customLayer()->weights[0]->toDoubles() ==
          std::vector<double>{0.25, -1.5, 3.0});
}

TEST_CASE(
    "inspect shows each custom layer with its class, description, typed parameters, weights, inputs and outputs") {
    CliTempDir dir("custom_inspect");
    const std::string model = saveLinearHardshrink(dir), out = dir / "out.mlmodel";
    Run c = convertWithPlugin(dir, model, out, "x:2,4");
    REQUIRE_MESSAGE(c.exitCode == 0, c.err);
    Run i = runTs2coreml(dir, "inspect " + out);
    CAPTURE(i.out);
    CHECK(i.exitCode == 0);
    CHECK(i.out.find("custom layers: 1") != std::string::npos);
    CHECK(i.out.find("': class HardShrink\n") != std::string::npos);
    CHECK(i.out.find("description: x where |x| > lambda, else 0") != std::string::npos);
    CHECK(i.out.find("parameter lambda: double 0.5\n") != std::string::npos);
    CHECK(i.out.find("parameter mode: string \"symmetric\"\n") != std::string::npos);
    CHECK(i.out.find("parameter version: int32 2\n") != std::string::npos);
    CHECK(i.out.find("parameter elements: int64 1099511627776\n") != std::string::npos);
    CHECK(i.out.find("parameter inplace: bool false\n") != std::string::npos);
    CHECK(i.out.find("weight 0: 3 values") != std::string::npos);
    CHECK(i.out.find("inputs: ") != std::string::npos);
    CHECK(i.out.find(" fp32[2,3]\n") != std::string::npos);
}

TEST_CASE("verify compares the values feeding a custom layer with LibTorch's and names the outputs it cannot compare") {
    CliTempDir dir("custom_verify");
    const std::string model = saveLinearHardshrink(dir), out = dir / "out.mlmodel";
    Run c = convertWithPlugin(dir, model, out, "x:2,4");
    REQUIRE_MESSAGE(c.exitCode == 0, c.err);

    Run v = verifyWithPlugin(dir, model, out);
    CAPTURE(v.out);
    CAPTURE(v.err);
    CHECK(v.exitCode == 0);
    CHECK(v.out.find("(class HardShrink, torch aten::hardshrink at ") != std::string::npos);
    CHECK(v.out.find("no reference kernel; compared its inputs instead\n    PASS input ") != std::string::npos);
    CHECK(v.out.find("NOT COMPARED output output_0: computed from custom layer '") != std::string::npos);
    CHECK(v.out.find("  PASS output_1 [2,3]") != std::string::npos);
    CHECK(v.out.find("PASS (1 of 2 outputs not compared") != std::string::npos);

    // Without the plugin, the torch op behind the layer cannot be found (ops.yaml's composite lowers
    // aten::hardshrink instead): a usage error.
    Run noPlugin = runTs2coreml(dir, "verify " + model + " " + out);
    CAPTURE(noPlugin.err);
    CHECK(noPlugin.exitCode == 2);
    CHECK(noPlugin.err.find("lowers to 0 custom layers, the converted model holds 1") != std::string::npos);
    CHECK(noPlugin.err.find("--plugin-path") != std::string::npos);
    // Without the shipped composites too, the op itself is named.
    Run bare = runTs2coreml(dir, "verify " + model + " " + out + " --no-default-ops");
    CHECK(bare.exitCode == 2);
    CHECK(bare.err.find("no lowering for 'aten::hardshrink'") != std::string::npos);
    CHECK(noPlugin.out.find("its torch op is unknown: its inputs are not compared") != std::string::npos);
    CHECK(noPlugin.out.find("\nINCOMPLETE (1 of 2 outputs not compared") != std::string::npos);

    // A wrong weight upstream of the custom layer is caught at the layer's input.
    spec::Model spec = readSpec(out);
    bool changed = false;
    for (auto& l : *spec.mutable_neuralnetwork()->mutable_layers())
        if (l.has_batchedmatmul()) {
            l.mutable_batchedmatmul()->mutable_weights()->set_floatvalue(0, 5.0f);
            changed = true;
        }
    REQUIRE(changed);
    const std::string wrong = dir / "wrong.mlmodel";
    {
        std::ofstream o(wrong, std::ios::binary);
        REQUIRE(spec.SerializeToOstream(&o));
    }
    Run bad = verifyWithPlugin(dir, model, wrong);
    CAPTURE(bad.out);
    CHECK(bad.exitCode == 1);
    CHECK(bad.out.find("    FAIL input ") != std::string::npos);
    CHECK(bad.err.find("FAIL: custom layer '") != std::string::npos);
}

TEST_CASE("LibTorch's values of a custom layer's inputs are those of the torch op it was lowered from") {
    CliTempDir dir("custom_torch_inputs");
    const std::string model = saveLinearHardshrink(dir);
    FrontendOptions fe;
    fe.inputs = {{"x", TensorType::of(DType::Float32, {2, 4})}};
    fe.modelPath = model;
    const at::Tensor x = at::linspace(-1, 1, 8).reshape({2, 4});
    const auto layers = verify::torchCustomLayerInputs(model, fe, customRegistry(), {x});
    REQUIRE(layers.size() == 1);
    CHECK(layers[0].className == "HardShrink");
    CHECK(layers[0].torchOp == "aten::hardshrink");
    REQUIRE(layers[0].inputs.size() == 1);
    REQUIRE(layers[0].inputs[0].has_value());
    CHECK(close(*layers[0].inputs[0], at::matmul(x, linearWeight().t())));
}

TEST_CASE("With a reference kernel for its class, execution runs through the custom layer to the outputs") {
    // Most of x * 0.5 lies within [-0.5, 0.5], where hardshrink gives 0.
    const char* source = "def forward(self, x):\n    return torch.hardshrink(x * 0.5, 0.5) + 1.0";
    NumericalOptions options;
    options.registry = &customRegistry();
    options.format = ModelFormat::NeuralNetwork;
    const runtime::CustomLayerKernels kernels = {{"HardShrink", hardShrinkKernel}};
    options.customKernels = &kernels;
    const NumericalResult ok = convertAndCompare("custom_kernel", source, {{2, 5}}, options);
    CHECK_MESSAGE(ok.pass, ok.report);

    // The comparison really goes through the kernel: a wrong one fails.
    const runtime::CustomLayerKernels identity = {
        {"HardShrink", [](const mil::CustomLayer&, const std::vector<at::Tensor>& in) { return in; }}};
    options.customKernels = &identity;
    CHECK_FALSE(convertAndCompare("custom_kernel_wrong", source, {{2, 5}}, options).pass);

    // No kernel, and no callback: execution refuses, naming the class.
    options.customKernels = nullptr;
    CHECK_THROWS_WITH_AS(convertAndCompare("custom_no_kernel", source, {{2, 5}}, options),
                         doctest::Contains("(class HardShrink) has no reference kernel"), runtime::ExecutionError);
}

TEST_CASE("An .mlpackage of a model with a custom layer is refused with the reason") {
    CliTempDir dir("custom_mlpackage");
    const std::string model = saveLinearHardshrink(dir), out = dir / "out.mlpackage";
    Run c = convertWithPlugin(dir, model, out, "x:2,4");
    CAPTURE(c.err);
    CHECK(c.exitCode == 1);
    CHECK(c.err.find("is a custom layer (class 'HardShrink')") != std::string::npos);
    CHECK(c.err.find("custom layers exist only in NeuralNetwork models: write a .mlmodel") != std::string::npos);
    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("stubs writes one Swift MLCustomLayer per class, reading each parameter, and a README") {
    CliTempDir dir("custom_stubs");
    // Two layers of one class: one file. The second layer is fed by the first.
    torch::jit::Module m =
        scriptModule("def forward(self, x):\n    return torch.hardshrink(torch.hardshrink(x, 0.5) * 2.0, 0.25)");
    const std::string model = dir / "twice.pt", out = dir / "twice.mlmodel";
    m.save(model);
    Run c = convertWithPlugin(dir, model, out, "x:3");
    REQUIRE_MESSAGE(c.exitCode == 0, c.err);

    Run s = runTs2coreml(dir, "stubs " + out + " -o " + (dir / "stubs"));
    CAPTURE(s.err);
    REQUIRE(s.exitCode == 0);
    CHECK(s.out.find("HardShrink.swift (class HardShrink: 2 layers, 5 parameters, 1 weight)") != std::string::npos);
    const std::string swift = slurp(dir.path() / "stubs" / "HardShrink.swift");
    CAPTURE(swift);
    for (const char* expected :
         {"import CoreML\n", "@objc(HardShrink)\nclass HardShrink: NSObject, MLCustomLayer {", "let lambda: Double\n",
          "let mode: String\n", "let version: Int32\n", "let elements: Int64\n", "let inplace: Bool\n",
          "required init(parameters: [String : Any]) throws {",
          "guard let lambda = (parameters[\"lambda\"] as? NSNumber)?.doubleValue else {",
          "guard let mode = parameters[\"mode\"] as? String else {", "func setWeightData(_ weights: [Data]) throws {",
          "guard weights.count == 1 else {",
          "func outputShapes(forInputShapes inputShapes: [[NSNumber]]) throws -> [[NSNumber]] {",
          "shapes.append(inputShapes[0])", "func evaluate(inputs: [MLMultiArray], outputs: [MLMultiArray]) throws {",
          "throw HardShrinkError.notImplemented"})
        CHECK_MESSAGE(swift.find(expected) != std::string::npos, expected);
    const std::string readme = slurp(dir.path() / "stubs" / "README.md");
    CHECK(readme.find("Xcode") != std::string::npos);
    CHECK(readme.find("`HardShrink` | 2 |") != std::string::npos);
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path() / "stubs")) ++files;
    CHECK(files == 2);

    // verify: the second layer's inputs come from the first, which has no kernel.
    Run v = verifyWithPlugin(dir, model, out);
    CAPTURE(v.out);
    CHECK(v.exitCode == 0);
    CHECK(v.out.find("its inputs are computed from another custom layer: not compared") != std::string::npos);
    CHECK(v.out.find("compared its inputs instead") != std::string::npos);
}

TEST_CASE("stubs refuses what it cannot read with exit 2, naming the file") {
    CliTempDir dir("custom_stubs_errors");
    const std::string stubs = " -o " + (dir / "stubs");

    Run missing = runTs2coreml(dir, "stubs " + (dir / "missing.mlmodel") + stubs);
    CHECK(missing.exitCode == 2);
    CHECK(missing.err.find(dir / "missing.mlmodel") != std::string::npos);

    std::ofstream(dir / "text.mlmodel") << "not a model\n";
    Run text = runTs2coreml(dir, "stubs " + (dir / "text.mlmodel") + stubs);
    CHECK(text.exitCode == 2);
    CHECK(text.err.find(dir / "text.mlmodel") != std::string::npos);

    Run package = runTs2coreml(dir, "stubs " + (dir / "model.mlpackage") + stubs);
    CHECK(package.exitCode == 2);
    CHECK(package.err.find("model.mlpackage: error: an ML Program (.mlpackage) cannot hold custom layers") !=
          std::string::npos);

    scriptModule("def forward(self, x):\n    return torch.relu(x)").save(dir / "relu.pt");
    Run c = runTs2coreml(dir, "convert " + (dir / "relu.pt") + " -o " + (dir / "relu.mlmodel") + " --input x:3");
    REQUIRE(c.exitCode == 0);
    Run none = runTs2coreml(dir, "stubs " + (dir / "relu.mlmodel") + stubs);
    CHECK(none.exitCode == 2);
    CHECK(none.err.find("relu.mlmodel: error: the model has no custom layers") != std::string::npos);

    Run noDir = runTs2coreml(dir, "stubs " + (dir / "relu.mlmodel"));
    CHECK(noDir.exitCode == 2);
    CHECK(noDir.err.find("missing -o DIR") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "stubs"));

    Run help = runTs2coreml(dir, "--help");
    CHECK(help.out.find("stubs OUT.mlmodel -o DIR") != std::string::npos);
}
