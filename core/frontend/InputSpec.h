// Parsing of --input NAME:D1,D2,...[:dtype] (dims may be ranges lo..hi).
#pragma once

#include "frontend/Frontend.h"

#include <string>

namespace ts2coreml {

/// Throws std::invalid_argument with a message naming the bad part.
ModelInput parseInputSpec(const std::string& spec);

}  // namespace ts2coreml
