// The conversion pipeline: load, lower, optimize, write.
#pragma once

#include "backend/ModelOptions.h"
#include "frontend/Frontend.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml {

enum class Precision { Float16, Float32 };

/// What a conversion writes: an ML Program (`.mlpackage`) or NeuralNetwork layers (`.mlmodel`).
enum class ModelFormat { MLProgram, NeuralNetwork };

struct ConvertOptions {
    std::string modelPath;
    std::string outputPath;  ///< .mlpackage (ML Program) or .mlmodel (NeuralNetwork)
    /// The format; unset: chosen by the output's extension.
    std::optional<ModelFormat> format;
    std::vector<ModelInput> inputs;
    std::vector<std::string> outputNames;
    /// ML Program: compute precision (default fp16). NeuralNetwork: fp16 stores the weights as fp16
    /// (computation stays fp32; default fp32).
    std::optional<Precision> precision;
    /// Unset: iOS15 for an ML Program; for NeuralNetwork layers the lowest target (iOS13) raised
    /// to what the layers need. Set: the target, which a layer may not exceed.
    std::optional<Target> target;
    ModelOptions model;  ///< metadata, image inputs, class labels (its target is ignored)
    /// Told what the conversion does next ("loading MODEL", "writing OUT") and which lowering runs
    /// (FrontendOptions::onLowering), so that a crash can be reported with its place; unset: not told.
    std::function<void(const std::string& phase)> onPhase = {};
    std::function<void(const LoweringStep&)> onLowering = {};
};

struct ConversionSummary {
    double loadSeconds = 0, lowerSeconds = 0, writeSeconds = 0;
    ModelFormat format = ModelFormat::MLProgram;
    Target target = Target::iOS15;
    size_t operations = 0;  ///< ML Program operations, or NeuralNetwork layers
    uint32_t blobs = 0;
    uint64_t weightBytes = 0;
    std::vector<Diagnostic> warnings = {};  ///< the lowering's warnings (int64 narrowing, ...)
};

/// The format `options` asks for: --format, else the output's extension. Throws ConversionError
/// (exit 2) for an unknown extension or a format the extension contradicts.
ModelFormat outputFormat(const ConvertOptions& options);

/// Every problem with where `options` writes, found before anything is loaded: an unknown or
/// contradicted extension, a missing parent folder, an existing entry ts2coreml may not replace
/// (see replaceProblem), the input model itself. Each is "OUT: what is wrong" (a usage error: exit 2).
std::vector<std::string> outputPathProblems(const ConvertOptions& options);

/// Inserts, after each image input, the ops applying its preprocessing: x * scale + bias[c]. The
/// ML Program declares the input as an image and carries the preprocessing as these ops.
void applyImagePreprocessing(mil::Program& program, const std::vector<ImageInput>& images);

/// Applies the MIL passes: dead-code elimination, fp16 precision when asked, unique names.
void optimize(mil::Program& program, Precision precision);

/// Converts one model. Throws ConversionError (with its exit code) for anything the user can fix.
ConversionSummary convertModel(const ConvertOptions& options, const LoweringRegistry& registry);

}  // namespace ts2coreml
