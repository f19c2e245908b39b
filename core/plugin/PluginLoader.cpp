#include "plugin/PluginLoader.h"

#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace ts2coreml {

namespace {

std::string firstLineOf(const std::string& text) { return text.substr(0, text.find('\n')); }

void checkEntry(const ts2coreml_plugin_info& info) {
    if (info.apiVersion != TS2COREML_PLUGIN_API_VERSION)
        throw PluginRejected("wrong API version: built with plugin API version " + std::to_string(info.apiVersion) +
                             ", this ts2coreml supports " + std::to_string(TS2COREML_PLUGIN_API_VERSION) +
                             " (rebuild the plugin against this SDK)");
    const std::string tag = info.abiTag ? info.abiTag : "";
    if (tag != TS2COREML_ABI_TAG)
        throw PluginRejected("wrong ABI tag: built as '" + tag + "', this ts2coreml is '" + TS2COREML_ABI_TAG +
                             "' (rebuild the plugin with the same compiler and C++ library)");
    if (!info.name || !*info.name) throw PluginRejected("the entry point gives no plugin name");
    if (!info.registerLowerings) throw PluginRejected("the entry point gives no register function");
}

}  // namespace

void registerPlugin(LoweringRegistry& registry, const ts2coreml_plugin_info& info, const std::string& provider,
                    std::shared_ptr<const void> library) {
    checkEntry(info);
    LoweringRegistry staged = LoweringRegistry::staging();
    staged.setProvider(provider, library ? info.name : "", library);
    try {
        info.registerLowerings(staged);
    } catch (const std::exception& e) {
        throw PluginRejected(std::string("register function threw: ") + firstLineOf(e.what()));
    } catch (...) {
        throw PluginRejected("register function threw a non-standard exception");
    }
    if (std::string conflict = registry.mergeConflict(staged); !conflict.empty())
        throw PluginRejected("duplicate key: " + conflict);
    try {
        registry.merge(std::move(staged));
    } catch (const std::exception& e) {
        throw PluginRejected(firstLineOf(e.what()));
    }
}

std::vector<std::string> pluginSearchPath(const std::vector<std::string>& commandLine, const char* environment) {
    std::vector<std::string> out;
    if (environment) {
        std::string value = environment;
        size_t start = 0;
        while (start <= value.size()) {
            size_t end = value.find(':', start);
            if (end == std::string::npos) end = value.size();
            if (end > start) out.push_back(value.substr(start, end - start));
            start = end + 1;
        }
    }
    for (const auto& p : commandLine)
        if (!p.empty()) out.push_back(p);
    return out;
}

std::vector<std::string> defaultPluginPath() {
    std::vector<std::string> out;
    Dl_info self{};
    if (!dladdr(reinterpret_cast<const void*>(&defaultPluginPath), &self) || !self.dli_fname) return out;
    std::error_code ec;
    const fs::path library = fs::weakly_canonical(fs::absolute(self.dli_fname, ec), ec);
    const fs::path installed = library.parent_path() / "ts2coreml" / "plugins";
    if (fs::is_directory(installed, ec)) return {installed.string()};
#if defined(TS2COREML_BUILD_DIR) && defined(TS2COREML_BUILD_PLUGINS)
    // A build tree's library: its shipped plugins, each in its own folder under plugins/.
    if (library.parent_path() == fs::weakly_canonical(TS2COREML_BUILD_DIR, ec)) {
        const std::string list = TS2COREML_BUILD_PLUGINS;
        for (size_t start = 0; start < list.size();) {
            size_t end = list.find(':', start);
            if (end == std::string::npos) end = list.size();
            const std::string file = list.substr(start, end - start);
            if (fs::is_regular_file(file, ec)) out.push_back(file);
            start = end + 1;
        }
    }
#endif
    return out;
}

std::vector<std::string> findPluginFiles(const std::vector<std::string>& searchPath,
                                         std::vector<PluginRejection>& rejected) {
    std::vector<std::string> files;
    for (const std::string& entry : searchPath) {
        const fs::path path = fs::absolute(entry).lexically_normal();
        std::error_code ec;
        if (fs::is_directory(path, ec)) {
            std::vector<fs::path> found, irregular;
            for (const auto& f : fs::directory_iterator(path, ec)) {
                std::error_code statError;
                if (f.path().extension() != ".so" || fs::is_directory(f.path(), statError)) continue;
                (fs::is_regular_file(f.path(), statError) ? found : irregular).push_back(f.path());
            }
            if (ec) rejected.push_back({path.string(), "cannot read the directory: " + ec.message()});
            const auto byName = [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); };
            std::sort(found.begin(), found.end(), byName);
            std::sort(irregular.begin(), irregular.end(), byName);
            for (const auto& f : found) files.push_back(f.string());
            for (const auto& f : irregular) rejected.push_back({f.string(), "not a regular file"});
        } else if (fs::is_regular_file(path, ec)) {
            files.push_back(path.string());
        } else if (fs::exists(path, ec)) {
            rejected.push_back({path.string(), "not a regular file or a directory"});
        } else {
            rejected.push_back({path.string(), "no such file or directory"});
        }
    }
    // The same library named twice (a directory in both the environment and the command line)
    // loads once, where it first appears.
    std::vector<std::string> unique;
    std::vector<fs::path> seen;
    for (const auto& f : files) {
        std::error_code ec;
        fs::path canonical = fs::weakly_canonical(f, ec);
        if (ec) canonical = f;
        if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
        seen.push_back(canonical);
        unique.push_back(f);
    }
    return unique;
}

namespace {

/// Whether `file` is a regular file starting with the ELF magic. Opened without blocking and checked
/// after opening: a FIFO put in its place since the directory was read must not hang the host.
bool isElfFile(const std::string& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    char magic[4] = {};
    const bool elf = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::read(fd, magic, 4) == 4 &&
                     std::memcmp(magic,
                                 "\x7f"
                                 "ELF",
                                 4) == 0;
    ::close(fd);
    return elf;
}

/// Boost.DLL reports a failed load as a bare error code; dlopen's own message says why.
std::string dlopenReason(const std::string& file) {
    dlerror();
    if (void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        dlclose(handle);
        return "cannot be loaded";
    }
    const char* why = dlerror();
    std::string reason = why ? why : "cannot be loaded";
    // dlerror repeats the path: "/a/libx.so: undefined symbol: y" -> "undefined symbol: y".
    if (reason.rfind(file + ": ", 0) == 0) reason = reason.substr(file.size() + 2);
    return reason;
}

}  // namespace

LoadedPlugin loadPlugin(const std::string& file, LoweringRegistry& registry) {
    if (!isElfFile(file)) throw PluginRejected("not a shared library (no ELF header)");
    auto library = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    // rtld_local: plugins do not see each other's symbols; rtld_now: a missing symbol fails here,
    // not in the middle of a conversion.
    library->load(file, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    if (ec || !library->is_loaded()) throw PluginRejected("cannot be loaded: " + firstLineOf(dlopenReason(file)));
    if (!library->has(TS2COREML_PLUGIN_ENTRY_SYMBOL))
        throw PluginRejected(std::string("no entry point: the library does not export '") +
                             TS2COREML_PLUGIN_ENTRY_SYMBOL + "' (define it with TS2COREML_PLUGIN)");
    auto entry = library->get<const ts2coreml_plugin_info*()>(TS2COREML_PLUGIN_ENTRY_SYMBOL);
    // Caught here, while the library (which may hold the exception's type and destructor) is loaded.
    const ts2coreml_plugin_info* info = nullptr;
    try {
        info = entry();
    } catch (const std::exception& e) {
        throw PluginRejected(std::string("the entry point threw: ") + firstLineOf(e.what()));
    } catch (...) {
        throw PluginRejected("the entry point threw a non-standard exception");
    }
    if (!info) throw PluginRejected("the entry point returned no plugin info");
    registerPlugin(registry, *info, file, library);
    return {file, info->name, info->version ? info->version : ""};
}

PluginLoadReport loadPlugins(const std::vector<std::string>& searchPath, LoweringRegistry& registry,
                             const std::function<void(const std::string& file)>& beforeLoading) {
    PluginLoadReport report;
    for (const std::string& file : findPluginFiles(searchPath, report.rejected)) {
        if (beforeLoading) beforeLoading(file);
        try {
            report.loaded.push_back(loadPlugin(file, registry));
        } catch (const PluginRejected& e) {
            report.rejected.push_back({file, e.what()});
        } catch (const std::exception& e) {
            report.rejected.push_back({file, firstLineOf(e.what())});
        } catch (...) {
            report.rejected.push_back({file, "loading it threw a non-standard exception"});
        }
    }
    return report;
}

}  // namespace ts2coreml
