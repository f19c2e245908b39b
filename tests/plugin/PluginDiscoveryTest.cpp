// Plugin discovery over folders holding more than libraries: only regular files (or links to one)
// named *.so are opened, so a FIFO or a looping link named x.so neither hangs nor throws.
#include "plugin/PluginLoader.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace fs = std::filesystem;

TEST_CASE("Plugin discovery reports FIFOs and dangling or looping links without opening them") {
    TempDir dir("plugin-discovery");
    const fs::path plugins = fs::path(dir.path()) / "plugins";
    fs::create_directories(plugins);
    REQUIRE(::mkfifo((plugins / "pipe.so").c_str(), 0600) == 0);
    fs::create_symlink(plugins / "loop.so", plugins / "loop.so");
    fs::create_symlink(plugins / "missing.so", plugins / "dangling.so");
    std::ofstream(plugins / "text.so") << "not a library";
    fs::create_symlink(plugins / "text.so", plugins / "alias.so");

    std::vector<PluginRejection> rejected;
    const auto files = findPluginFiles({plugins.string(), (plugins / "pipe.so").string()}, rejected);
    // text.so once, under the name it first appears as (alias.so sorts first).
    CHECK(files == std::vector<std::string>{(plugins / "alias.so").string()});
    // In the folder, sorted by name: each reported, none opened.
    REQUIRE(rejected.size() == 4);
    CHECK(rejected[0].file == (plugins / "dangling.so").string());
    CHECK(rejected[1].file == (plugins / "loop.so").string());
    CHECK(rejected[2].file == (plugins / "pipe.so").string());
    for (size_t i = 0; i < 3; ++i) CHECK(rejected[i].reason == "not a regular file");
    CHECK(rejected[3].file == (plugins / "pipe.so").string());
    CHECK(rejected[3].reason == "not a regular file or a directory");

    LoweringRegistry registry = LoweringRegistry::staging();
    const PluginLoadReport report = loadPlugins({plugins.string()}, registry);
    CHECK(report.loaded.empty());
    REQUIRE(report.rejected.size() == 4);
    CHECK(report.rejected.back().reason == "not a shared library (no ELF header)");
}
