// Helpers shared by the reducing lowerings (Reduction.cpp, Statistics.cpp, Norm.cpp, Loss.cpp):
// torch's `dim` / `dtype` arguments and element counts.
#pragma once

#include <ts2coreml/LoweringSupport.h>

#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::lowering {

/// `self`, cast to the `dtype` argument when one is given (torch's sum(x, dtype=...)).
mil::Value* reductionInput(LoweringContext& ctx);

/// The `argName` argument (an int or an int list) as normalized axes of `x`; every axis when it is
/// absent, None or empty.
std::vector<int64_t> reductionAxes(LoweringContext& ctx, mil::Value* x, const std::string& argName = "dim");

/// The number of elements `x` has over `axes` when those sizes are static.
std::optional<int64_t> staticCount(const mil::Value* x, const std::vector<int64_t>& axes);

/// The number of elements `x` has over `axes`, as a rank-0 value of `dtype`: a constant when those
/// sizes are static, else computed from the shape at run time.
mil::Value* elementCount(mil::Builder& b, mil::Value* x, const std::vector<int64_t>& axes, DType dtype);

/// `x` (any dtype) as int32 0/1: 1 where it is non-zero (true), as torch counts and tests elements.
mil::Value* nonZeroAsInt(mil::Builder& b, mil::Value* x);

}  // namespace ts2coreml::lowering
