// TorchScript frontend: loads a module, canonicalizes it with torch's own passes, scans it against
// the registry, and lowers it to a MIL program.
#pragma once

#include "registry/LoweringRegistry.h"

#include <ts2coreml/Mil.h>

#include <torch/script.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ts2coreml {

/// One problem a user can fix (or, for a warning, should know about), at a place in their files.
struct Diagnostic {
    Diagnostic() = default;
    Diagnostic(std::string location, std::string message, bool warning = false, std::string libraryLocation = {})
        : location(std::move(location)),
          message(std::move(message)),
          warning(warning),
          libraryLocation(std::move(libraryLocation)) {}

    std::string location;  ///< "model.py:12:8" or "model.pt (Net/layer1)"; may be empty
    std::string message;
    bool warning = false;
    /// Where inside torch's own code the op was called from the user's line ("torch/nn/.../rnn.py:774"),
    /// printed as a note after the message; may be empty.
    std::string libraryLocation;
    std::string str() const {
        return (location.empty() ? "" : location + ": ") + (warning ? "warning: " : "error: ") + message +
               (libraryLocation.empty() ? "" : "\n" + libraryLocation + ": note: called there, inside torch");
    }
};

/// A failed conversion: every diagnostic found, and the exit code it deserves (1 or 2).
class ConversionError : public std::runtime_error {
public:
    ConversionError(std::vector<Diagnostic> diags, int exitCode);
    const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
    int exitCode() const { return exitCode_; }

private:
    std::vector<Diagnostic> diagnostics_;
    int exitCode_;
};

/// A model input: name and type (dtype, shape with static or bounded dims).
struct ModelInput {
    std::string name;
    TensorType type;
    /// `--input NAME:S1|S2|...`: the only shapes the model accepts. The type's dims that differ
    /// between them are symbolic, bounded by the smallest and largest size.
    std::vector<std::vector<int64_t>> enumeratedShapes = {};
};

/// The lowering about to run: what a crash inside it would be reported with.
struct LoweringStep {
    std::string op;        ///< "aten::add", or a structural op ("prim::If")
    std::string provider;  ///< "built-in", "ops.yaml:12", "/path/libfoo.so"
    std::string plugin;    ///< the plugin's name, when a plugin provides the lowering
    std::string location;  ///< the node's source location, as diagnostics give it
};

struct FrontendOptions {
    std::vector<ModelInput> inputs;        ///< binds forward() arguments in order
    std::vector<std::string> outputNames;  ///< defaults to output_0, output_1, ...
    Target target = Target::iOS15;
    std::string modelPath;  ///< for diagnostics
    /// Told before each node's lowering runs, and again for the caller when a lowering that called
    /// another returns (the command line's worker passes it to its parent, which names the op if
    /// the process crashes). Unset: nothing is told.
    std::function<void(const LoweringStep&)> onLowering = {};
};

/// Where a custom layer of a lowered program comes from: the torch node whose lowering emitted it
/// (in the canonicalized graph), and for each of the layer's inputs the torch value it is — null
/// where the lowering computed the input rather than passing a value of the graph.
struct CustomLayerOrigin {
    const mil::Operation* op = nullptr;
    torch::jit::Node* node = nullptr;
    std::vector<torch::jit::Value*> inputs;
    std::string location;  ///< the node's source location, as diagnostics give it
};

/// The lowered program, plus what keeps its constant weights alive (the torch module).
struct LoweredModel {
    std::unique_ptr<mil::Program> program;
    std::vector<std::string> inputNames;
    std::vector<std::string> outputNames;
    /// What the user should know about the conversion: e.g. int64 narrowed to int32 where values
    /// may not fit.
    std::vector<Diagnostic> warnings = {};
    /// The canonicalized graph the program was lowered from (its module is in keepAlive).
    std::shared_ptr<torch::jit::Graph> graph;
    /// Every custom layer the lowerings emitted, in the order they were emitted.
    std::vector<CustomLayerOrigin> customLayers;
    std::shared_ptr<void> keepAlive;
};

/// Loads a `.pt`; a load failure (missing file, unknown custom op) is a ConversionError, exit 2.
torch::jit::Module loadModule(const std::string& path);

/// conv1d/2d/3d followed by an inference batch_norm, all of frozen constants: the normalization is
/// folded into the conv by rescaling its weight tensor in place and giving it a new bias, so that
/// no second copy of the weights is made. Skipped (left to torch's FoldFrozenConvBatchnorm, which
/// copies) where the weight is held or used elsewhere too.
void foldConvBatchNormInPlace(torch::jit::Graph& graph);

/// Canonicalizes `module` in place with torch's passes (freezing without cloning weights) and lowers
/// its forward(). Throws ConversionError listing every unsupported op with its source location.
LoweredModel lowerModule(torch::jit::Module module, const FrontendOptions& options, const LoweringRegistry& registry);

}  // namespace ts2coreml
