// Complex tensors in the lowerings. Core ML has no complex type: a complex tensor travels as
// Arg::complex, a real tensor whose last dim of 2 holds (real, imaginary) — torch.view_as_real's
// layout — so a complex linear map along a dim is one real matmul on the interleaved values.
#pragma once

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {

/// The real (part 0) or imaginary (part 1) values [...] of complex pairs [..., 2].
mil::Value* complexPart(mil::Builder& b, mil::Value* pairs, int64_t part);

/// Complex pairs [..., 2] of `re` and `im` (one shape).
mil::Value* complexPairs(mil::Builder& b, mil::Value* re, mil::Value* im);

/// |z| = sqrt(re^2 + im^2) of complex pairs [..., 2]: [...].
mil::Value* complexMagnitude(mil::Builder& b, mil::Value* pairs);

}  // namespace ts2coreml::lowering
