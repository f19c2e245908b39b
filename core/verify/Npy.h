// NumPy's .npy format (version 1.0): a magic string, a header dict
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces to a multiple of
// 64 bytes and ended by '\n', then the raw little-endian elements in row-major order.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace ts2coreml::verify {

/// Writes `t` (bool, int8/16/32/64, uint8, fp16/32/64) to `path`; throws std::runtime_error.
void writeNpy(const std::string& path, const at::Tensor& t);

/// Reads a C-order .npy of one of the dtypes writeNpy writes; throws std::runtime_error naming
/// the file.
at::Tensor readNpy(const std::string& path);

}  // namespace ts2coreml::verify
