// The conversion pipeline: load, lower, optimize, write.
#pragma once

#include "backend/ModelOptions.h"
#include "frontend/Frontend.h"

#include <string>
#include <vector>

namespace ts2coreml {

enum class Precision { Float16, Float32 };

struct ConvertOptions {
    std::string modelPath;
    std::string outputPath;                 ///< .mlpackage (ML Program)
    std::vector<ModelInput> inputs;
    std::vector<std::string> outputNames;
    Precision precision = Precision::Float16;
    ModelOptions model;                      ///< target and metadata
};

struct ConversionSummary {
    double loadSeconds = 0, lowerSeconds = 0, writeSeconds = 0;
    size_t operations = 0;
    uint32_t blobs = 0;
    uint64_t weightBytes = 0;
};

/// Applies the MIL passes: dead-code elimination, fp16 precision when asked, unique names.
void optimize(mil::Program& program, Precision precision);

/// Converts one model. Throws ConversionError (with its exit code) for anything the user can fix.
ConversionSummary convertModel(const ConvertOptions& options, const LoweringRegistry& registry);

}  // namespace ts2coreml
