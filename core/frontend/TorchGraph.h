// Walking a canonicalized TorchScript graph: source locations, the unsupported-op scan, and the
// node-by-node lowering into MIL.
#pragma once

#include "frontend/Frontend.h"
#include "frontend/QuantizedParams.h"

#include <ts2coreml/Builder.h>

#include <torch/csrc/jit/ir/ir.h>

#include <map>
#include <set>
#include <string>
#include <unordered_map>

namespace ts2coreml {

std::string firstLine(const std::string& text);

/// Where the user wrote the node: "file.py:12:9" (the column when the range has one; a traced node
/// has none), the innermost frame of its code outside torch's own package, else the innermost
/// frame; "" when the node has no source range.
std::string sourceLocation(const torch::jit::Node& node);
/// The frame inside torch's package that sourceLocation skipped ("torch/nn/modules/rnn.py:774"),
/// for a note; "" when there is none.
std::string libraryLocation(const torch::jit::Node& node);
/// Module scope of a node ("ResNet/layer1/0/conv1"), else "".
std::string moduleScope(const torch::jit::Node& node);
/// Location for diagnostics: source location, else the model path with the module scope.
std::string describeLocation(const torch::jit::Node& node, const std::string& modelPath);

/// Makes a name valid for Core ML: [A-Za-z_][A-Za-z0-9_@]*.
std::string sanitizeName(const std::string& name);

/// Ops the frontend handles itself (constants, lists, tuples), never through the registry.
bool isStructuralOp(const torch::jit::Node& node);

/// Every node of the graph (nested blocks too) with no lowering: one diagnostic per op, at its
/// first use, with the count of uses and the other places it is used.
std::vector<Diagnostic> scanUnsupported(const torch::jit::Graph& graph, const LoweringRegistry& registry,
                                        const FrontendOptions& options);

/// Lowers one graph into a MIL program.
class GraphLowering {
public:
    GraphLowering(std::shared_ptr<torch::jit::Graph> graph, const LoweringRegistry& registry,
                  const FrontendOptions& options);
    LoweredModel run();

    // Used by the node context.
    const LoweringRegistry& registry() const { return registry_; }
    const FrontendOptions& options() const { return options_; }
    mil::Builder& builder() { return *builder_; }
    /// Gives a value created by the current node the node's output name.
    void nameValue(mil::Value* v, const std::string& torchName);
    std::string uniqueName(const std::string& base);
    /// Tells FrontendOptions::onLowering (when set) that `step` runs now; returns the step told
    /// before, to tell again when `step` is over.
    LoweringStep tellLowering(LoweringStep step);

private:
    void lowerNode(torch::jit::Node* node);
    /// Records the custom layers among the ops the current node's lowering emitted.
    void recordCustomLayers(torch::jit::Node* node, const std::string& location);
    bool lowerStructural(torch::jit::Node* node);
    /// Shape arithmetic on constants (see the definition); true when the node was evaluated.
    bool foldScalarArithmetic(torch::jit::Node* node);
    /// After an in-place op: the written value and the tensors it is a view of take the new value.
    void writeBack(torch::jit::Node* node, const Arg& written, LoweringContext& ctx);
    /// prim::If -> MIL cond (or the branch taken, when the condition is a constant).
    void lowerIf(torch::jit::Node* node);
    /// prim::Loop (for and while forms) -> MIL while_loop.
    void lowerLoop(torch::jit::Node* node);
    /// Lowers a nested block's nodes into the builder's current block and returns its outputs.
    std::vector<mil::Value*> lowerNestedBlock(torch::jit::Block* block, const std::string& what);
    /// A torch value as a MIL value in the current block (constants are emitted).
    mil::Value* blockValue(torch::jit::Value* v, const std::string& what);
    void bindOutputs(mil::Function& fn, LoweredModel& out);
    /// Core ML has no int64: an int64 constant outside the int32 range is clamped into it, with a
    /// warning at its source line.
    c10::IValue narrowedConstant(c10::IValue value, const torch::jit::Node& node);

    std::shared_ptr<torch::jit::Graph> graph_;
    const LoweringRegistry& registry_;
    const FrontendOptions& options_;
    std::unique_ptr<mil::Program> program_;
    std::unique_ptr<mil::Builder> builder_;
    std::unordered_map<const torch::jit::Value*, Arg> values_;
    std::set<std::string> usedNames_;
    std::vector<Diagnostic> errors_;
    std::vector<Diagnostic> warnings_;
    size_t nodeFirstOp_ = 0;  ///< index in the block of the first op made by the current node
    std::vector<CustomLayerOrigin> customLayers_;
    LoweringStep toldStep_;  ///< the step last told to onLowering
    QuantizedDtypes quantizedDtypes_;
};

}  // namespace ts2coreml
