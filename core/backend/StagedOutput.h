// Atomic output: everything is written to a hidden sibling, then swapped into place in one step.
// A failed or killed conversion never leaves a partial model and never damages an existing one; what
// a killed one leaves in the hidden sibling (".NAME.partial-PID-TAG") is removed by the next run
// writing NAME, once process PID is gone.
#pragma once

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>

namespace ts2coreml {

/// What a writer puts at its path: an .mlmodel file or an .mlpackage directory.
enum class OutputKind { File, Package };

/// Why an output of `kind` may not be written at `finalPath`, or "" when it may. An existing entry
/// there is replaced only when it is what ts2coreml could have written: a regular file for a file,
/// a directory holding a Manifest.json for a package. Anything else (a directory of the user's, a
/// file where a package goes, a symlink to elsewhere, a device) is kept and refused.
std::string replaceProblem(const std::filesystem::path& finalPath, OutputKind kind);

/// "PATH: write failed: REASON", the reason from errno as the failed write left it (a full disk, a
/// file size limit, ...); call it right after the failure.
std::runtime_error writeFailure(const std::filesystem::path& path);

/// Removes the staging entries that conversions to `finalPath` left behind when their process died
/// (killed, or crashed while writing); those of a process still running are kept.
void removeStaleStaging(const std::filesystem::path& finalPath);

/// A check every commit of this process runs before the output moves into place: throwing refuses
/// the commit (the staged output is then removed). The command line's worker process sets one that
/// refuses once its parent is gone, so that a killed ts2coreml never replaces its output afterwards.
void setCommitCheck(std::function<void()> check);

class StagedOutput {
public:
    /// Throws std::runtime_error when the directory is missing or replaceProblem says no.
    StagedOutput(std::filesystem::path finalPath, OutputKind kind);
    ~StagedOutput();  ///< removes the staging path unless committed
    StagedOutput(const StagedOutput&) = delete;
    StagedOutput& operator=(const StagedOutput&) = delete;

    /// Where to write (a file or directory path that does not exist yet).
    const std::filesystem::path& path() const { return staging_; }
    /// Moves the staged output over the final path (atomically exchanging with an existing one,
    /// checked again with replaceProblem first).
    void commit();

private:
    std::filesystem::path final_;
    OutputKind kind_;
    std::filesystem::path staging_;
    bool committed_ = false;
};

}  // namespace ts2coreml
