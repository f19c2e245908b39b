#include "Converter.h"

#include "backend/mlprogram/MLPackageWriter.h"
#include "passes/Passes.h"

#include <chrono>
#include <filesystem>

namespace ts2coreml {

namespace {
double secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

void optimize(mil::Program& program, Precision precision) {
    passes::eliminateDeadCode(program);
    if (precision == Precision::Float16) passes::castToFp16(program);
    passes::uniquifyNames(program);
}

ConversionSummary convertModel(const ConvertOptions& options, const LoweringRegistry& registry) {
    const std::string ext = std::filesystem::path(options.outputPath).extension().string();
    if (ext != ".mlpackage")
        throw ConversionError({{options.outputPath, "unknown output format '" + ext + "': use .mlpackage (ML Program)"}}, 2);
    if (options.model.target < Target::iOS15)
        throw ConversionError({{options.outputPath, std::string("an ML Program needs --target iOS15 or later (got ") +
                                                        targetName(options.model.target) + ")"}},
                              2);
    ConversionSummary summary;
    auto t0 = std::chrono::steady_clock::now();
    torch::jit::Module module = loadModule(options.modelPath);
    summary.loadSeconds = secondsSince(t0);

    t0 = std::chrono::steady_clock::now();
    FrontendOptions fe;
    fe.inputs = options.inputs;
    fe.outputNames = options.outputNames;
    fe.target = options.model.target;
    fe.modelPath = options.modelPath;
    LoweredModel lowered = lowerModule(std::move(module), fe, registry);
    optimize(*lowered.program, options.precision);
    summary.lowerSeconds = secondsSince(t0);

    // Core ML has custom layers only in NeuralNetwork models: refuse every one, with its place.
    std::vector<Diagnostic> custom;
    mil::walk(lowered.program->main().body, [&](const mil::Operation& op) {
        if (op.type() != mil::kCustomLayerOp) return;
        const std::string cls = op.customLayer() ? op.customLayer()->className : "?";
        custom.push_back({op.location().empty() ? options.modelPath : op.location(),
                          "op '" + (op.outputs().empty() ? cls : op.output()->name()) + "' is a custom layer (class '" +
                              cls + "'); custom layers exist only in NeuralNetwork models: write a .mlmodel, not " +
                              options.outputPath});
    });
    if (!custom.empty()) throw ConversionError(std::move(custom), 1);

    t0 = std::chrono::steady_clock::now();
    try {
        PackageStats stats = writeMLPackage(*lowered.program, options.model, options.outputPath);
        summary.operations = stats.operationCount;
        summary.blobs = stats.blobCount;
        summary.weightBytes = stats.weightBytes;
    } catch (const std::exception& e) {
        throw ConversionError({{options.outputPath, std::string("cannot write the model: ") + e.what()}}, 1);
    }
    summary.writeSeconds = secondsSince(t0);
    return summary;
}

}  // namespace ts2coreml
