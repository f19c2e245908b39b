#include "verify/Verify.h"

#include "frontend/Frontend.h"
#include "mil/ErrorReason.h"
#include "runtime/Executor.h"
#include "verify/Npy.h"

#include <torch/serialize.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

namespace ts2coreml::verify {

namespace {

struct Timer {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
};

/// The target the conversion lowered at: a NeuralNetwork is lowered with the MIL base ops (iOS15).
Target loweringTarget(const backend::ReadModel& read) {
    const int index =
        std::clamp(read.specificationVersion - specificationVersion(Target::iOS13), 0, static_cast<int>(Target::iOS18));
    return std::max(static_cast<Target>(index), Target::iOS15);
}

bool hasInput(const backend::ReadModel& read, const std::string& name) {
    for (const auto& v : read.program->main().body.inputs())
        if (v->name() == name) return true;
    return false;
}

/// Finds the torch op of every custom layer (`layers`, in program order) and, for those the executor
/// stopped at (`reached`: its op -> the values feeding it), compares those values with LibTorch's
/// values of that op's inputs.
void compareCustomLayers(const backend::ReadModel& read, const std::vector<const mil::Operation*>& layers,
                         const std::string& model, const LoweringRegistry& registry,
                         const std::vector<at::Tensor>& referenceInputs,
                         const std::map<const mil::Operation*, std::vector<at::Tensor>>& reached,
                         VerifyReport& report) {
    if (layers.empty()) return;
    std::vector<TorchCustomLayerInputs> torch;
    std::string why;
    try {
        FrontendOptions fe;
        for (const auto& v : read.program->main().body.inputs()) fe.inputs.push_back({v->name(), v->type()});
        fe.target = loweringTarget(read);
        fe.modelPath = model;
        torch = torchCustomLayerInputs(model, fe, registry, referenceInputs);
        if (torch.size() != layers.size())
            why = model + " lowers to " + std::to_string(torch.size()) + " custom layers, the converted model holds " +
                  std::to_string(layers.size()) +
                  ": was it converted from this model with these plugins and composite files? (give verify the "
                  "--plugin-path and --ops the conversion used)";
        for (size_t k = 0; why.empty() && k < torch.size(); ++k) {
            const mil::Operation& op = *layers[k];
            if (torch[k].className != op.customLayer()->className ||
                torch[k].inputs.size() != op.inputList("inputs")->size())
                why = describeCustomLayer(op, nullptr) + " does not match custom layer " + std::to_string(k) + " of " +
                      model + " (class " + torch[k].className + ", " + std::to_string(torch[k].inputs.size()) +
                      " inputs)";
        }
    } catch (const ConversionError& e) {
        why = "cannot lower " + model +
              " again to find the torch ops of its custom layers: " + e.diagnostics().front().str() +
              " (give verify the --plugin-path the conversion used)";
    } catch (const std::exception& e) {
        why = errorReason(e);
    }
    if (!why.empty()) {
        torch.clear();
        report.customProblems.push_back(why);
    }
    for (size_t k = 0; k < layers.size(); ++k) {
        CustomLayerResult result;
        result.op = layers[k];
        if (!torch.empty()) result.torch = torch[k];
        const auto& inputs = *layers[k]->inputList("inputs");
        auto it = reached.find(layers[k]);
        if (it == reached.end()) {
            result.status = CustomLayerResult::Status::FedByCustomLayer;
        } else if (!result.torch) {
            result.status = CustomLayerResult::Status::TorchOpUnknown;
        } else {
            result.status = CustomLayerResult::Status::InputsCompared;
            const std::string layer = describeCustomLayer(*layers[k], &*result.torch);
            for (size_t i = 0; i < inputs.size(); ++i) {
                const std::string& name = inputs[i]->name();
                const auto& value = result.torch->inputs[i];
                if (!value) {
                    result.computedInputs.push_back(name);
                    continue;
                }
                Compared c{"input " + name, layer + " input " + name,
                           compareOutput(name, *value, it->second.at(i), report.tolerance), it->second.at(i), *value};
                report.allPass = report.allPass && c.result.pass;
                result.inputs.push_back(std::move(c));
            }
        }
        report.customLayers.push_back(std::move(result));
    }
}

}  // namespace

std::string describeCustomLayer(const mil::Operation& op, const TorchCustomLayerInputs* torch) {
    std::string s = "custom layer '" + op.output()->name() + "' (class " + op.customLayer()->className;
    if (torch) s += ", torch " + torch->torchOp + (torch->location.empty() ? "" : " at " + torch->location);
    return s + ")";
}

at::Tensor readTensorFile(const std::string& path) {
    if (fs::path(path).extension() == ".npy") return readNpy(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    c10::IValue value;
    try {
        value = torch::pickle_load(bytes);
    } catch (const c10::Error& e) {
        throw std::runtime_error(path +
                                 ": not a tensor saved with torch.save or numpy.save: " + e.what_without_backtrace());
    }
    if (!value.isTensor()) throw std::runtime_error(path + ": holds a " + value.tagKind() + ", not a tensor");
    return value.toTensor();
}

void Verification::readWrittenModel(std::vector<std::string>& problems) {
    if (request_.packagePath.empty()) return;
    try {
        read_ = backend::readModel(request_.packagePath);
    } catch (const std::exception& e) {
        problems.push_back(errorReason(e));
    }
}

void Verification::loadTorchModel(std::vector<std::string>& problems) {
    if (request_.modelPath.empty()) return;
    try {
        module_ = loadModule(request_.modelPath);
        module_.eval();
        moduleLoaded_ = true;
    } catch (const ConversionError& e) {
        for (const auto& d : e.diagnostics()) problems.push_back(d.location + ": " + d.message);
    } catch (const std::exception& e) {
        problems.push_back(request_.modelPath + ": cannot load: " + errorReason(e));
    }
}

void Verification::makeInputs(std::vector<std::string>& problems) {
    if (!read_.program) return;
    for (const auto& [name, _] : request_.sizes)
        if (!hasInput(read_, name)) problems.push_back("--input " + name + ": the model has no input of that name");
    for (const auto& [name, _] : request_.inputFiles)
        if (!hasInput(read_, name))
            problems.push_back("--input-file " + name + ": the model has no input of that name");
    at::Generator gen = at::detail::createCPUGenerator(request_.seed);
    for (const auto& v : read_.program->main().body.inputs()) {
        try {
            at::Tensor t;
            const auto file = request_.inputFiles.find(v->name());
            if (file != request_.inputFiles.end()) {
                t = readTensorFile(file->second);
                std::vector<int64_t> sizes(t.sizes().begin(), t.sizes().end());
                concreteSizes(*v, &sizes);  // checks the file's shape against the input
            } else {
                auto o = request_.sizes.find(v->name());
                const std::vector<int64_t>* sizes = o == request_.sizes.end() ? nullptr : &o->second;
                // An input with enumerated shapes takes one of them: the first (its default) unless told.
                for (const auto& f : read_.inputs)
                    if (f.name == v->name() && !f.isImage && !f.enumeratedShapes.empty())
                        sizes = &enumeratedShape(f, sizes);
                t = randomInput(v->type(), concreteSizes(*v, sizes), gen);
            }
            executorInputs_[v->name()] = t;
            // An image input takes pixels: random ones are integers in 0..255, and LibTorch's
            // forward receives them preprocessed as the model declares.
            const backend::FeatureInfo* image = nullptr;
            for (const auto& f : read_.inputs)
                if (f.name == v->name() && f.isImage) image = &f;
            if (image) {
                if (file == request_.inputFiles.end()) {
                    t = at::randint(0, 256, t.sizes(), gen, at::TensorOptions().dtype(at::kFloat));
                    executorInputs_[v->name()] = t;
                }
                if (image->preprocessing) {
                    const auto& pre = *image->preprocessing;
                    std::vector<float> bias(pre.bias.begin(), pre.bias.end());
                    at::Tensor b = at::tensor(bias).view({1, static_cast<int64_t>(bias.size()), 1, 1});
                    t = t.to(at::kFloat) * pre.scale + b;
                    images_.push_back({v->name(), image->colorSpace, pre});
                }
            }
            referenceInputs_.push_back(t);
        } catch (const std::exception& e) {
            problems.push_back(errorReason(e));
        }
    }
}

VerifyReport Verification::run(const LoweringRegistry& registry) {
    if (!read_.program || !moduleLoaded_) throw VerifyError("nothing to verify: a side could not be read", 2);
    VerifyReport report;
    // fp16 weights of a NeuralNetwork model are rounded as an fp16 program's are.
    report.fp16 = usesFloat16(*read_.program) || read_.fp16Weights;
    report.tolerance = report.fp16 ? fp16Tolerance() : fp32Tolerance();
    if (request_.atol) report.tolerance.atol = *request_.atol;
    if (request_.rtol) report.tolerance.rtol = *request_.rtol;
    report.images = images_;
    report.classLabels = read_.classLabels.size();

    std::vector<at::Tensor> reference, actual;
    Timer torchTimer;
    try {
        reference = runReference(module_, referenceInputs_);
    } catch (const std::exception& e) {
        const std::string what = errorReason(e);
        std::string message = request_.modelPath + ": LibTorch's forward failed on the inputs: ";
        // "Could not run 'mylib::op' with arguments from the 'CPU' backend": declared, no kernel.
        const size_t noKernel = what.find("Could not run '");
        if (noKernel != std::string::npos) {
            const size_t start = noKernel + 15, end = what.find('\'', start);
            message += "no kernel for '" + what.substr(start, end - start) +
                       "' (an op a plugin declares): give its library with --torch-library FILE.so";
        } else {
            message += what.substr(0, what.find('\n'));
        }
        throw VerifyError(message, 2);
    }
    report.torchSeconds = torchTimer.seconds();

    Timer executorTimer;
    // Custom layers have no kernel: the run stops at each, keeping the values that feed it.
    std::map<const mil::Operation*, std::vector<at::Tensor>> customInputs;
    runtime::ExecutionOptions execution;
    execution.onCustomLayerWithoutKernel = [&](const mil::Operation& op, const std::vector<at::Tensor>& inputs) {
        customInputs[&op] = inputs;
    };
    try {
        actual = runtime::execute(*read_.program, executorInputs_, execution);
    } catch (const std::invalid_argument& e) {
        throw VerifyError(request_.packagePath + ": " + errorReason(e), 2);
    } catch (const std::exception& e) {
        throw VerifyError(request_.packagePath + ": cannot execute: " + errorReason(e), 1);
    }
    report.executorSeconds = executorTimer.seconds();

    const auto& outputs = read_.program->main().body.outputs();
    if (reference.size() != actual.size())
        throw VerifyError(request_.modelPath + " returns " + std::to_string(reference.size()) + " tensors, " +
                              request_.packagePath + " has " + std::to_string(actual.size()) + " outputs",
                          1, true);

    if (!request_.dumpDir.empty()) {
        try {
            const fs::path dir = request_.dumpDir;
            fs::create_directories(dir);
            for (const auto& v : read_.program->main().body.inputs())
                writeNpy((dir / (v->name() + ".input.npy")).string(), executorInputs_.at(v->name()));
            for (size_t i = 0; i < actual.size(); ++i) {
                const std::string& name = outputs[i]->name();
                writeNpy((dir / (name + ".torch.npy")).string(), reference[i]);
                if (actual[i].defined()) writeNpy((dir / (name + ".coreml.npy")).string(), actual[i]);
            }
        } catch (const std::exception& e) {
            throw VerifyError("--dump " + request_.dumpDir + ": " + errorReason(e), 2);
        }
    }

    const std::vector<const mil::Operation*> layers = customLayerOps(*read_.program);
    compareCustomLayers(read_, layers, request_.modelPath, registry, referenceInputs_, customInputs, report);
    for (size_t i = 0; i < actual.size(); ++i) {
        OutputResult out;
        out.name = outputs[i]->name();
        if (!actual[i].defined()) {
            out.behindCustomLayers = customLayersBehind(*outputs[i], layers);
        } else {
            out.compared =
                Compared{out.name, "output " + out.name,
                         compareOutput(out.name, reference[i], actual[i], report.tolerance), actual[i], reference[i]};
            report.allPass = report.allPass && out.compared->result.pass;
        }
        report.outputs.push_back(std::move(out));
    }
    return report;
}

}  // namespace ts2coreml::verify
