// Atomic output: everything is written to a hidden sibling, then swapped into place in one step.
// A failed or killed conversion never leaves a partial model and never damages an existing one.
#pragma once

#include <filesystem>
#include <string>

namespace ts2coreml {

class StagedOutput {
public:
    explicit StagedOutput(std::filesystem::path finalPath);
    ~StagedOutput();  ///< removes the staging path unless committed
    StagedOutput(const StagedOutput&) = delete;
    StagedOutput& operator=(const StagedOutput&) = delete;

    /// Where to write (a file or directory path that does not exist yet).
    const std::filesystem::path& path() const { return staging_; }
    /// Moves the staged output over the final path (atomically exchanging with an existing one).
    void commit();

private:
    std::filesystem::path final_;
    std::filesystem::path staging_;
    bool committed_ = false;
};

}  // namespace ts2coreml
