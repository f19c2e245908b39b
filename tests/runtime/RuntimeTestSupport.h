// Helpers of the runtime tests: programs of a few ops executed on tensors, hand-made packages,
// and the numerical check of a lowering: convert -> write -> read back -> execute -> compare with
// LibTorch.
#pragma once

#include "Converter.h"
#include "backend/ModelReader.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/Executor.h"
#include "verify/Verification.h"

#include <ts2coreml/Builder.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::test {

/// A fresh directory under the build tree, removed when the object goes.
class TempDir {
public:
    explicit TempDir(const std::string& name);
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// A constant holding a copy of `t` (its dtype: fp32, fp16, int32, bool, ...).
mil::Value* constantOf(mil::Builder& b, const at::Tensor& t);

/// Builds `main` with one input per tensor (x0, x1, ...; their dtypes and sizes), lets `body` emit
/// ops and return the outputs, then executes it on the tensors. Ops are schema-checked by the
/// builder at `target`.
using ProgramBody = std::function<std::vector<mil::Value*>(mil::Builder&, const std::vector<mil::Value*>&)>;
std::vector<at::Tensor> runProgram(const std::vector<at::Tensor>& inputs, const ProgramBody& body,
                                   Target target = Target::iOS18);
/// The same for a single output.
at::Tensor runOp(const std::vector<at::Tensor>& inputs,
                 const std::function<mil::Value*(mil::Builder&, const std::vector<mil::Value*>&)>& body,
                 Target target = Target::iOS18);

/// True when the tensors have one shape and agree within atol + rtol * |b|, elementwise.
bool close(const at::Tensor& a, const at::Tensor& b, double atol = 1e-5, double rtol = 1e-5);
/// "[[1, 2], [3, 4]]"-style text for failure messages.
std::string text(const at::Tensor& t);

// ---- blob storage and packages made by hand ------------------------------------------------------

/// A weight.bin built in memory: header, then each blob's 64-byte metadata record and data.
class BlobFileBuilder {
public:
    BlobFileBuilder();
    /// Appends a blob and returns the offset of its metadata record.
    uint64_t add(uint32_t dtypeCode, const void* data, size_t bytes);
    uint64_t add(const at::Tensor& t);  ///< fp32, fp16, int8, uint8, int16, int32
    std::string bytes() const;

private:
    std::string bytes_;
    uint32_t count_ = 0;
};

/// Writes an .mlpackage whose model.mlmodel is `serializedModel` (a spec::Model's bytes) and whose
/// weights/weight.bin holds `weights` (omitted when empty).
void writeRawPackage(const std::filesystem::path& dir, const std::string& serializedModel, const std::string& weights);

// ---- numerical check of lowerings ----------------------------------------------------------------

struct NumericalOptions {
    Precision precision = Precision::Float32;
    Target target = Target::iOS15;
    const LoweringRegistry* registry = nullptr;  ///< null: the built-ins
    uint64_t seed = 0;
    std::optional<verify::Tolerance> tolerance;  ///< default by precision
    /// The inputs to feed, instead of seeded random ones of the case's sizes.
    std::vector<at::Tensor> feed;
    /// NeuralNetwork: written as an .mlmodel of layers (fp32, the target raised as layers need).
    ModelFormat format = ModelFormat::MLProgram;
    /// Reference kernels of the model's custom layers, by class name.
    const runtime::CustomLayerKernels* customKernels = nullptr;
};

struct NumericalResult {
    std::vector<verify::OutputComparison> outputs;
    bool pass = false;
    std::string report;  ///< one line per output
};

/// Converts the module `source` defines (inputs as the case declares them), writes it as an
/// .mlpackage, reads it back, executes it on seeded random inputs of the case's sizes and compares
/// every output with LibTorch's forward on the same inputs. Throws when a step fails.
NumericalResult convertAndCompare(const std::string& name, const std::string& source,
                                  const std::vector<TestInput>& inputs, const NumericalOptions& options = {});

/// doctest checks of convertAndCompare for one lowering case: the hook a family's case table is
/// checked numerically through (checkAllNumerics(kCases)).
void checkNumerics(const LoweringCase& c, const NumericalOptions& options = {});
inline void checkAllNumerics(const std::vector<LoweringCase>& cases, const NumericalOptions& options = {}) {
    for (const auto& c : cases) checkNumerics(c, options);
}

}  // namespace ts2coreml::test
