// Plugins that crash the process (tests/plugin/fixtures/CrashingPlugin.cpp): a null write or abort()
// in a lowering, abort() in a static constructor. `convert` reports each — the signal, the plugin's
// path, the op and the model's line — exits 1, writes nothing and keeps an existing output; a FIFO
// named like a plugin does not hang the search.
#include "plugin/PluginTestSupport.h"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace ts2coreml::test;
namespace fs = std::filesystem;

namespace {

std::string crashingPlugin(const std::string& kind) {
    return std::string(TS2COREML_BINARY_DIR) + "/tests/crashing-plugins/libfixture_crash_" + kind + ".so";
}

// AddressSanitizer turns a SIGSEGV into a report and exit 1 of its own: the sanitizer build lets
// the signal through, as a regular build's process meets it.
const std::string kLetSignalsThrough = "ASAN_OPTIONS=detect_leaks=0:handle_segv=0:handle_abort=0";

/// "make_plugin_models.py:LINE:" of the line calling torch.special.ndtr, the op the fixtures lower.
std::string ndtrLine() {
    std::ifstream in(std::string(TS2COREML_SOURCE_DIR) + "/tests/plugin/make_plugin_models.py");
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
        if (line.find("torch.special.ndtr(") != std::string::npos)
            return "make_plugin_models.py:" + std::to_string(n) + ":";
    FAIL("make_plugin_models.py has no torch.special.ndtr call");
    return {};
}

/// Every file under `root` (or `root` itself) with its bytes.
std::map<std::string, std::string> contents(const fs::path& root) {
    std::map<std::string, std::string> files;
    auto read = [](const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    };
    if (fs::is_regular_file(root)) return {{root.string(), read(root)}};
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = read(e.path());
    return files;
}

/// The hidden staging entries a conversion to `output` left in its folder.
size_t stagingLeftovers(const fs::path& output) {
    size_t n = 0;
    const std::string prefix = "." + output.filename().string() + ".partial-";
    for (const auto& e : fs::directory_iterator(output.parent_path()))
        if (e.path().filename().string().rfind(prefix, 0) == 0) ++n;
    return n;
}

CommandRun convertNdtr(const ScratchDir& dir, const std::string& output, const std::string& plugin) {
    return ts2coremlRun(dir,
                        "convert " + pluginModel("ndtr") + " -o " + output + " " + pluginModelInputs("ndtr") +
                            " --plugin-path " + plugin,
                        kLetSignalsThrough);
}

}  // namespace

TEST_CASE("A plugin lowering that segfaults or aborts is reported with the plugin, the op and the line; exit 1") {
    for (const auto& [kind, signal] :
         std::vector<std::pair<std::string, std::string>>{{"segv", "SIGSEGV"}, {"abort", "SIGABRT"}}) {
        CAPTURE(kind);
        ScratchDir dir("crash_" + kind);
        for (const std::string ext : {".mlpackage", ".mlmodel"}) {
            const std::string out = dir / ("out" + ext);
            CommandRun r = convertNdtr(dir, out, crashingPlugin(kind));
            CHECK(r.exitCode == 1);
            CHECK(r.out.empty());
            CHECK_MESSAGE(lineCount(r.err) == 1, r.err);
            // At the model's line, as every error of a lowering is: "/path/make_plugin_models.py:48:16: error: ...".
            const size_t line = r.err.find(ndtrLine());
            CHECK_MESSAGE((line != std::string::npos && r.err.substr(0, line).find(' ') == std::string::npos), r.err);
            CHECK(r.err.find("plugin 'crash_" + kind + "' (" + crashingPlugin(kind) + ")") != std::string::npos);
            CHECK(r.err.find("while lowering 'aten::special_ndtr'") != std::string::npos);
            CHECK(r.err.find(signal) != std::string::npos);
            CHECK(r.err.find("nothing was written to " + out) != std::string::npos);
            CHECK(!fs::exists(fs::symlink_status(out)));
            CHECK(stagingLeftovers(out) == 0);
        }
    }
}

TEST_CASE("A plugin whose static constructor aborts is reported with its path while loading; exit 1") {
    ScratchDir dir("crash_static");
    const std::string out = dir / "out.mlpackage";
    CommandRun r = convertNdtr(dir, out, crashingPlugin("static_abort"));
    CHECK(r.exitCode == 1);
    CHECK_MESSAGE(lineCount(r.err) == 1, r.err);
    CHECK_MESSAGE(r.err.rfind(crashingPlugin("static_abort") + ": error: loading this plugin", 0) == 0, r.err);
    CHECK(r.err.find("SIGABRT") != std::string::npos);
    CHECK(!fs::exists(fs::symlink_status(out)));
    CHECK(stagingLeftovers(out) == 0);
}

TEST_CASE("ts2coreml ops reports a plugin that crashes while loading, with its path; exit 1") {
    ScratchDir dir("crash_ops");
    CommandRun r = ts2coremlRun(dir, "ops --plugin-path " + crashingPlugin("static_abort"), kLetSignalsThrough);
    CHECK(r.exitCode == 1);
    CHECK(r.out.empty());
    CHECK_MESSAGE(r.err == crashingPlugin("static_abort") +
                               ": error: loading this plugin (its static constructors or entry point) crashed "
                               "ts2coreml ops (SIGABRT, Aborted)\n",
                  r.err);
}

TEST_CASE("A crashing plugin leaves an existing output at the path untouched") {
    ScratchDir dir("crash_existing");
    // What ts2coreml may replace: a package holding a Manifest.json, a regular .mlmodel file.
    const fs::path package = dir / "old.mlpackage";
    fs::create_directories(package / "Data" / "com.apple.CoreML");
    std::ofstream(package / "Manifest.json") << "{\"fileFormatVersion\": \"1.0.0\"}\n";
    std::ofstream(package / "Data" / "com.apple.CoreML" / "model.mlmodel") << "the previous model";
    const fs::path file = dir / "old.mlmodel";
    std::ofstream(file) << "the previous NeuralNetwork model";
    for (const fs::path& out : {package, file}) {
        CAPTURE(out);
        const auto before = contents(out);
        for (const std::string kind : {"segv", "abort", "static_abort"}) {
            CAPTURE(kind);
            CommandRun r = convertNdtr(dir, out.string(), crashingPlugin(kind));
            CHECK(r.exitCode == 1);
            CHECK(r.err.find(crashingPlugin(kind)) != std::string::npos);
            CHECK(contents(out) == before);
            CHECK(stagingLeftovers(out) == 0);
        }
    }
}

TEST_CASE("A FIFO named like a plugin is refused without being opened, and the search goes on") {
    ScratchDir dir("fifo_plugin");
    const fs::path plugins = dir / "plugins";
    fs::create_directories(plugins);
    REQUIRE(::mkfifo((plugins / "x.so").c_str(), 0600) == 0);
    fs::copy_file(fixturePlugin("good"), plugins / "y.so");
    // `timeout`: a search that opens the FIFO would wait for a writer forever.
    for (const std::string& where : {plugins.string(), (plugins / "x.so").string()}) {
        CAPTURE(where);
        CommandRun r = ts2coremlRun(dir, "ops --json --no-default-plugins --plugin-path " + where, "timeout 60");
        CHECK(r.exitCode == 0);
        CHECK_MESSAGE(r.err.find((plugins / "x.so").string() + ": warning: plugin not loaded: not a regular file") !=
                          std::string::npos,
                      r.err);
    }
    CommandRun good = ts2coremlRun(dir, "ops --no-default-plugins --plugin-path " + plugins.string(), "timeout 60");
    CHECK(good.out.find("fixture::good") != std::string::npos);
}
