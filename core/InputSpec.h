// Parsing of --input NAME:D1,D2,...[:dtype] (dims may be ranges lo..hi; or enumerated shapes
// NAME:S1|S2|...[:dtype]).
#pragma once

#include "backend/ModelOptions.h"
#include "frontend/Frontend.h"

#include <string>
#include <utility>

namespace ts2coreml {

/// Throws std::invalid_argument with a message naming the bad part.
ModelInput parseInputSpec(const std::string& spec);

/// Parses --image NAME:D1,D2,...:scale=S:bias=B1,B2,B3[:rgb|bgr|gray]: the input (fp32 [1, C, H, W])
/// and its image declaration (scale defaults to 1, bias to zeros, layout to rgb). Throws
/// std::invalid_argument naming the bad part.
std::pair<ModelInput, ImageInput> parseImageSpec(const std::string& spec);

/// Labels from FILE (--class-labels, --labels): a JSON list of strings, or one label per line.
/// Problems go to `problems` as "FILE:LINE: ..." (all of them), or name `flag` when the file cannot
/// be opened or holds no labels.
std::vector<std::string> readLabels(const std::string& path, const std::string& flag,
                                    std::vector<std::string>& problems);

}  // namespace ts2coreml
