// What a written model carries besides its program: target and metadata.
#pragma once

#include <ts2coreml/Types.h>

#include <map>
#include <string>

namespace ts2coreml {

struct ModelMetadata {
    std::string author;
    std::string license;
    std::string shortDescription;
    std::string version;
    std::map<std::string, std::string> userDefined;
};

struct ModelOptions {
    Target target = Target::iOS15;
    ModelMetadata metadata;
};

}  // namespace ts2coreml
