// Run-time plugin discovery: finds shared libraries where the user points (--plugin-path,
// TS2COREML_PLUGIN_PATH), loads them with Boost.DLL, checks their entry point, and registers their
// lowerings through a staging registry. Every rejection is one line naming the file; the other
// plugins keep loading.
#pragma once

#include "registry/LoweringRegistry.h"

#include <ts2coreml/Plugin.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace ts2coreml {

/// Environment variable holding colon-separated plugin directories (or files).
inline constexpr const char* kPluginPathVariable = "TS2COREML_PLUGIN_PATH";

/// A plugin that was not loaded, and why (one line).
struct PluginRejection {
    std::string file;
    std::string reason;
    std::string str() const { return file + ": warning: plugin not loaded: " + reason; }
};

/// A plugin that was loaded.
struct LoadedPlugin {
    std::string file;
    std::string name;
    std::string version;
};

struct PluginLoadReport {
    std::vector<LoadedPlugin> loaded;
    std::vector<PluginRejection> rejected;
};

/// Why a plugin was rejected.
class PluginRejected : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Registers the plugin `info` describes into `registry`: checks its API version and ABI tag, runs
/// its register function against a staging registry, then merges that, all or nothing. `provider`
/// is what `ts2coreml ops` shows ("built-in" or the library's path); `library` keeps a loaded
/// library alive as long as any of its lowerings (null for plugins linked in). Throws
/// PluginRejected with a one-line reason.
void registerPlugin(LoweringRegistry& registry, const ts2coreml_plugin_info& info, const std::string& provider,
                    std::shared_ptr<const void> library);

/// The search path: the entries of `environment` (TS2COREML_PLUGIN_PATH's value, may be null), then
/// `commandLine` (--plugin-path, in order), so plugins named on the command line can override
/// those of the environment. Empty entries are dropped: they never mean the current directory.
std::vector<std::string> pluginSearchPath(const std::vector<std::string>& commandLine, const char* environment);

/// The plugins shipped with ts2coreml, loaded by default (before those of the environment and the
/// command line): `ts2coreml/plugins/` next to the library running (the installed
/// `<libdir>/ts2coreml/plugins`), else, for the library of a build tree, that tree's shipped
/// plugins. Only what exists; never the current directory.
std::vector<std::string> defaultPluginPath();

/// The plugin files of each search path entry, in order: a directory gives its `*.so` files sorted
/// by file name (other files are ignored; nothing recursive), a file is itself. An entry that does
/// not exist, an entry that is neither a file nor a directory, and a `*.so` in a directory that is
/// not a regular file (a FIFO, a device: opening it could block forever; a dangling or looping
/// link), is a rejection. Paths are made absolute, so nothing is searched for by the loader.
std::vector<std::string> findPluginFiles(const std::vector<std::string>& searchPath,
                                         std::vector<PluginRejection>& rejected);

/// Loads one plugin file into `registry`. Throws PluginRejected.
LoadedPlugin loadPlugin(const std::string& file, LoweringRegistry& registry);

/// Finds and loads every plugin of the search path into `registry`. `beforeLoading`, when set, is
/// told each file before it is opened (its static constructors run then), so that a crash while
/// loading can be reported with the file.
PluginLoadReport loadPlugins(const std::vector<std::string>& searchPath, LoweringRegistry& registry,
                             const std::function<void(const std::string& file)>& beforeLoading = {});

}  // namespace ts2coreml
