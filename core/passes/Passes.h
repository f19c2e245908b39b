// Optimization and canonicalization passes over the MIL IR.
#pragma once

#include <ts2coreml/Mil.h>

namespace ts2coreml::passes {

/// Removes operations none of whose outputs is used (by an op, a nested block, or a block output).
/// Returns the number of operations removed.
size_t eliminateDeadCode(mil::Program& program);

/// ML Program fp16 compute precision, as Apple's tool does it: fp32 inputs are cast to fp16 on
/// entry, fp32 constants are declared fp16 (their data is converted when written), every op's
/// output type is inferred again, and fp16 outputs are cast back to fp32 under their own names.
/// Constants feeding an input whose schema does not accept fp16 stay fp32.
void castToFp16(mil::Program& program);

/// Gives every value a unique name, keeping the function's inputs' and outputs' names.
void uniquifyNames(mil::Program& program);

}  // namespace ts2coreml::passes
