#include "plugin/PluginTestSupport.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace ts2coreml::test {

namespace {
std::string slurpFile(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
}  // namespace

ScratchDir::ScratchDir(const std::string& tag)
    : path_(fs::temp_directory_path() / ("ts2coreml_plugin_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
    keepWrittenModels(path_);
    std::error_code ec;
    fs::remove_all(path_, ec);
}

CommandRun runCommand(const ScratchDir& dir, const std::string& program, const std::string& args,
                      const std::string& env) {
    const std::string out = dir / "stdout.txt", err = dir / "stderr.txt";
    const std::string cmd = (env.empty() ? "" : env + " ") + program + " " + args + " >" + out + " 2>" + err;
    const int status = std::system(cmd.c_str());
    CommandRun r;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurpFile(out);
    r.err = slurpFile(err);
    // Whatever went wrong, the user reads reasons, never a C++ backtrace (LibTorch's errors carry one).
    if (program == TS2COREML_BIN) {
        CHECK_MESSAGE(r.err.find("Exception raised from") == std::string::npos, r.err);
        CHECK_MESSAGE(r.err.find("frame #") == std::string::npos, r.err);
    }
    return r;
}

std::string pluginModel(const std::string& name) { return modelsDir() + "/plugin/" + name + ".pt"; }

std::string pluginModelInputs(const std::string& name) {
    std::string flags = slurpFile(modelsDir() + "/plugin/" + name + ".input");
    while (!flags.empty() && (flags.back() == '\n' || flags.back() == ' ')) flags.pop_back();
    return flags;
}

ConvertOptions hardshrinkConversion(const ScratchDir& dir) {
    ConvertOptions options;
    options.modelPath = dir / "hardshrink.pt";
    scriptModule("def forward(self, x):\n    return torch.hardshrink(x, 0.5)").save(options.modelPath);
    options.outputPath = dir / "out.mlpackage";
    options.inputs = {{"x", TensorType::of(DType::Float32, {4})}};
    return options;
}

size_t lineCount(const std::string& text) {
    if (text.empty()) return 0;
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + (text.back() == '\n' ? 0 : 1);
}

}  // namespace ts2coreml::test
