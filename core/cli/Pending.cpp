// Temporary: commands whose implementation is landing.
#include "cli/Commands.h"

#include <iostream>

namespace ts2coreml::cli {
int verifyCommand(const std::vector<std::string>&) {
    std::cerr << "ts2coreml verify: not available yet\n";
    return 2;
}
int inspectCommand(const std::vector<std::string>&) {
    std::cerr << "ts2coreml inspect: not available yet\n";
    return 2;
}
}  // namespace ts2coreml::cli
