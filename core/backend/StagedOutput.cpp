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
#include <fstream>
#include <iterator>
#include <stdexcept>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace fs = std::filesystem;

namespace ts2coreml {

namespace {

/// Whether process `pid` still runs. A zombie does not: a killed conversion's orphaned worker may
/// stay one for good where nothing reaps orphans (a container's init).
bool processRuns(pid_t pid) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // "PID (COMM) STATE ...": COMM may hold anything, so the state follows the last ')'.
    const size_t close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size()) return true;
    const char state = text[close + 2];
    return state != 'Z' && state != 'X';
}

/// ".NAME.partial-": the start of the staging entries of outputs named NAME, shortened to fit NAME_MAX.
std::string stagingPrefix(const fs::path& finalPath) {
    return "." + finalPath.filename().string().substr(0, 200) + ".partial-";
}

fs::path folderOf(const fs::path& finalPath) {
    return finalPath.parent_path().empty() ? fs::path(".") : finalPath.parent_path();
}

std::function<void()>& commitCheck() {
    static std::function<void()> check;
    return check;
}

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
        if (pid <= 0 || processRuns(static_cast<pid_t>(pid))) continue;
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

void removeStaleStaging(const fs::path& finalPath) { removeLeftovers(folderOf(finalPath), stagingPrefix(finalPath)); }

void setCommitCheck(std::function<void()> check) { commitCheck() = std::move(check); }

StagedOutput::StagedOutput(fs::path finalPath, OutputKind kind) : final_(std::move(finalPath)), kind_(kind) {
    const fs::path dir = folderOf(final_);
    if (!fs::is_directory(dir)) throw std::runtime_error(dir.string() + ": output directory does not exist");
    if (std::string problem = replaceProblem(final_, kind_); !problem.empty())
        throw std::runtime_error(final_.string() + ": " + problem);
    // ".NAME.partial-PID-TAG": the writing process is in the name, so that a later run can tell a
    // killed run's leftover from a conversion still under way.
    const std::string prefix = stagingPrefix(final_);
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
    if (commitCheck()) commitCheck()();
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
