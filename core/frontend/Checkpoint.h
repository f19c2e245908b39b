// Integrity of a TorchScript archive, checked before LibTorch loads it. LibTorch's zip reader
// (miniz, built without its CRC-32 check) returns whatever bytes a record holds, and its unpickler
// sizes each storage by the element count the pickle declares, not by the record: a damaged
// record loads silently as wrong (or out-of-bounds) weights, and verify cannot notice, since both
// of its sides read the same bytes.
#pragma once

#include <string>
#include <vector>

namespace ts2coreml {

/// Every problem of the records of the archive at `path`, one line each naming the record: bytes
/// that do not match the CRC-32 the zip's central directory holds for them, a record that cannot be
/// read, and a tensor record shorter than its storage (the element count the model's data.pkl or
/// constants.pkl declares times the element size). Empty for a sound archive, and for a file that
/// is not a zip at all (LibTorch's own load then says why it cannot read it).
std::vector<std::string> checkpointProblems(const std::string& path);

}  // namespace ts2coreml
