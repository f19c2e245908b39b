// Numerical verification of a converted model: seeded random inputs matching its declared
// inputs, LibTorch's forward as the reference, and per-output error measures.
#pragma once

#include "backend/ModelReader.h"

#include <ATen/ATen.h>
#include <torch/script.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ts2coreml::verify {

/// An output passes when  max |reference - actual| <= atol + rtol * scale,  where scale is the
/// output's scale, max |reference| (so rtol is an error relative to the output's magnitude, not
/// per element: elements near zero do not inflate it).
struct Tolerance {
    double atol = 1e-4;
    double rtol = 1e-4;
};

/// fp32 programs: atol 1e-4, rtol 1e-4 — fp32 rounding (2^-24 ~ 6e-8 per op) summed over the
/// thousands of products of a conv or matmul and ~100 layers stays orders of magnitude below.
Tolerance fp32Tolerance();
/// fp16 programs: atol 1e-3, rtol 3e-2. fp16 keeps an 11-bit significand (unit roundoff
/// 2^-11 ~ 4.9e-4) and every op rounds its result; over ~50 layers of a ResNet those roundings add
/// up to ~50 * 4.9e-4 ~ 2.4e-2 of the output scale in the worst case.
Tolerance fp16Tolerance();

/// True when any value of `main` is fp16 (an fp16 program: Apple's default precision).
bool usesFloat16(const mil::Program& program);

/// Concrete sizes for an input: its static dims; a flexible dim takes its lower bound (at least
/// 1), or the size given in `overrides`.
std::vector<int64_t> concreteSizes(const mil::Value& input, const std::vector<int64_t>* override);

/// A seeded random tensor for an input of `type`: floats N(0, 1), int32 uniform in [0, 10), bools
/// fair coins. fp16 inputs are drawn as fp32 and rounded to fp16 precision (kept as fp32, so both
/// LibTorch and the executor see the same values).
at::Tensor randomInput(const TensorType& type, const std::vector<int64_t>& sizes, at::Generator& gen);

/// A module output flattened into tensors in order: tuples and lists element by element, dicts
/// value by value (insertion order), numbers as 0-d tensors.
std::vector<at::Tensor> flattenOutputs(const c10::IValue& value);

/// LibTorch's forward on `inputs` (the module in eval mode), flattened.
std::vector<at::Tensor> runReference(torch::jit::Module& module, const std::vector<at::Tensor>& inputs);

struct OutputComparison {
    std::string name;
    std::vector<int64_t> shape;           ///< of the executed output
    std::vector<int64_t> referenceShape;  ///< of LibTorch's output
    double maxAbsError = 0;               ///< max |reference - actual|
    double scale = 0;                     ///< max |reference|
    double maxRelError = 0;               ///< maxAbsError / scale (maxAbsError when scale is 0)
    bool pass = false;
    bool exact = false;   ///< integers or bools: compared for equality, no tolerance
    std::string problem;  ///< why it fails, when it does for a reason besides size
};

/// The shape of an input with enumerated shapes to run at: `requested` when it is one of them (else
/// throws std::invalid_argument listing them), the first (the model's default) when null.
const std::vector<int64_t>& enumeratedShape(const backend::FeatureInfo& input, const std::vector<int64_t>* requested);

/// Compares one output (in fp64; NaN where the other has none fails, shapes must be equal, except
/// that a one-element [1] output stands for a LibTorch scalar: a NeuralNetwork has no rank 0). An
/// integer or bool output of LibTorch (token ids, indices, masks) must be matched exactly: a
/// tolerance relative to its scale would let an id differ.
OutputComparison compareOutput(const std::string& name, const at::Tensor& reference, const at::Tensor& actual,
                               const Tolerance& tolerance);

}  // namespace ts2coreml::verify
