// Subcommands of the ts2coreml command line. Each returns the process exit code:
// 0 success, 1 conversion or verification failure, 2 bad usage or bad input.
#pragma once

#include "registry/LoweringRegistry.h"

#include <ts2coreml/Mil.h>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/variables_map.hpp>

#include <functional>
#include <optional>
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

/// Parses a subcommand's arguments into `vm` (and `parsed`, when given): `all` holds every option,
/// `visible` the ones --help shows. Returns the exit code to stop with — 2 after printing a usage
/// error as "ts2coreml COMMAND: error: ...", 0 after printing --help — or nothing to go on.
std::optional<int> parseCommandLine(const std::string& command, const std::vector<std::string>& args,
                                    const boost::program_options::options_description& visible,
                                    const boost::program_options::options_description& all,
                                    const boost::program_options::positional_options_description& positional,
                                    boost::program_options::variables_map& vm,
                                    boost::program_options::parsed_options* parsed = nullptr);

/// Where a command's lowerings come from besides the built-ins: plugins and composite files.
struct RegistryOptions {
    std::vector<std::string> pluginPaths;  ///< --plugin-path DIR|FILE.so (repeatable)
    std::vector<std::string> opsFiles;     ///< --ops FILE.yaml (repeatable)
    bool noDefaultOps = false;             ///< --no-default-ops: leave out the shipped ops.yaml
    bool noDefaultPlugins = false;         ///< --no-default-plugins: leave out the shipped plugins
};

/// Adds --plugin-path, --ops, --no-default-ops and --no-default-plugins to a command's options.
void addRegistryOptions(boost::program_options::options_description& opts, RegistryOptions& registryOptions);
/// A problem for each --plugin-path or --ops that does not exist (a usage error: exit 2).
void checkRegistryOptions(const RegistryOptions& registryOptions, std::vector<std::string>& problems);
/// The registry a command works with, in this order: the built-in lowerings; the shipped ops.yaml
/// (unless --no-default-ops); the shipped plugins (unless --no-default-plugins), then those of
/// $TS2COREML_PLUGIN_PATH and --plugin-path, a file named twice loading once (each rejected
/// plugin is one warning line on stderr naming the file; the others still load); the --ops files, so
/// that a user's file may override anything. Each problem of a composite file is appended to
/// `problems` as "FILE:LINE:COL: error: ..." and none of that file set is registered.
/// `beforeLoading` is told each plugin file before it is loaded (see loadPlugins).
LoweringRegistry hostRegistry(const RegistryOptions& registryOptions, std::vector<std::string>& problems,
                              const std::function<void(const std::string& file)>& beforeLoading = {});
/// Prints `problems` to stderr, one line each: "ts2coreml COMMAND: error: PROBLEM", or the problem
/// alone when it already carries its own "FILE:LINE:COL: error:" prefix.
void printProblems(const std::string& command, const std::vector<std::string>& problems);
/// dlopens each kernel library (a custom op's implementation, e.g. torchvision's _C.so) globally,
/// so LibTorch can run the ops it registers; a problem for each that fails.
void loadTorchLibraries(const std::vector<std::string>& files, std::vector<std::string>& problems);

}  // namespace ts2coreml::cli
