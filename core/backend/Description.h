// The model description both backends write: inputs, outputs, metadata.
#pragma once

#include "backend/ModelOptions.h"

#include <ts2coreml/Mil.h>

#include "Model.pb.h"

namespace ts2coreml {

/// Core ML's multi-array element type code for a dtype.
spec::ArrayFeatureType::ArrayDataType arrayDataType(DType dtype);

/// Fills a feature type from a tensor type (bounded dims become a shape range).
void fillFeatureType(const TensorType& type, spec::FeatureType& out);

/// Fills a feature type that accepts only the `enumerated` shapes (the first is the default);
/// with none, the same as the overload above.
void fillFeatureType(const TensorType& type, const std::vector<std::vector<int64_t>>& enumerated,
                     spec::FeatureType& out);

/// Inputs and outputs of `main`, and the metadata. An input named by `options.images` is declared
/// as an image (fp32 [1, C, H, W] in the program, C = 3 for RGB/BGR and 1 for grayscale).
void fillDescription(const mil::Program& program, const ModelOptions& options, spec::ModelDescription& out);

/// Replaces the outputs with a classifier's: `classLabel` (string) and `probabilities` (a
/// dictionary from label to probability), and names them as the predicted feature and probabilities.
void fillClassifierOutputs(const std::string& probabilities, spec::ModelDescription& out);

/// Checks the image inputs and class labels against the program: every image names an fp32
/// [1, C, H, W] input whose C matches its color layout and bias count; a classifier has a single
/// output whose last dimension has one entry per label. Returns the problems found.
std::vector<std::string> checkModelOptions(const mil::Program& program, const ModelOptions& options);

}  // namespace ts2coreml
