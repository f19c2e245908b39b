#include "frontend/Frontend.h"

#include "frontend/Checkpoint.h"
#include "frontend/TorchGraph.h"

#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_conv_folding.h>
#include <torch/csrc/jit/passes/graph_rewrite_helper.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/lower_tuples.h>
#include <torch/csrc/jit/passes/remove_dropout.h>
#include <torch/csrc/jit/passes/remove_mutation.h>

#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <optional>
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
        {{path, "cannot load TorchScript model: " + firstLine(first == std::string::npos ? what : what.substr(first))}},
        2);
}

}  // namespace

torch::jit::Module loadModule(const std::string& path) {
    if (!std::filesystem::is_regular_file(path)) throw ConversionError({{path, "cannot open model: no such file"}}, 2);
    // LibTorch trusts every record's bytes and size. The sizes are checked before it reads anything;
    // the CRC-32 pass over the whole file runs beside its load (one more read of bytes the load
    // reads anyway, on another core), and a mismatch discards what it loaded.
    auto crc = std::async(std::launch::async, checkpointCrcProblems, path);
    std::vector<std::string> problems = checkpointSizeProblems(path);
    std::optional<torch::jit::Module> module;
    std::exception_ptr failed;
    if (problems.empty()) {
        try {
            module = torch::jit::load(path);
        } catch (const c10::Error& e) {
            failed = std::make_exception_ptr(loadFailure(path, e.what_without_backtrace()));
        } catch (const std::exception& e) {
            failed = std::make_exception_ptr(loadFailure(path, e.what()));
        }
    }
    std::vector<std::string> damaged = crc.get();
    damaged.insert(damaged.end(), problems.begin(), problems.end());
    if (!damaged.empty()) {
        std::vector<Diagnostic> diags;
        for (std::string& p : damaged) diags.push_back({path, std::move(p)});
        throw ConversionError(std::move(diags), 2);
    }
    if (failed) std::rethrow_exception(failed);
    return std::move(*module);
}

namespace {

bool isConv(const torch::jit::Node* n) {
    return n->kind() == c10::aten::conv1d || n->kind() == c10::aten::conv2d || n->kind() == c10::aten::conv3d;
}

}  // namespace

void foldConvBatchNormInPlace(torch::jit::Graph& graph) {
    // How many constant nodes hold each tensor's memory, in nested blocks too: a weight another
    // node also holds (a conv applied twice, or again inside a loop) must not change.
    std::map<const void*, int> holders;
    std::function<void(const torch::jit::Block*)> count = [&](const torch::jit::Block* block) {
        for (const torch::jit::Node* n : block->nodes()) {
            if (n->kind() == c10::prim::Constant && n->output()->type()->cast<c10::TensorType>())
                ++holders[torch::jit::toIValue(n->output())->toTensor().storage().data()];
            for (const torch::jit::Block* nested : n->blocks()) count(nested);
        }
    };
    count(graph.block());
    std::vector<torch::jit::Node*> norms;
    for (torch::jit::Node* n : graph.nodes())
        if (n->kind() == c10::aten::batch_norm) norms.push_back(n);

    c10::NoGradGuard noGrad;
    for (torch::jit::Node* bn : norms) {
        torch::jit::Node* conv = bn->input(0)->node();
        if (!isConv(conv) || conv->output()->uses().size() != 1) continue;
        torch::jit::Value* weightValue = conv->input(1);
        const auto weight = torch::jit::toIValue(weightValue), bias = torch::jit::toIValue(conv->input(2));
        const auto gamma = torch::jit::toIValue(bn->input(1)), beta = torch::jit::toIValue(bn->input(2));
        const auto mean = torch::jit::toIValue(bn->input(3)), var = torch::jit::toIValue(bn->input(4));
        const auto training = torch::jit::toIValue(bn->input(5)), eps = torch::jit::toIValue(bn->input(7));
        if (!weight || !weight->isTensor() || !bias || !gamma || !beta || !mean || !mean->isTensor() || !var ||
            !var->isTensor() || !training || !training->isBool() || training->toBool() || !eps || !eps->isDouble())
            continue;
        at::Tensor w = weight->toTensor();
        if (weightValue->uses().size() != 1 || holders[w.storage().data()] != 1 || !w.is_floating_point() ||
            !w.is_contiguous() || w.dim() < 3)
            continue;
        const int64_t channels = w.size(0);
        const at::Tensor m = mean->toTensor(), v = var->toTensor();
        if (m.numel() != channels || v.numel() != channels) continue;
        const auto options = m.options();
        // As torch's folding computes them: W * (gamma / sqrt(var + eps)), (b - mean) / sqrt(var + eps) * gamma + beta.
        const at::Tensor rsqrt = at::rsqrt(v + eps->toDouble());
        const at::Tensor scale = gamma->isTensor() ? gamma->toTensor() * rsqrt : rsqrt;
        at::Tensor shift =
            ((bias->isTensor() ? bias->toTensor().to(options) : at::zeros({channels}, options)) - m) * rsqrt;
        if (gamma->isTensor()) shift = shift * gamma->toTensor();
        if (beta->isTensor()) shift = shift + beta->toTensor();
        std::vector<int64_t> perChannel(static_cast<size_t>(w.dim()), 1);
        perChannel[0] = channels;
        w.mul_(scale.reshape(perChannel).to(w.scalar_type()));  // the graph's own weight, rescaled where it lies
        torch::jit::WithInsertPoint here(conv);
        conv->replaceInput(2, graph.insertConstant(shift.to(w.scalar_type())));
        bn->output()->replaceAllUsesWith(conv->output());
        bn->destroy();
    }
}

namespace {

/// A traced model's `x &= y`, `x |= y`, `x ^= y` (aten::__iand__, __ior__, __ixor__) become the
/// in-place ops torch's mutation removal knows (aten::bitwise_and_, ...): it leaves the operator
/// forms in place, and a later use of x would then miss the update.
void renameInPlaceBitwiseOperators(const std::shared_ptr<torch::jit::Graph>& graph) {
    static const std::map<std::string, std::string> renamed = {
        {"aten::__iand__", "aten::bitwise_and_"},
        {"aten::__ior__", "aten::bitwise_or_"},
        {"aten::__ixor__", "aten::bitwise_xor_"},
    };
    std::vector<torch::jit::Node*> found;
    std::function<void(torch::jit::Block*)> visit = [&](torch::jit::Block* block) {
        for (torch::jit::Node* node : block->nodes()) {
            if (renamed.count(node->kind().toQualString())) found.push_back(node);
            for (torch::jit::Block* inner : node->blocks()) visit(inner);
        }
    };
    visit(graph->block());
    for (torch::jit::Node* node : found) {
        torch::jit::Node* op =
            graph->create(c10::Symbol::fromQualString(renamed.at(node->kind().toQualString())), node->inputs(), 1);
        op->output()->copyMetadata(node->output());
        op->setSourceRange(node->sourceRange());
        op->setScope(node->scope());
        op->insertBefore(node);
        node->output()->replaceAllUsesWith(op->output());
        node->destroy();
    }
}

/// torch's own canonicalization, in place: freezing moves parameters into the graph as constants
/// without cloning them (freeze_module would copy every weight).
std::shared_ptr<torch::jit::Graph> canonicalize(torch::jit::Module& module) {
    module.eval();
    torch::jit::freeze_module_inplace(&module, {}, /*freezeInterfaces=*/true, /*preserveParameters=*/false);
    auto graph = module.get_method("forward").graph();
    torch::jit::Inline(*graph);
    torch::jit::LowerSimpleTuples(graph);
    torch::jit::RemoveListMutation(graph);
    renameInPlaceBitwiseOperators(graph);
    torch::jit::RemoveTensorMutation(graph);
    torch::jit::removeDropout(graph);
    torch::jit::ConstantPropagation(graph);
    torch::jit::EliminateDeadCode(graph);
    // conv(x, W, b) followed by batch_norm / add / mul of constants folds into one conv. torch's
    // folding computes each folded weight into a new tensor while the old one still lives: at the
    // peak, a second copy of a CNN's weights. foldConvBatchNormInPlace rescales the weights where
    // they lie instead, and leaves to torch what it cannot (a weight shared by two convs, a
    // transposed conv).
    torch::jit::graph_rewrite_helper::replaceConvolutionWithAtenConv(graph);
    foldConvBatchNormInPlace(*graph);
    torch::jit::EliminateDeadCode(graph);
    torch::jit::FoldFrozenConvBatchnorm(graph);
    torch::jit::FoldFrozenConvAddOrSub(graph);
    torch::jit::FoldFrozenConvMulOrDiv(graph);
    torch::jit::ConstantPropagation(graph);
    torch::jit::LowerAllTuples(graph);
    torch::jit::EliminateDeadCode(graph);
    return graph;
}

/// A Core ML input is a tensor: a forward() argument of another type (str, int, a list) declared
/// with --input is refused, naming it, before its uses are scanned for lowerings.
std::vector<Diagnostic> nonTensorInputs(const torch::jit::Graph& graph, const FrontendOptions& options) {
    std::vector<Diagnostic> problems;
    size_t position = 0;
    for (const torch::jit::Value* arg : graph.inputs()) {
        const c10::TypePtr type = arg->type();
        if (type->cast<c10::ClassType>()) continue;  // self
        const size_t i = position++;
        if (i >= options.inputs.size() || type->cast<c10::TensorType>()) continue;
        if (auto optional = type->cast<c10::OptionalType>();
            optional && optional->getElementType()->cast<c10::TensorType>())
            continue;
        // TorchScript numbers a reassigned argument ("n.1"); the user wrote "n".
        std::string name = arg->debugName();
        if (const size_t dot = name.rfind('.'); dot != std::string::npos && dot + 1 < name.size() &&
                                                name.find_first_not_of("0123456789", dot + 1) == std::string::npos)
            name.resize(dot);
        problems.push_back({options.modelPath, "forward() argument '" + name + "' has type " + type->annotation_str() +
                                                   ", not Tensor: --input '" + options.inputs[i].name +
                                                   "' declares a tensor, and Core ML inputs can only be tensors "
                                                   "(make the argument a tensor, or a constant of the model)"});
    }
    return problems;
}

/// A trace of a module in training mode records the update of batch norm's statistics (an in-place
/// add on an attribute, which keeps prim::GetAttr nodes in the frozen graph); calling eval() on the
/// loaded module cannot undo that. The op updating the attribute is reported once, at its line.
/// (batch_norm with training=True and dropout with train=True are refused by their own lowerings.)
std::vector<Diagnostic> trainingModeProblems(const torch::jit::Graph& graph, const std::string& modelPath) {
    const torch::jit::Node* found = nullptr;
    for (const torch::jit::Node* node : graph.nodes()) {
        if (found) break;
        if (node->kind() == c10::prim::GetAttr) continue;
        for (const torch::jit::Value* input : node->inputs())
            if (input->node()->kind() == c10::prim::GetAttr) {
                found = node;
                break;
            }
    }
    if (!found) return {};
    return {{describeLocation(*found, modelPath),
             "the model was traced in training mode: '" + std::string(found->kind().toQualString()) +
                 "' here updates the module's state (such as batch-norm statistics), as the trace recorded it; call "
                 "model.eval() before torch.jit.trace and save the model again",
             false, libraryLocation(*found)}};
}

}  // namespace

LoweredModel lowerModule(torch::jit::Module module, const FrontendOptions& options, const LoweringRegistry& registry) {
    std::shared_ptr<torch::jit::Graph> graph;
    const bool savedInTraining = module.is_training();
    try {
        graph = canonicalize(module);
    } catch (const c10::Error& e) {
        throw ConversionError({{options.modelPath,
                                "cannot canonicalize the TorchScript graph: " + firstLine(e.what_without_backtrace())}},
                              2);
    }

    if (std::vector<Diagnostic> wrong = nonTensorInputs(*graph, options); !wrong.empty())
        throw ConversionError(std::move(wrong), 2);
    if (savedInTraining)
        if (std::vector<Diagnostic> training = trainingModeProblems(*graph, options.modelPath); !training.empty())
            throw ConversionError(std::move(training), 2);
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
