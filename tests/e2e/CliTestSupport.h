// Running the ts2coreml binary as users do, for the end-to-end suites.
#pragma once

#include "TestSupport.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ts2coreml::test {

struct Run {
    int exitCode = -1;
    std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A fresh directory under the system temp dir, removed with its contents at scope exit.
class CliTempDir {
public:
    explicit CliTempDir(const std::string& tag)
        : path_(std::filesystem::temp_directory_path() / ("ts2coreml_" + tag + "_" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~CliTempDir() {
        keepWrittenModels(path_);
        std::filesystem::remove_all(path_);
    }
    const std::filesystem::path& path() const { return path_; }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

/// Runs the ts2coreml binary with `args` (shell words, already quoted where needed).
inline Run runTs2coreml(const CliTempDir& dir, const std::string& args) {
    const std::string out = dir / "stdout.txt", err = dir / "stderr.txt";
    const std::string cmd = std::string(TS2COREML_BIN) + " " + args + " >" + out + " 2>" + err;
    const int status = std::system(cmd.c_str());
    Run r;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    // Whatever went wrong, the user reads reasons, never a C++ backtrace (LibTorch's errors carry one).
    CHECK_MESSAGE(r.err.find("Exception raised from") == std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("frame #") == std::string::npos, r.err);
    return r;
}

/// A sample model made by samples/make_models.py, and its --input flag.
inline std::string model(const std::string& name) { return modelsDir() + "/" + name + ".pt"; }

inline std::string inputFlag(const std::string& name) {
    std::string spec = slurp(modelsDir() + "/" + name + ".input");
    while (!spec.empty() && (spec.back() == '\n' || spec.back() == ' ')) spec.pop_back();
    return "--input " + spec;
}

}  // namespace ts2coreml::test
