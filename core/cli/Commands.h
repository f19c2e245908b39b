// Subcommands of the ts2coreml command line. Each returns the process exit code:
// 0 success, 1 conversion or verification failure, 2 bad usage or bad input.
#pragma once

#include <string>
#include <vector>

namespace ts2coreml::cli {

int convertCommand(const std::vector<std::string>& args);
int verifyCommand(const std::vector<std::string>& args);
int inspectCommand(const std::vector<std::string>& args);
int opsCommand(const std::vector<std::string>& args);

}  // namespace ts2coreml::cli
