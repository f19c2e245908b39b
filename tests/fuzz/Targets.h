// Entry points of the fuzz targets (tests/fuzz/Fuzz*.cpp, libFuzzer) and of the corpus replay in the
// regular test suite (tests/fuzz_replay). Each feeds one input to the same functions the command
// line calls and checks that a bad input ends as the command line expects: a diagnostic or an
// exception of the kind it catches, naming the input. A broken expectation throws
// FuzzContractViolation, which a fuzzer reports as a crash (an uncaught exception) and a test as a
// failure; a crash or sanitizer report is a bug of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace ts2coreml::fuzz {

class FuzzContractViolation : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// The bytes are a composite-op file (--ops FILE.yaml), registered over the built-in lowerings and
/// the shipped ops.yaml: every problem must be a "FILE:LINE:COL: error: ..." line naming the file.
int fuzzYaml(const uint8_t* data, size_t size);

/// The bytes are a model read back as `inspect` and `verify` read it. The first byte chooses the
/// layout (see Targets.cpp): an .mlmodel file, an .mlpackage whose model spec and weight file come
/// from the bytes, or an .mlpackage whose Manifest.json does. `inspect` must exit 0 or 2.
int fuzzModel(const uint8_t* data, size_t size);

/// The bytes are the value of --input and of --image: each parser returns a well-formed input or
/// throws std::invalid_argument naming its flag.
int fuzzInputSpec(const uint8_t* data, size_t size);

/// The bytes list entries (files, folders, links, FIFOs) made in an empty folder that is then a
/// --plugin-path: discovery and loading must reject each with a reason, never throw or hang.
int fuzzPluginDirectory(const uint8_t* data, size_t size);

}  // namespace ts2coreml::fuzz
