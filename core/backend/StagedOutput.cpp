#include "backend/StagedOutput.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace fs = std::filesystem;

namespace ts2coreml {

namespace {

/// Removes the staging entries `prefix` names in `dir` whose writing process no longer exists.
void removeLeftovers(const fs::path& dir, const std::string& prefix) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string rest = name.substr(prefix.size());
        const size_t dash = rest.find('-');
        if (dash == 0 || dash == std::string::npos || rest.find_first_not_of("0123456789") != dash) continue;
        const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
        if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        std::error_code ignored;
        fs::remove_all(entry.path(), ignored);
    }
}

}  // namespace

std::runtime_error writeFailure(const fs::path& path) {
    const int error = errno;
    return std::runtime_error(path.string() +
                              ": write failed: " + (error ? std::strerror(error) : "the stream reported an error"));
}

std::string replaceProblem(const fs::path& finalPath, OutputKind kind) {
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(finalPath, ec);
    if (!fs::exists(status)) return {};
    if (kind == OutputKind::File) {
        if (fs::is_regular_file(status)) return {};
        return fs::is_directory(status)
                   ? "is a directory, not a model file ts2coreml wrote: it is kept, write elsewhere"
                   : "exists and is not a regular file: it is kept, write elsewhere";
    }
    if (!fs::is_directory(status)) return "exists and is not an .mlpackage directory: it is kept, write elsewhere";
    if (!fs::is_regular_file(finalPath / "Manifest.json", ec))
        return "is a directory without a Manifest.json, not a package ts2coreml wrote: it is kept, write elsewhere";
    return {};
}

StagedOutput::StagedOutput(fs::path finalPath, OutputKind kind) : final_(std::move(finalPath)), kind_(kind) {
    fs::path dir = final_.parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir)) throw std::runtime_error(dir.string() + ": output directory does not exist");
    if (std::string problem = replaceProblem(final_, kind_); !problem.empty())
        throw std::runtime_error(final_.string() + ": " + problem);
    // ".NAME.partial-PID-TAG": the writing process is in the name, so that a later run can tell a
    // killed run's leftover from a conversion still under way. NAME is shortened to fit NAME_MAX.
    const std::string prefix = "." + final_.filename().string().substr(0, 200) + ".partial-";
    removeLeftovers(dir, prefix);
    const std::string tag = boost::uuids::to_string(boost::uuids::random_generator()()).substr(0, 8);
    staging_ = dir / (prefix + std::to_string(::getpid()) + "-" + tag);
}

StagedOutput::~StagedOutput() {
    if (!committed_) {
        std::error_code ec;
        fs::remove_all(staging_, ec);
    }
}

void StagedOutput::commit() {
    // Again at the last moment: the path may have changed while the model was written.
    if (std::string problem = replaceProblem(final_, kind_); !problem.empty())
        throw std::runtime_error(final_.string() + ": " + problem);
    if (!fs::exists(fs::symlink_status(final_))) {
        fs::rename(staging_, final_);
    } else {
        // Exchange the two paths in one step, then drop the old one.
        if (syscall(SYS_renameat2, AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE) != 0) {
            // Filesystems without RENAME_EXCHANGE: a file renames over atomically; a directory
            // goes aside first.
            if (fs::is_directory(final_)) {
                fs::path aside = staging_;
                aside += ".old";
                fs::rename(final_, aside);
                fs::rename(staging_, final_);
                fs::remove_all(aside);
                committed_ = true;
                return;
            }
            fs::rename(staging_, final_);
            committed_ = true;
            return;
        }
        std::error_code ec;
        fs::remove_all(staging_, ec);  // now holds the previous output
    }
    committed_ = true;
}

}  // namespace ts2coreml
