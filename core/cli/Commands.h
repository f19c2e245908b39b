// Subcommands of the ts2coreml command line. Each returns the process exit code:
// 0 success, 1 conversion or verification failure, 2 bad usage or bad input.
#pragma once

#include "registry/LoweringRegistry.h"

#include <ts2coreml/Mil.h>

#include <boost/program_options/options_description.hpp>

#include <string>
#include <vector>

namespace ts2coreml::cli {

int convertCommand(const std::vector<std::string>& args);
int verifyCommand(const std::vector<std::string>& args);
int inspectCommand(const std::vector<std::string>& args);
int opsCommand(const std::vector<std::string>& args);
int stubsCommand(const std::vector<std::string>& args);

/// A custom-layer parameter's type as the .mlmodel stores it ("double", "string", "int32",
/// "int64", "bool"), and its value as text (strings quoted).
std::string customParameterType(const mil::CustomLayer::Parameter& p);
std::string customParameterValue(const mil::CustomLayer::Parameter& p);

/// Adds --plugin-path DIR (repeatable) to a command's options.
void addPluginOptions(boost::program_options::options_description& opts, std::vector<std::string>& pluginPaths);
/// A problem for each --plugin-path that does not exist (a usage error: exit 2).
void checkPluginPaths(const std::vector<std::string>& pluginPaths, std::vector<std::string>& problems);
/// The built-in lowerings, then the plugins of $TS2COREML_PLUGIN_PATH and of `pluginPaths`. Each
/// rejected plugin is one warning line on stderr naming the file; the others still load.
LoweringRegistry hostRegistry(const std::vector<std::string>& pluginPaths);
/// dlopens each kernel library (a custom op's implementation, e.g. torchvision's _C.so) globally,
/// so LibTorch can run the ops it registers; a problem for each that fails.
void loadTorchLibraries(const std::vector<std::string>& files, std::vector<std::string>& problems);

}  // namespace ts2coreml::cli
