// The built-in op families: each core/lowerings/<Family>.cpp ends with its populate function and
// registers it with TS2COREML_FAMILY(Registry, ...). Adding an op touches only its family's file;
// adding a family is adding its file.
#pragma once

#include <ts2coreml/Lowering.h>

#include "mil/Families.h"

namespace ts2coreml {

/// Registers every built-in lowering family through the same Registry calls plugins use.
void registerBuiltinLowerings(Registry& registry);

}  // namespace ts2coreml
