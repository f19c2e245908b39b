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

/// Inputs and outputs of `main`, and the metadata.
void fillDescription(const mil::Program& program, const ModelOptions& options, spec::ModelDescription& out);

}  // namespace ts2coreml
