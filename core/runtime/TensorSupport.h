// Conversions between MIL's element types and constants and ATen tensors.
#pragma once

#include <ts2coreml/Mil.h>

#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::runtime {

/// The ATen scalar type holding a MIL dtype; throws for String.
at::ScalarType scalarType(DType dtype);
/// The MIL dtype of an ATen scalar type, or nullopt (complex, bfloat16, quantized, ...).
std::optional<DType> milDType(at::ScalarType type);

/// A tensor aliasing the constant's memory (no copy; the tensor keeps `c.owner` alive). Kernels
/// never write into their inputs, so the const_cast needed by from_blob is safe. Undefined for
/// string constants.
at::Tensor tensorFromConst(const mil::ConstData& c);

/// "[1,3,224,224]".
std::string sizesText(at::IntArrayRef sizes);

}  // namespace ts2coreml::runtime
