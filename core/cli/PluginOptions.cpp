// --plugin-path, shared by convert, verify and ops: the registry a command works with.
#include "cli/Commands.h"
#include "plugin/PluginLoader.h"

#include <boost/program_options.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace ts2coreml::cli {

void addPluginOptions(boost::program_options::options_description& opts, std::vector<std::string>& pluginPaths) {
    opts.add_options()("plugin-path", boost::program_options::value(&pluginPaths)->composing(),
                       "DIR (or FILE.so): load the plugins in DIR, sorted by file name (repeatable; after those of "
                       "$TS2COREML_PLUGIN_PATH, a colon-separated list). Nothing is loaded from the current "
                       "directory unless named");
}

void checkPluginPaths(const std::vector<std::string>& pluginPaths, std::vector<std::string>& problems) {
    for (const auto& p : pluginPaths) {
        std::error_code ec;
        if (p.empty()) problems.push_back("--plugin-path: empty path (name the current directory as '.')");
        else if (!std::filesystem::exists(p, ec)) problems.push_back("--plugin-path '" + p + "': no such file or directory");
    }
}

LoweringRegistry hostRegistry(const std::vector<std::string>& pluginPaths) {
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    const PluginLoadReport report = loadPlugins(pluginSearchPath(pluginPaths, std::getenv(kPluginPathVariable)), registry);
    for (const auto& r : report.rejected) std::cerr << r.str() << "\n";
    return registry;
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
