// The error every model-reading failure raises: a missing or unparsable file, a dangling value
// name, a corrupt weight blob. Its message starts with the offending file's path; the command line
// maps it to exit code 2 (bad input).
#pragma once

#include <stdexcept>
#include <string>

namespace ts2coreml::backend {

class ModelReadError : public std::runtime_error {
public:
    ModelReadError(const std::string& path, const std::string& message)
        : std::runtime_error(path + ": " + message), path_(path) {}
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace ts2coreml::backend
