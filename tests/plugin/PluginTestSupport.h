// Helpers of the plugin tests: running the ts2coreml binary, the plugin test models and fixtures.
#pragma once

#include "Converter.h"
#include "TestSupport.h"

#include <filesystem>
#include <string>

namespace ts2coreml::test {

/// Result of running the ts2coreml binary.
struct CommandRun {
    int exitCode = -1;
    std::string out, err;
};

/// A fresh directory in the system temp dir, removed when the object goes.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& tag);
    ~ScratchDir();
    const std::filesystem::path& path() const { return path_; }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

/// Runs `program args` (shell words) with stdout and stderr captured in `dir`; `env` is prefixed
/// ("VAR=value ") when given.
CommandRun runCommand(const ScratchDir& dir, const std::string& program, const std::string& args,
                      const std::string& env = {});
/// Runs the ts2coreml binary under test.
inline CommandRun ts2coremlRun(const ScratchDir& dir, const std::string& args, const std::string& env = {}) {
    return runCommand(dir, TS2COREML_BIN, args, env);
}

/// A model made by tests/plugin/make_plugin_models.py, and its --input flags.
std::string pluginModel(const std::string& name);
std::string pluginModelInputs(const std::string& name);

/// A fixture plugin of tests/plugin/fixtures ("override" -> .../libfixture_override.so).
inline std::string fixturePlugin(const std::string& kind) {
    return std::string(TS2COREML_FIXTURE_DIR) + "/libfixture_" + kind + ".so";
}

/// The directory of the fixtures whose entry point throws (throwing_entry: `throw 42`,
/// throwing_entry_std: a std::runtime_error), with a good plugin, zz_good, named after them.
inline std::string throwingEntryDir() { return std::string(TS2COREML_BINARY_DIR) + "/tests/throwing-entry-plugins"; }
inline std::string throwingEntryPlugin(const std::string& kind) {
    return throwingEntryDir() + "/libfixture_" + kind + ".so";
}

/// Options converting hardshrink(x, 0.5) of an fp32 [4] input, saved as DIR/hardshrink.pt, to
/// DIR/out.mlpackage: an op with no built-in lowering, for fixture and test lowerings.
ConvertOptions hardshrinkConversion(const ScratchDir& dir);

/// Number of lines of `text` (a last line without newline counts).
size_t lineCount(const std::string& text);

}  // namespace ts2coreml::test
