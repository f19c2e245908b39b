// ML Program backend: writes a MIL program as an `.mlpackage`.
#pragma once

#include "backend/ModelOptions.h"

#include <ts2coreml/Mil.h>

#include <string>

namespace ts2coreml {

struct PackageStats {
    uint32_t blobCount = 0;
    uint64_t weightBytes = 0;
    size_t operationCount = 0;
};

/// Constants with at least this many elements (and a blob-storable dtype) go to weight.bin;
/// smaller ones are written inline in the program.
constexpr int64_t kMinBlobElements = 10;

/// Writes `program` to `path` (an `.mlpackage` directory) atomically: the package appears whole
/// or not at all, and an existing package at `path` is replaced only on success.
PackageStats writeMLPackage(const mil::Program& program, const ModelOptions& options, const std::string& path);

}  // namespace ts2coreml
