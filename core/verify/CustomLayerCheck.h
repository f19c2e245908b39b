// Verifying a model that holds custom layers. The reference executor has no kernel for an app's
// custom layer (unless a test supplies one), so what it can check stops at the layer: it compares
// the values FEEDING each custom layer with LibTorch's values of the same tensors — the inputs of
// the torch node whose lowering emitted the layer — and says which outputs it could not compare.
#pragma once

#include "frontend/Frontend.h"

#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::verify {

/// LibTorch's side of one custom layer: the torch node it was lowered from and the values of the
/// layer's inputs as the torch model computes them.
struct TorchCustomLayerInputs {
    std::string className;
    std::string torchOp;   ///< "aten::hardshrink"
    std::string location;  ///< the node's source location ("model.py:12:8")
    /// One per input of the layer; nullopt where the lowering computed the input itself (no
    /// value of the torch graph is that input).
    std::vector<std::optional<at::Tensor>> inputs;
};

/// Lowers the model at `modelPath` again with `registry` — which must hold the lowerings the
/// conversion used — to find the torch node of every custom layer, then runs the model's
/// canonicalized graph on `inputs` (forward()'s arguments) and returns the values of those nodes'
/// inputs. One entry per custom layer, in program order: the order of the custom layers of the
/// file the conversion wrote. Throws ConversionError when the model cannot be lowered (a
/// lowering missing from `registry`), std::runtime_error when the graph cannot run.
std::vector<TorchCustomLayerInputs> torchCustomLayerInputs(const std::string& modelPath, const FrontendOptions& options,
                                                           const LoweringRegistry& registry,
                                                           const std::vector<at::Tensor>& inputs);

/// The custom layers of `main`, in program order.
std::vector<const mil::Operation*> customLayerOps(const mil::Program& program);

/// The custom layers `value` is computed from (itself included when a custom layer produces it),
/// in program order, among those `skipped` lists.
std::vector<const mil::Operation*> customLayersBehind(const mil::Value& value,
                                                      const std::vector<const mil::Operation*>& skipped);

}  // namespace ts2coreml::verify
