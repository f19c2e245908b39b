// The reference executor: runs a MIL program's `main` on the CPU, op by op, with ATen kernels
// that follow each op's documented Core ML semantics. It is how a converted model is checked
// numerically off Apple platforms (`ts2coreml verify`).
#pragma once

#include "runtime/Kernel.h"

#include <ts2coreml/Mil.h>

#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ts2coreml::runtime {

/// A reference implementation of one custom-layer class (an app's MLCustomLayer, for tests and
/// verification): the layer's outputs, in order, from its inputs (fp32) and its description
/// (parameters, weights).
using CustomLayerKernel =
    std::function<std::vector<at::Tensor>(const mil::CustomLayer&, const std::vector<at::Tensor>&)>;
/// Custom-layer reference kernels by class name.
using CustomLayerKernels = std::map<std::string, CustomLayerKernel>;

struct ExecutionOptions {
    /// The kernels to run with; null means KernelTable::builtin().
    const KernelTable* kernels = nullptr;
    /// Called after each non-const op with its outputs (as stored), e.g. to dump intermediates.
    std::function<void(const mil::Operation&, const std::vector<at::Tensor>&)> observer;
    /// Reference kernels of custom layers, by class name.
    const CustomLayerKernels* customKernels = nullptr;
    /// A custom layer whose class has no kernel: when set, this is called with the layer's op and
    /// its inputs, and the layer is skipped — its outputs and everything computed from them are
    /// left undefined (an undefined tensor among execute's results). When unset, such a layer is
    /// an ExecutionError.
    std::function<void(const mil::Operation&, const std::vector<at::Tensor>&)> onCustomLayerWithoutKernel;
};

/// Runs `main` on `inputs` (by input name) and returns its outputs in order.
///
/// Inputs are converted to the declared dtype (an fp32 tensor feeds an fp16 input) and must match
/// the declared rank, static sizes and the bounds of flexible dims. Every op's results are
/// converted to its declared output dtype and checked against its declared static sizes, so a
/// kernel and the program can never silently disagree. Throws ExecutionError — an op without a
/// kernel is named by its type — or std::invalid_argument for bad inputs. A custom layer runs its
/// class's kernel from `options.customKernels`; see onCustomLayerWithoutKernel for one without.
std::vector<at::Tensor> execute(const mil::Program& program, const std::map<std::string, at::Tensor>& inputs,
                                const ExecutionOptions& options = {});

/// The same, outputs keyed by name.
std::map<std::string, at::Tensor> executeByName(const mil::Program& program,
                                                const std::map<std::string, at::Tensor>& inputs,
                                                const ExecutionOptions& options = {});

/// MIL op types of `main` (nested blocks too) that have no kernel in `kernels` (custom layers,
/// whose kernels are ExecutionOptions::customKernels, are not listed).
std::vector<std::string> unsupportedOps(const mil::Program& program,
                                        const KernelTable& kernels = KernelTable::builtin());

}  // namespace ts2coreml::runtime
