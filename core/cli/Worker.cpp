#include "cli/Worker.h"

#include "backend/StagedOutput.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <vector>

namespace ts2coreml::cli {

namespace {

// A record: its payload's length (uint32), the kind, then each field followed by a NUL. Fields are
// cut so that a record stays below PIPE_BUF: one write, never interleaved or split.
constexpr size_t kFieldLimit = 900;

/// What the worker reported last.
struct LastReport {
    char kind = 'S';
    std::vector<std::string> fields = {"starting"};
};

void writeAll(int fd, const char* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the parent is gone: the death signal ends this process
        data += n;
        size -= static_cast<size_t>(n);
    }
}

/// Applies every whole record at the start of `buffer` to `last` and drops it from `buffer`.
void readRecords(std::string& buffer, LastReport& last) {
    size_t at = 0;
    while (buffer.size() - at >= sizeof(uint32_t)) {
        uint32_t length = 0;
        std::memcpy(&length, buffer.data() + at, sizeof length);
        if (buffer.size() - at - sizeof length < length) break;
        const std::string payload = buffer.substr(at + sizeof length, length);
        at += sizeof length + length;
        if (payload.empty()) continue;
        last.kind = payload[0];
        last.fields.clear();
        for (size_t start = 1; start < payload.size();) {
            const size_t end = payload.find('\0', start);
            last.fields.push_back(payload.substr(start, end - start));
            if (end == std::string::npos) break;
            start = end + 1;
        }
    }
    buffer.erase(0, at);
}

std::string field(const LastReport& last, size_t i) { return i < last.fields.size() ? last.fields[i] : std::string(); }

std::string signalName(int sig) {
    const char* abbrev = ::sigabbrev_np(sig);
    const char* description = ::strsignal(sig);
    return (abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig)) +
           (description ? std::string(", ") + description : std::string());
}

/// The one error line for a worker that died of `sig` after reporting `last`.
std::string crashMessage(const std::string& command, const std::string& outputPath, int sig, const LastReport& last) {
    const std::string crashed = (command == "convert" ? "crashed the conversion" : "crashed ts2coreml " + command) +
                                " (" + signalName(sig) + ")";
    const std::string nothing = outputPath.empty() ? "" : "; nothing was written to " + outputPath;
    switch (last.kind) {
        case 'P':
            return field(last, 0) + ": error: loading this plugin (its static constructors or entry point) " + crashed +
                   nothing;
        case 'L': {
            const std::string op = field(last, 0), provider = field(last, 1), plugin = field(last, 2);
            const std::string where = field(last, 3).empty() ? "ts2coreml " + command : field(last, 3);
            const std::string who = plugin.empty() ? "the lowering of '" + op + "' (" + provider + ")"
                                                   : "plugin '" + plugin + "' (" + provider + ")";
            return where + ": error: " + who + " " + crashed + (plugin.empty() ? "" : " while lowering '" + op + "'") +
                   nothing;
        }
        case 'D':
            return "ts2coreml " + command + ": error: the process crashed (" + signalName(sig) + ") after finishing" +
                   (outputPath.empty() ? "" : "; " + outputPath + " was written");
        default:
            return "ts2coreml " + command + ": error: the process crashed (" + signalName(sig) + ") while " +
                   field(last, 0) + nothing;
    }
}

/// Threads of this process: a fork copies only the calling one.
size_t threadCount() {
    DIR* dir = ::opendir("/proc/self/task");
    if (!dir) return 1;
    size_t count = 0;
    while (const dirent* entry = ::readdir(dir))
        if (entry->d_name[0] != '.') ++count;
    ::closedir(dir);
    return count;
}

/// Ends the process with `code` once its output is out, without static destructors: in the worker
/// unloading plugins could still crash after the result is known; in the parent, which holds nothing
/// to release, they cost page faults on every page the fork made copy-on-write.
[[noreturn]] void exitNow(int code) {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    ::_exit(code);
}

[[noreturn]] void runWorker(int fd, pid_t parent, const std::function<int(WorkerReport&)>& work) {
    // SIGKILL of ts2coreml ends its worker too; a parent gone before this line is checked after it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    setCommitCheck([parent] {
        if (::getppid() != parent) throw std::runtime_error("ts2coreml was ended: the output is not replaced");
    });
    WorkerReport report(fd);
    int code = 1;
    try {
        code = work(report);
    } catch (const std::exception& e) {
        std::cerr << "ts2coreml: error: " << e.what() << "\n";
    }
    exitNow(code);
}

}  // namespace

void WorkerReport::send(char kind, std::initializer_list<std::string_view> fields) {
    if (fd_ < 0) return;
    std::string record(sizeof(uint32_t), '\0');
    record += kind;
    for (std::string_view f : fields) {
        record.append(f.substr(0, kFieldLimit));
        record += '\0';
    }
    const uint32_t length = static_cast<uint32_t>(record.size() - sizeof length);
    std::memcpy(record.data(), &length, sizeof length);
    writeAll(fd_, record.data(), record.size());
}

int runInWorker(const std::string& command, const std::string& outputPath,
                const std::function<int(WorkerReport&)>& work) {
    WorkerReport unwatched(-1);
    int fds[2];
    if (threadCount() > 1 || ::pipe2(fds, O_CLOEXEC) != 0) return work(unwatched);
    // What is buffered would otherwise be printed by both processes.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return work(unwatched);
    }
    if (pid == 0) {
        ::close(fds[0]);
        runWorker(fds[1], parent, work);
    }
    ::close(fds[1]);
    LastReport last;
    std::string buffer;
    char chunk[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
        readRecords(buffer, last);
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw std::runtime_error(std::string("waiting for the conversion: ") + strerror(errno));
    }
    if (WIFEXITED(status)) exitNow(WEXITSTATUS(status));
    const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (!outputPath.empty() && last.kind != 'D') {
        try {
            removeStaleStaging(outputPath);
        } catch (const std::exception&) {
            // A folder that cannot be listed holds no staging entry of the worker either.
        }
    }
    std::cerr << crashMessage(command, outputPath, sig, last) << "\n";
    exitNow(1);
}

}  // namespace ts2coreml::cli
