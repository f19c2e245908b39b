// Integrity of a TorchScript archive, checked before LibTorch loads it. LibTorch's zip reader
// (miniz, built without its CRC-32 check) returns whatever bytes a record holds, and its unpickler
// sizes each storage by the element count the pickle declares, not by the record: a damaged
// record loads silently as wrong (or out-of-bounds) weights, and verify cannot notice, since both
// of its sides read the same bytes.
#pragma once

#include <string>
#include <vector>

namespace ts2coreml {

/// The records of the archive at `path` whose bytes do not match the CRC-32 the zip's central
/// directory holds for them, or cannot be read: one pass over the file, one line each naming the
/// record. Empty for a sound archive, and for a file that is not a zip at all (LibTorch's own load
/// then says why it cannot read it).
std::vector<std::string> checkpointCrcProblems(const std::string& path);

/// The tensor records shorter than their storage (the element count the model's data.pkl or
/// constants.pkl declares times the element size), or missing: reads the central directory and the
/// pickles, no tensor data. After it finds nothing, LibTorch's load reads no record out of bounds.
std::vector<std::string> checkpointSizeProblems(const std::string& path);

}  // namespace ts2coreml
