// libFuzzer target: see fuzzYaml in Targets.h.
#include "fuzz/Targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return ts2coreml::fuzz::fuzzYaml(data, size);
}
