#include "backend/StagedOutput.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace fs = std::filesystem;

namespace ts2coreml {

StagedOutput::StagedOutput(fs::path finalPath) : final_(std::move(finalPath)) {
    fs::path dir = final_.parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir)) throw std::runtime_error(dir.string() + ": output directory does not exist");
    const std::string tag = boost::uuids::to_string(boost::uuids::random_generator()()).substr(0, 8);
    staging_ = dir / ("." + final_.filename().string() + ".partial-" + tag);
}

StagedOutput::~StagedOutput() {
    if (!committed_) {
        std::error_code ec;
        fs::remove_all(staging_, ec);
    }
}

void StagedOutput::commit() {
    if (!fs::exists(final_)) {
        fs::rename(staging_, final_);
    } else {
        // Exchange the two paths in one step, then drop the old one.
        if (syscall(SYS_renameat2, AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE) != 0) {
            if (fs::is_directory(final_) != fs::is_directory(staging_))
                throw std::runtime_error(final_.string() + ": exists and is not the same kind of output");
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
