#include "frontend/Frontend.h"

#include "frontend/TorchGraph.h"

#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_conv_folding.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/lower_tuples.h>
#include <torch/csrc/jit/passes/remove_dropout.h>
#include <torch/csrc/jit/passes/remove_mutation.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace ts2coreml {

ConversionError::ConversionError(std::vector<Diagnostic> diags, int exitCode)
    : std::runtime_error(diags.empty() ? "conversion failed" : diags.front().str()),
      diagnostics_(std::move(diags)),
      exitCode_(exitCode) {}

namespace {

/// The diagnostic of a failed torch::jit::load: torch's message, first non-blank line, except that an
/// op torch does not know ("Unknown builtin op: mylib::fancy.") is named, with what to do about it.
ConversionError loadFailure(const std::string& path, const std::string& what) {
    const std::string marker = "Unknown builtin op: ";
    if (auto at = what.find(marker); at != std::string::npos) {
        std::string op = what.substr(at + marker.size());
        op = op.substr(0, op.find_first_of(" \n"));
        if (!op.empty() && op.back() == '.') op.pop_back();
        return ConversionError({{path, "cannot load TorchScript model: it calls '" + op +
                                           "', an op torch does not know; give --plugin-path to the plugin that "
                                           "declares it (or load its kernel library)"}},
                               2);
    }
    const size_t first = what.find_first_not_of(" \n");
    return ConversionError(
        {{path, "cannot load TorchScript model: " + firstLine(first == std::string::npos ? what : what.substr(first))}}, 2);
}

}  // namespace

torch::jit::Module loadModule(const std::string& path) {
    if (!std::filesystem::is_regular_file(path))
        throw ConversionError({{path, "cannot open model: no such file"}}, 2);
    try {
        return torch::jit::load(path);
    } catch (const c10::Error& e) {
        throw loadFailure(path, e.what_without_backtrace());
    } catch (const std::exception& e) {
        throw loadFailure(path, e.what());
    }
}

namespace {

/// torch's own canonicalization, in place: freezing moves parameters into the graph as constants
/// without cloning them (freeze_module would copy every weight).
std::shared_ptr<torch::jit::Graph> canonicalize(torch::jit::Module& module) {
    module.eval();
    torch::jit::freeze_module_inplace(&module, {}, /*freezeInterfaces=*/true, /*preserveParameters=*/false);
    auto graph = module.get_method("forward").graph();
    torch::jit::Inline(*graph);
    torch::jit::LowerSimpleTuples(graph);
    torch::jit::RemoveListMutation(graph);
    torch::jit::RemoveTensorMutation(graph);
    torch::jit::removeDropout(graph);
    torch::jit::ConstantPropagation(graph);
    torch::jit::EliminateDeadCode(graph);
    // conv(x, W, b) followed by batch_norm / add / mul of constants folds into one conv.
    torch::jit::FoldFrozenConvBatchnorm(graph);
    torch::jit::FoldFrozenConvAddOrSub(graph);
    torch::jit::FoldFrozenConvMulOrDiv(graph);
    torch::jit::ConstantPropagation(graph);
    torch::jit::LowerAllTuples(graph);
    torch::jit::EliminateDeadCode(graph);
    return graph;
}

}  // namespace

LoweredModel lowerModule(torch::jit::Module module, const FrontendOptions& options, const LoweringRegistry& registry) {
    std::shared_ptr<torch::jit::Graph> graph;
    try {
        graph = canonicalize(module);
    } catch (const c10::Error& e) {
        throw ConversionError({{options.modelPath, "cannot canonicalize the TorchScript graph: " +
                                                       firstLine(e.what_without_backtrace())}},
                              2);
    }

    std::vector<Diagnostic> missing = scanUnsupported(*graph, registry, options);
    if (!missing.empty()) throw ConversionError(std::move(missing), 2);

    GraphLowering lowering(graph, registry, options);
    LoweredModel out = lowering.run();
    // The program's constants alias tensors owned by the frozen graph.
    auto holder = std::make_shared<std::pair<torch::jit::Module, std::shared_ptr<torch::jit::Graph>>>(module, graph);
    out.keepAlive = holder;
    out.graph = graph;
    return out;
}

}  // namespace ts2coreml
