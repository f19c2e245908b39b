// `verify` as a library: read the written model back from its files, synthesize (or load) its
// inputs, run LibTorch's forward and the reference executor on them, compare every output, and
// for custom layers (no reference kernel) compare the values feeding them with LibTorch's values
// of the torch op they were lowered from. The command line (core/cli/VerifyCommand.cpp) only
// parses options and prints the report.
#pragma once

#include "backend/ModelReader.h"
#include "registry/LoweringRegistry.h"
#include "verify/CustomLayerCheck.h"
#include "verify/Verification.h"

#include <ATen/ATen.h>
#include <torch/script.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ts2coreml::verify {

/// What to verify and with which inputs.
struct VerifyRequest {
    std::string modelPath;    ///< the TorchScript model
    std::string packagePath;  ///< the written .mlpackage or .mlmodel
    /// Concrete sizes of flexible inputs (default: a range's lower bound, the first enumerated shape).
    std::map<std::string, std::vector<int64_t>> sizes;
    /// Values of inputs from files (.npy, or a tensor saved with torch.save), instead of random ones.
    std::map<std::string, std::string> inputFiles;
    uint64_t seed = 0;
    std::optional<double> atol, rtol;  ///< default by precision (fp16 or fp32 program)
    std::string dumpDir;               ///< when set: inputs and both sides' outputs as .npy
};

/// A failure after the inputs were accepted: the message, and the exit code it deserves (1 for a
/// numerical or execution failure on valid input, 2 for bad input).
class VerifyError : public std::runtime_error {
public:
    VerifyError(const std::string& message, int exitCode, bool mismatch = false)
        : std::runtime_error(message), exitCode_(exitCode), mismatch_(mismatch) {}
    int exitCode() const { return exitCode_; }
    /// The two sides disagree (reported as FAIL), rather than one could not run (an error).
    bool mismatch() const { return mismatch_; }

private:
    int exitCode_;
    bool mismatch_;
};

/// One comparison: an output, or an input of a custom layer.
struct Compared {
    std::string label;  ///< "output_0", "input y_1"
    std::string what;   ///< what a failure names: "output output_0", "custom layer '...' input y_1"
    OutputComparison result;
    at::Tensor actual, reference;
};

/// What verify did at one custom layer of the model.
struct CustomLayerResult {
    const mil::Operation* op = nullptr;
    std::optional<TorchCustomLayerInputs> torch;  ///< its torch op, when found
    enum class Status { InputsCompared, FedByCustomLayer, TorchOpUnknown } status = Status::TorchOpUnknown;
    std::vector<Compared> inputs;             ///< when InputsCompared
    std::vector<std::string> computedInputs;  ///< inputs the lowering computed: no torch value is them
};

/// One output of the model: compared, or computed from custom layers without a kernel.
struct OutputResult {
    std::string name;
    std::optional<Compared> compared;
    std::vector<const mil::Operation*> behindCustomLayers;  ///< when not compared
};

struct VerifyReport {
    bool fp16 = false;  ///< an fp16 program (or fp16 NeuralNetwork weights): fp16 tolerances
    Tolerance tolerance;
    /// Per image input: its color space and preprocessing, as LibTorch receives the pixels.
    struct ImageNote {
        std::string name, colorSpace;
        backend::ImagePreprocessing preprocessing;
    };
    std::vector<ImageNote> images;
    size_t classLabels = 0;  ///< a classifier's label count
    std::vector<CustomLayerResult> customLayers;
    /// Why the custom layers' inputs could not be compared (verify then ends INCOMPLETE, exit 2).
    std::vector<std::string> customProblems;
    std::vector<OutputResult> outputs;
    double torchSeconds = 0, executorSeconds = 0;
    bool allPass = true;  ///< every comparison made passed
};

/// A custom layer described for messages: "custom layer 'y' (class C, torch aten::op at m.py:3:1)".
std::string describeCustomLayer(const mil::Operation& op, const TorchCustomLayerInputs* torch);

/// One verification, in the order the command line reports problems: the written model first,
/// then (after the caller has built the registry, whose plugins may declare the model's custom
/// ops) the TorchScript model and the inputs. Each step appends its problems to `problems` (all
/// of them, so one run tells every one; the caller exits 2 when there are any).
class Verification {
public:
    explicit Verification(VerifyRequest request) : request_(std::move(request)) {}

    /// Reads the written model back from its files.
    void readWrittenModel(std::vector<std::string>& problems);
    /// Loads the TorchScript model (eval mode).
    void loadTorchModel(std::vector<std::string>& problems);
    /// Checks --input / --input-file names against the model and makes every input: from a file,
    /// else seeded random values (an image input: pixels 0..255, preprocessed for LibTorch).
    void makeInputs(std::vector<std::string>& problems);

    /// Runs both sides and compares. `registry` lowers the model again to find the torch ops of
    /// custom layers. Throws VerifyError when a side cannot run or the outputs do not correspond.
    VerifyReport run(const LoweringRegistry& registry);

private:
    VerifyRequest request_;
    backend::ReadModel read_;
    torch::jit::Module module_;
    bool moduleLoaded_ = false;
    std::vector<at::Tensor> referenceInputs_;
    std::map<std::string, at::Tensor> executorInputs_;
    std::vector<VerifyReport::ImageNote> images_;
};

/// A tensor from FILE: NumPy .npy, or a tensor saved with torch.save (.pt).
at::Tensor readTensorFile(const std::string& path);

}  // namespace ts2coreml::verify
