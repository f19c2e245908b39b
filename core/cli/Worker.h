// A command's plugin loading and conversion run in a forked worker process, so that a plugin whose
// code crashes (a segfault, abort(), a static constructor that aborts) ends the worker, not
// ts2coreml: the parent reports the signal with what the worker last told it through a pipe (the
// plugin file being loaded, or the torch op, its provider and the model line being lowered), removes
// what the worker staged, and exits 1. A killed ts2coreml takes its worker along (SIGKILL), and a
// worker whose parent is gone commits nothing.
#pragma once

#include "frontend/Frontend.h"

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ts2coreml::cli {

/// The worker's side of the pipe: what it is doing now. Each call is one write of a record (a
/// few hundred bytes at most), so that the parent always holds the latest whole one.
class WorkerReport {
public:
    explicit WorkerReport(int fd) : fd_(fd) {}
    void loadingPlugin(const std::string& file) { send('P', {file}); }
    void lowering(const LoweringStep& step) { send('L', {step.op, step.provider, step.plugin, step.location}); }
    /// "loading MODEL", "writing OUT": a crash there is not a plugin's.
    void phase(const std::string& what) { send('S', {what}); }
    /// The command's work is done (the output written): a crash from now on has damaged nothing.
    void finished() { send('D', {}); }

private:
    void send(char kind, std::initializer_list<std::string_view> fields);
    int fd_ = -1;  ///< -1: no parent listens (the work runs in ts2coreml's own process)
};

/// Runs `work` in a worker forked from this process, then ends this process with the worker's exit
/// code. When the worker dies by a signal: prints one error naming the signal and what the worker
/// last reported (`command` names the subcommand: "ts2coreml convert: error: ..." when no file or
/// line applies), removes the staging entries the worker left for `outputPath` (may be empty), and
/// exits 1. Called before anything starts a thread (a lock another thread held would stay locked in
/// the worker); where the process has threads already, or fork fails, `work` runs in this process
/// and its result is returned.
int runInWorker(const std::string& command, const std::string& outputPath,
                const std::function<int(WorkerReport&)>& work);

}  // namespace ts2coreml::cli
