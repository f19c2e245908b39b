// torch-quantized models as torch 1.13's eager-mode quantization makes them (tests/e2e/
// make_quantized_models.py, run by the make_quantized_test_models ctest fixture into
// models/quantized): a post-training static quantized CNN, a quantized embedding, a scripted model
// prepacking its linear weight in forward. Each is converted to an fp32 .mlpackage and to an .mlmodel
// and checked with `ts2coreml verify` within one quantum of its finest output scale (--atol that
// scale, --rtol 0): torch computes quantized ops with integers and ts2coreml with floats, and a value
// within float rounding of a half quantum may round the other way. A wrong rounding, zero point or
// requantization compounds over the CNN's nine quantizations into several quanta.
#include "TestSupport.h"
#include "e2e/CliTestSupport.h"
#include "frontend/Frontend.h"
#include "lowerings/LoweringTestSupport.h"
#include "registry/LoweringRegistry.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

using namespace ts2coreml::test;

namespace {

const std::filesystem::path kModels = std::filesystem::path(TS2COREML_TEST_MODELS) / "quantized";

struct QuantizedModel {
    std::string name;
    std::string inputs;                ///< the --input flags
    std::vector<std::string> outputs;  ///< "output_0 [2,5]", as verify prints each passing output
};

/// One quantum of the model's finest quantized output (the generator records each output's scale;
/// 0 for a float output), or 0 when no output is quantized.
double finestQuantum(const std::string& model) {
    const auto scales = nlohmann::json::parse(slurp(kModels / "quantized_models.json")).at(model);
    double finest = 0;
    for (double s : scales)
        if (s > 0 && (finest == 0 || s < finest)) finest = s;
    return finest;
}

void convertAndVerify(const CliTempDir& dir, const QuantizedModel& m, const std::string& out) {
    const std::string model = (kModels / (m.name + ".pt")).string();
    CAPTURE(model);
    CAPTURE(out);
    REQUIRE_MESSAGE(std::filesystem::exists(model), "run the make_quantized_test_models ctest fixture first");
    const bool package = out.find(".mlpackage") != std::string::npos;
    const Run c = runTs2coreml(
        dir, "convert " + model + " -o " + (dir / out) + " " + m.inputs + (package ? " --precision fp32" : ""));
    REQUIRE_MESSAGE(c.exitCode == 0, c.err);
    const double quantum = finestQuantum(m.name);
    const std::string tolerance = quantum > 0 ? " --atol " + std::to_string(quantum) + " --rtol 0" : "";
    for (const char* seed : {"0", "1", "2"}) {
        const Run v = runTs2coreml(dir, "verify " + model + " " + (dir / out) + tolerance + " --seed " + seed);
        CAPTURE(seed);
        CAPTURE(v.out);
        CAPTURE(v.err);
        CHECK(v.exitCode == 0);
        for (const std::string& o : m.outputs) CHECK(v.out.find("PASS " + o) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("torch-quantized models convert and verify within one quantum in both formats") {
    const std::vector<QuantizedModel> models = {
        {"quantized_cnn", "--input x:2,3,8,8", {"output_0 [2,5]", "output_1 [2,5,5]"}},
        {"quantized_embedding", "--input indices:3,4:int32", {"output_0 [3,4,6]"}},
        {"quantized_prepack", "--input x:4,6 --input w:3,6", {"output_0 [4,3]", "output_1 [4,6]", "output_2 [4,6]"}},
    };
    CliTempDir dir("quantized_models");
    for (const auto& m : models) {
        convertAndVerify(dir, m, m.name + ".mlpackage");
        convertAndVerify(dir, m, m.name + ".mlmodel");
    }
}

TEST_CASE("a quantized CNN's ops all reach the lowerings") {
    // The ops the generator's CNN is made of, in the graph ts2coreml lowers (after torch's freezing
    // and canonicalization): were any folded away or renamed, the check above would test less than
    // it claims.
    const std::string model = (kModels / "quantized_cnn.pt").string();
    REQUIRE_MESSAGE(std::filesystem::exists(model), "run the make_quantized_test_models ctest fixture first");
    ts2coreml::FrontendOptions options;
    options.inputs = modelInputs({{2, 3, 8, 8}});
    options.modelPath = model;
    const ts2coreml::LoweredModel lowered =
        ts2coreml::lowerModule(ts2coreml::loadModule(model), options, ts2coreml::LoweringRegistry::withBuiltins());
    std::set<std::string> kinds;
    for (const torch::jit::Node* n : lowered.graph->nodes()) kinds.insert(n->kind().toQualString());
    for (const char* op : {"aten::quantize_per_tensor", "quantized::conv2d_relu", "quantized::conv2d", "quantized::add",
                           "quantized::add_relu", "quantized::mul", "quantized::linear_relu", "quantized::linear",
                           "quantized::matmul", "aten::dequantize"})
        CHECK_MESSAGE(kinds.count(op), op);
}
