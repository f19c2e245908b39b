// Reads a written Core ML model back from its FILES into a MIL program the executor can run: an
// `.mlpackage` (Manifest.json -> root model -> ML Program, weights memory-mapped from the blob
// storage) or an `.mlmodel`. The program is rebuilt from what was serialized — never from the
// converter's in-memory IR — so running it proves the serialization as well as the lowering.
#pragma once

#include "backend/ReadError.h"

#include <ts2coreml/Mil.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::backend {

/// An image input's preprocessing: the model sees pixel * scale + bias[channel].
struct ImagePreprocessing {
    double scale = 1.0;
    std::vector<double> bias;  ///< per channel, in the model's channel order
};

/// One input or output of the model, as its ModelDescription declares it.
struct FeatureInfo {
    std::string name;
    std::string shortDescription;
    /// dtype and shape. A flexible dimension (a shape range, or sizes that differ between
    /// enumerated shapes) is symbolic with the range's bounds (upper -1 when unbounded).
    TensorType type;
    /// The feature's default shape, when it declares one.
    std::vector<int64_t> defaultShape;
    /// The accepted shapes, when the feature enumerates them.
    std::vector<std::vector<int64_t>> enumeratedShapes;
    /// An image input: type is fp32 [1, C, H, W], C = 1 (GRAYSCALE) or 3 (RGB, BGR).
    bool isImage = false;
    std::string colorSpace;  ///< "RGB", "BGR", "GRAYSCALE" for images
    /// An image input's preprocessing (NeuralNetwork: the preprocessing message; ML Program: the
    /// mul / add ops applied to the input).
    std::optional<ImagePreprocessing> preprocessing;
    /// A classifier's outputs: the predicted label (a string) and the label -> probability
    /// dictionary; neither is a tensor of the program.
    bool isClassLabel = false;
    bool isProbabilities = false;
};

/// The model's metadata, as written.
struct ReadMetadata {
    std::string author, license, shortDescription, version;
    std::map<std::string, std::string> userDefined;
};

/// What kind of model the file held.
enum class ModelKind { MLProgram, NeuralNetwork };

struct ReadModel {
    ModelKind kind = ModelKind::MLProgram;
    std::unique_ptr<mil::Program> program;
    std::vector<FeatureInfo> inputs, outputs;
    int specificationVersion = 0;
    size_t blobCount = 0;  ///< constants read from weight files
    ReadMetadata metadata;
    /// A classifier's labels (its program's output holds one probability per label).
    std::vector<std::string> classLabels;
    /// NeuralNetwork weights stored as fp16 (computation is fp32, on rounded weights).
    bool fp16Weights = false;
    /// Keeps the memory-mapped weight files alive while the program's constants alias them.
    std::shared_ptr<void> keepAlive;
};

/// Reads `path`: a `.mlpackage` directory, or an `.mlmodel` file. Throws ModelReadError (message
/// starting with the offending file's path) for a missing or unparsable manifest or model, a
/// value name no operation defines, an unsupported type, or a weight blob that fails its checks
/// (header version, sentinel, dtype, bounds, size).
ReadModel readModel(const std::string& path);

}  // namespace ts2coreml::backend
