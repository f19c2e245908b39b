// Custom-layer stubs (mil::CustomLayer, Builder::customLayer): a lowering can emit one, the IR
// carries everything a NeuralNetwork backend needs for CustomLayerParams, and an ML Program refuses
// it naming the op and asking for a .mlmodel.
#include "Converter.h"
#include "backend/mlprogram/MLPackageWriter.h"
#include "plugin/PluginTestSupport.h"

#include <ts2coreml/Builder.h>

#include <doctest/doctest.h>

#include <filesystem>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

std::shared_ptr<mil::CustomLayer> hardShrinkLayer(double lambda) {
    auto layer = std::make_shared<mil::CustomLayer>();
    layer->className = "HardShrink";
    layer->description = "x if |x| > lambda else 0";
    layer->parameters["lambda"] = lambda;
    layer->parameters["mode"] = std::string("symmetric");
    layer->parameters["version"] = int32_t{2};
    layer->parameters["elements"] = int64_t{1} << 40;
    layer->parameters["inplace"] = false;
    layer->weights.push_back(mil::ConstData::fromFloats({1.f, 2.f}, {2}));
    return layer;
}

// hardshrink as a custom layer: what a plugin writes for an op Core ML cannot express.
void lowerAsCustomLayer(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    ctx.bind(0, ctx.builder().customLayer(hardShrinkLayer(ctx.getDouble("lambd")), {x}, {x->type()}).front());
}

}  // namespace

TEST_CASE("Builder customLayer emits a custom_layer op carrying the layer description") {
    mil::Program program;
    mil::Builder b(program.main().body, Target::iOS15);
    mil::Value* x = program.main().body.addInput("x", TensorType::of(DType::Float32, {1, 4}));
    auto outs = b.customLayer(hardShrinkLayer(0.5), {x},
                              {TensorType::of(DType::Float32, {1, 4}), TensorType::of(DType::Int32, {1})});
    REQUIRE(outs.size() == 2);
    const mil::Operation& op = *outs[0]->producer();
    CHECK(op.type() == mil::kCustomLayerOp);
    REQUIRE(op.customLayer());
    CHECK(op.customLayer()->className == "HardShrink");
    CHECK(std::get<double>(op.customLayer()->parameters.at("lambda")) == 0.5);
    CHECK(std::get<int64_t>(op.customLayer()->parameters.at("elements")) == int64_t{1} << 40);
    CHECK(op.inputList("inputs")->size() == 1);
    CHECK(outs[1]->type().str() == "int32[1]");

    auto bad = hardShrinkLayer(0.5);
    bad->className = "Hard Shrink";
    CHECK_THROWS_WITH_AS(b.customLayer(bad, {x}, {x->type()}),
                         "custom layer: class name 'Hard Shrink' is not an identifier", mil::SchemaError);
    CHECK_THROWS_AS(b.customLayer(hardShrinkLayer(0.5), {}, {x->type()}), mil::SchemaError);
    CHECK_THROWS_AS(b.customLayer(hardShrinkLayer(0.5), {x}, {}), mil::SchemaError);

    ScratchDir dir("custom_writer");
    try {
        writeMLPackage(program, {}, dir / "direct.mlpackage");
        FAIL("written");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("is a custom layer (class 'HardShrink')") != std::string::npos);
    }
    CHECK(!std::filesystem::exists(dir / "direct.mlpackage"));
}

TEST_CASE("An ML Program conversion refuses a custom layer, naming the op and asking for a .mlmodel") {
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    registry.add("aten::hardshrink", lowerAsCustomLayer);
    ScratchDir dir("custom_layer");
    const ConvertOptions options = hardshrinkConversion(dir);
    try {
        convertModel(options, registry);
        FAIL("converted");
    } catch (const ConversionError& e) {
        CHECK(e.exitCode() == 1);
        REQUIRE(e.diagnostics().size() == 1);
        const std::string& m = e.diagnostics()[0].message;
        CHECK(m.find("is a custom layer (class 'HardShrink')") != std::string::npos);
        CHECK(m.find("write a .mlmodel") != std::string::npos);
    }
    CHECK(!std::filesystem::exists(options.outputPath));
}
