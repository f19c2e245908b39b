#include "Converter.h"

#include "backend/Description.h"
#include "backend/StagedOutput.h"
#include "backend/mlprogram/MLPackageWriter.h"
#include "backend/neuralnetwork/NeuralNetworkWriter.h"
#include "frontend/TorchGraph.h"
#include "mil/ErrorReason.h"
#include "mil/IRAccess.h"
#include "passes/Passes.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>

namespace ts2coreml {

namespace {
double secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::vector<Diagnostic> diagnosticsOf(const NeuralNetworkError& e) {
    std::vector<Diagnostic> diags;
    for (const auto& p : e.problems()) diags.push_back({p.location, p.message});
    return diags;
}
}  // namespace

void optimize(mil::Program& program, Precision precision) {
    passes::eliminateDeadCode(program);
    if (precision == Precision::Float16) passes::castToFp16(program);
    passes::uniquifyNames(program);
}

ModelFormat outputFormat(const ConvertOptions& options) {
    const std::string ext = std::filesystem::path(options.outputPath).extension().string();
    const bool package = ext == ".mlpackage", mlmodel = ext == ".mlmodel";
    if (!package && !mlmodel)
        throw ConversionError({{options.outputPath, "unknown output format '" + ext +
                                                        "': use .mlpackage (ML Program) or .mlmodel (NeuralNetwork)"}},
                              2);
    const ModelFormat byExtension = package ? ModelFormat::MLProgram : ModelFormat::NeuralNetwork;
    if (options.format && *options.format != byExtension)
        throw ConversionError(
            {{options.outputPath, std::string("--format ") +
                                      (*options.format == ModelFormat::MLProgram ? "mlprogram" : "neuralnetwork") +
                                      " writes " + (package ? ".mlmodel" : ".mlpackage") + ", not " + ext}},
            2);
    return byExtension;
}

std::vector<std::string> outputPathProblems(const ConvertOptions& options) {
    namespace fs = std::filesystem;
    std::vector<std::string> problems;
    const fs::path out = options.outputPath;
    std::optional<ModelFormat> format;
    try {
        format = outputFormat(options);
    } catch (const ConversionError& e) {
        for (const auto& d : e.diagnostics()) problems.push_back(d.location + ": " + d.message);
    }
    std::error_code ec;
    const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    if (!fs::exists(parent, ec))
        problems.push_back(out.string() + ": the folder '" + parent.string() + "' does not exist");
    else if (!fs::is_directory(parent, ec))
        problems.push_back(out.string() + ": '" + parent.string() + "' is not a folder");
    struct stat input {
    }, output{};
    if (::stat(out.c_str(), &output) == 0 && ::stat(options.modelPath.c_str(), &input) == 0 &&
        input.st_dev == output.st_dev && input.st_ino == output.st_ino) {
        problems.push_back(out.string() + ": is the input model itself, which ts2coreml never overwrites");
    } else if (format) {
        const OutputKind kind = *format == ModelFormat::MLProgram ? OutputKind::Package : OutputKind::File;
        if (std::string problem = replaceProblem(out, kind); !problem.empty())
            problems.push_back(out.string() + ": " + problem);
    }
    return problems;
}

void applyImagePreprocessing(mil::Program& program, const std::vector<ImageInput>& images) {
    mil::Block& body = program.main().body;
    std::vector<std::unique_ptr<mil::Operation>> prologue;
    for (const ImageInput& img : images) {
        mil::Value* input = nullptr;
        for (const auto& in : body.inputs())
            if (in->name() == img.name) input = in.get();
        if (!input) continue;
        const TensorType type = input->type();
        auto constant = [&](const std::string& name, std::shared_ptr<mil::ConstData> data) {
            auto op = std::make_unique<mil::Operation>("const", &body);
            const TensorType t = TensorType::of(data->dtype, data->sizes);
            op->setConstData(std::move(data));
            mil::Value* v = op->addOutput(name, t);
            prologue.push_back(std::move(op));
            return v;
        };
        auto binary = [&](const std::string& type_, mil::Value* x, mil::Value* y, const std::string& name) {
            auto op = std::make_unique<mil::Operation>(type_, &body);
            mil::IRAccess::inputs(*op) = {{"x", {x}}, {"y", {y}}};
            op->setLocation("--image " + img.name);
            mil::Value* v = op->addOutput(name, type);
            prologue.push_back(std::move(op));
            return v;
        };
        std::vector<float> bias(img.bias.begin(), img.bias.end());
        mil::Value* scale =
            constant(img.name + "_image_scale", mil::ConstData::fromFloats({static_cast<float>(img.scale)}, {}));
        mil::Value* biasValue = constant(
            img.name + "_image_bias", mil::ConstData::fromFloats(bias, {1, static_cast<int64_t>(bias.size()), 1, 1}));
        // Every use of the input now reads the preprocessed value.
        mil::Value* scaled = binary("mul", input, scale, img.name + "_scaled");
        mil::Value* shifted = binary("add", scaled, biasValue, img.name + "_preprocessed");
        mil::walk(body, [&](const mil::Operation& op) {
            for (auto& [name, values] : mil::IRAccess::inputs(const_cast<mil::Operation&>(op)))
                for (auto*& v : values)
                    if (v == input) v = shifted;
        });
        for (auto*& v : body.outputs())
            if (v == input) v = shifted;
    }
    auto& ops = mil::IRAccess::operations(body);
    ops.insert(ops.begin(), std::make_move_iterator(prologue.begin()), std::make_move_iterator(prologue.end()));
}

ConversionSummary convertModel(const ConvertOptions& options, const LoweringRegistry& registry) {
    if (auto problems = outputPathProblems(options); !problems.empty()) {
        std::vector<Diagnostic> diags;
        for (auto& p : problems) diags.push_back({"", std::move(p)});
        throw ConversionError(std::move(diags), 2);
    }
    ConversionSummary summary;
    summary.format = outputFormat(options);
    const bool neuralNetwork = summary.format == ModelFormat::NeuralNetwork;
    const Target target = options.target.value_or(neuralNetwork ? Target::iOS13 : Target::iOS15);
    if (!neuralNetwork && target < Target::iOS15)
        throw ConversionError(
            {{options.outputPath, std::string("an ML Program needs --target iOS15 or later (got ") +
                                      targetName(target) + "); write a .mlmodel (NeuralNetwork) for iOS13 and iOS14"}},
            2);
    const Precision precision = options.precision.value_or(neuralNetwork ? Precision::Float32 : Precision::Float16);
    auto phase = [&](const std::string& what) {
        if (options.onPhase) options.onPhase(what);
    };
    phase("loading " + options.modelPath);
    auto t0 = std::chrono::steady_clock::now();
    torch::jit::Module module = loadModule(options.modelPath);
    summary.loadSeconds = secondsSince(t0);

    t0 = std::chrono::steady_clock::now();
    FrontendOptions fe;
    fe.inputs = options.inputs;
    fe.outputNames = options.outputNames;
    // The NeuralNetwork backend writes the MIL base op set, which lowers at any target.
    fe.target = neuralNetwork ? std::max(target, Target::iOS15) : target;
    fe.modelPath = options.modelPath;
    fe.onLowering = options.onLowering;
    phase("canonicalizing " + options.modelPath);
    LoweredModel lowered = lowerModule(std::move(module), fe, registry);
    summary.warnings = lowered.warnings;
    ModelOptions model = options.model;
    model.target = target;
    for (const ModelInput& in : options.inputs)
        if (!in.enumeratedShapes.empty()) model.enumeratedShapes[sanitizeName(in.name)] = in.enumeratedShapes;
    if (auto problems = checkModelOptions(*lowered.program, model); !problems.empty()) {
        std::vector<Diagnostic> diags;
        for (auto& p : problems) diags.push_back({options.modelPath, std::move(p)});
        throw ConversionError(std::move(diags), 2);
    }
    phase("optimizing the program");
    if (!neuralNetwork) applyImagePreprocessing(*lowered.program, model.images);
    // NeuralNetwork layers compute in fp32 whatever the weights' storage.
    optimize(*lowered.program, neuralNetwork ? Precision::Float32 : precision);
    summary.lowerSeconds = secondsSince(t0);

    // Core ML has custom layers only in NeuralNetwork models: an ML Program refuses every one,
    // with its place.
    std::vector<Diagnostic> custom;
    mil::walk(lowered.program->main().body, [&](const mil::Operation& op) {
        if (neuralNetwork || op.type() != mil::kCustomLayerOp) return;
        const std::string cls = op.customLayer() ? op.customLayer()->className : "?";
        custom.push_back({op.location().empty() ? options.modelPath : op.location(),
                          "op '" + (op.outputs().empty() ? cls : op.output()->name()) + "' is a custom layer (class '" +
                              cls + "'); custom layers exist only in NeuralNetwork models: write a .mlmodel, not " +
                              options.outputPath});
    });
    if (!custom.empty()) throw ConversionError(std::move(custom), 1);

    phase("writing " + options.outputPath);
    t0 = std::chrono::steady_clock::now();
    try {
        if (neuralNetwork) {
            NeuralNetworkOptions nn;
            nn.targetIsExplicit = options.target.has_value();
            nn.fp16Weights = precision == Precision::Float16;
            NeuralNetworkStats stats = writeNeuralNetwork(*lowered.program, model, options.outputPath, nn);
            summary.operations = stats.layerCount;
            summary.weightBytes = stats.weightBytes;
            summary.target = stats.target;
        } else {
            PackageStats stats = writeMLPackage(*lowered.program, model, options.outputPath);
            summary.operations = stats.operationCount;
            summary.blobs = stats.blobCount;
            summary.weightBytes = stats.weightBytes;
            summary.target = target;
        }
    } catch (const NeuralNetworkError& e) {
        throw ConversionError(diagnosticsOf(e), 2);
    } catch (const ConversionError&) {
        throw;
    } catch (const std::exception& e) {
        throw ConversionError({{options.outputPath, "cannot write the model: " + errorReason(e)}}, 1);
    }
    summary.writeSeconds = secondsSince(t0);
    return summary;
}

}  // namespace ts2coreml
