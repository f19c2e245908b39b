// What the subcommands share: parsing their command line, and --plugin-path, --ops,
// --no-default-ops and --no-default-plugins (convert, verify and ops), the registry a command works
// with.
#include "cli/Commands.h"
#include "composite/Composite.h"
#include "plugin/PluginLoader.h"

#include <boost/program_options.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace ts2coreml::cli {

void addRegistryOptions(boost::program_options::options_description& opts, RegistryOptions& registryOptions) {
    namespace po = boost::program_options;
    opts.add_options()("plugin-path", po::value(&registryOptions.pluginPaths)->composing(),
                       "DIR (or FILE.so): load the plugins in DIR, sorted by file name (repeatable; after those of "
                       "$TS2COREML_PLUGIN_PATH, a colon-separated list). Nothing is loaded from the current "
                       "directory unless named")(
        "ops", po::value(&registryOptions.opsFiles)->composing(),
        "FILE.yaml: composite ops to load after the shipped ops.yaml and the plugins (repeatable; a later "
        "file may replace an earlier lowering with 'override: true')")(
        "no-default-ops", po::bool_switch(&registryOptions.noDefaultOps),
        "do not load the composite ops shipped in ops.yaml ($TS2COREML_OPS names another default file)")(
        "no-default-plugins", po::bool_switch(&registryOptions.noDefaultPlugins),
        "do not load the plugins shipped with ts2coreml (sorting, torchvision), which load from the host's own "
        "plugin directory by default");
}

void checkRegistryOptions(const RegistryOptions& registryOptions, std::vector<std::string>& problems) {
    for (const auto& p : registryOptions.pluginPaths) {
        std::error_code ec;
        if (p.empty())
            problems.push_back("--plugin-path: empty path (name the current directory as '.')");
        else if (!std::filesystem::exists(p, ec))
            problems.push_back("--plugin-path '" + p + "': no such file or directory");
    }
    for (const auto& f : registryOptions.opsFiles) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(f, ec)) problems.push_back("--ops '" + f + "': no such file");
    }
}

LoweringRegistry hostRegistry(const RegistryOptions& registryOptions, std::vector<std::string>& problems,
                              const std::function<void(const std::string& file)>& beforeLoading) {
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    if (!registryOptions.noDefaultOps) {
        if (const std::string shipped = composite::defaultOpsFile(); !shipped.empty())
            for (auto& e : composite::registerCompositeFiles({shipped}, registry)) problems.push_back(std::move(e));
    }
    std::vector<std::string> searchPath;
    if (!registryOptions.noDefaultPlugins) searchPath = defaultPluginPath();
    for (auto& p : pluginSearchPath(registryOptions.pluginPaths, std::getenv(kPluginPathVariable)))
        searchPath.push_back(std::move(p));
    const PluginLoadReport report = loadPlugins(searchPath, registry, beforeLoading);
    for (const auto& r : report.rejected) std::cerr << r.str() << "\n";
    std::vector<std::string> userFiles;
    for (const auto& f : registryOptions.opsFiles)
        if (std::filesystem::is_regular_file(f)) userFiles.push_back(f);
    if (!userFiles.empty())
        for (auto& e : composite::registerCompositeFiles(userFiles, registry)) problems.push_back(std::move(e));
    return registry;
}

std::optional<int> parseCommandLine(const std::string& command, const std::vector<std::string>& args,
                                    const boost::program_options::options_description& visible,
                                    const boost::program_options::options_description& all,
                                    const boost::program_options::positional_options_description& positional,
                                    boost::program_options::variables_map& vm,
                                    boost::program_options::parsed_options* parsed) {
    namespace po = boost::program_options;
    try {
        po::parsed_options options = po::command_line_parser(args).options(all).positional(positional).run();
        po::store(options, vm);
        po::notify(vm);
        if (parsed) *parsed = std::move(options);
    } catch (const po::error& e) {
        std::cerr << "ts2coreml " << command << ": error: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << visible << "\n";
        return 0;
    }
    return std::nullopt;
}

void printProblems(const std::string& command, const std::vector<std::string>& problems) {
    for (const auto& p : problems) {
        if (p.find(": error: ") != std::string::npos)
            std::cerr << p << "\n";
        else
            std::cerr << "ts2coreml " << command << ": error: " << p << "\n";
    }
}

void loadTorchLibraries(const std::vector<std::string>& files, std::vector<std::string>& problems) {
    for (const auto& f : files) {
        // RTLD_GLOBAL: the library's TORCH_LIBRARY registrations and symbols serve every later load.
        const std::string path = std::filesystem::absolute(f).string();
        if (!dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
            const char* why = dlerror();
            problems.push_back("--torch-library '" + f + "': " + (why ? why : "cannot be loaded"));
        }
    }
}

}  // namespace ts2coreml::cli
