// `ts2coreml verify MODEL.pt OUT`: reads the written model back from its files, runs it with the
// reference executor and compares every output with LibTorch's forward on the same inputs.
#include "cli/Commands.h"
#include "frontend/Frontend.h"
#include "frontend/InputSpec.h"
#include "runtime/CustomLayerCheck.h"
#include "runtime/Executor.h"
#include "runtime/ModelReader.h"
#include "runtime/Npy.h"
#include "runtime/Verification.h"

#include <boost/filesystem.hpp>
#include <boost/program_options.hpp>

#include <torch/script.h>
#include <torch/serialize.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace po = boost::program_options;
namespace fs = boost::filesystem;

namespace ts2coreml::cli {

namespace {

std::string shapeText(const std::vector<int64_t>& sizes) {
    std::string s = "[";
    for (size_t i = 0; i < sizes.size(); ++i) s += (i ? "," : "") + std::to_string(sizes[i]);
    return s + "]";
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

// A tensor from FILE: NumPy .npy, or a tensor saved with torch.save (.pt).
at::Tensor readTensorFile(const std::string& path) {
    if (fs::path(path).extension() == ".npy") return runtime::readNpy(path);
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

/// `    label: 1 2 3` for a short 1-D integer output (generated token ids are worth seeing).
void printIntegers(const std::string& label, const at::Tensor& t) {
    if (t.dim() != 1 || t.numel() > 64) return;
    std::cout << "    " << label << ":";
    for (int64_t k = 0; k < t.numel(); ++k) std::cout << " " << t[k].item<int64_t>();
    std::cout << "\n";
}

/// Prints one comparison as "  PASS label [shape]  max abs err ..." (stdout), and when it fails
/// the reason, naming `what`, on stderr. Returns whether it passed.
/// Integer results (compared exactly) print their values when short: `actual` (and `reference`
/// when they differ).
bool report(const std::string& indent, const std::string& label, const std::string& what,
            const runtime::OutputComparison& c, const runtime::Tolerance& tol, const at::Tensor& actual,
            const at::Tensor& reference) {
    std::cout << indent << (c.pass ? "PASS " : "FAIL ") << label << " " << shapeText(c.shape);
    if (c.exact)
        std::cout << "  integers, compared exactly";
    else
        std::cout << "  max abs err " << number(c.maxAbsError) << ", max rel err " << number(c.maxRelError)
                  << " (scale " << number(c.scale) << ")";
    if (!c.problem.empty()) std::cout << ": " << c.problem;
    std::cout << "\n";
    if (c.exact) {
        printIntegers(c.pass ? "values" : "Core ML", actual);
        if (!c.pass) printIntegers("LibTorch", reference);
    }
    if (!c.pass && c.exact)
        std::cerr << "ts2coreml verify: FAIL: " << what << ": " << c.problem << "\n";
    else if (!c.pass)
        std::cerr << "ts2coreml verify: FAIL: " << what << ": max abs err " << number(c.maxAbsError) << " > atol "
                  << number(tol.atol) << " + rtol " << number(tol.rtol) << " * scale " << number(c.scale)
                  << (c.problem.empty() ? "" : " (" + c.problem + ")") << "\n";
    return c.pass;
}

std::string describeLayer(const mil::Operation& op, const runtime::TorchCustomLayerInputs* torch) {
    std::string s = "custom layer '" + op.output()->name() + "' (class " + op.customLayer()->className;
    if (torch) s += ", torch " + torch->torchOp + (torch->location.empty() ? "" : " at " + torch->location);
    return s + ")";
}

/// What verify found for the custom layers of a model.
struct CustomLayerSummary {
    bool allPass = true;                         ///< every input compared passed
    std::vector<const mil::Operation*> skipped;  ///< the custom layers, none executed (no kernels)
    std::vector<std::string> problems;           ///< why inputs could not be compared (exit 2)
};

/// The target the conversion lowered at: a NeuralNetwork is lowered with the MIL base ops (iOS15).
Target loweringTarget(const runtime::ReadModel& read) {
    const int index =
        std::clamp(read.specificationVersion - specificationVersion(Target::iOS13), 0, static_cast<int>(Target::iOS18));
    return std::max(static_cast<Target>(index), Target::iOS15);
}

/// Compares, for each custom layer the executor stopped at (`reached`: its op -> the values
/// feeding it), those values with LibTorch's values of the inputs of the torch op it came from,
/// and prints one line per layer and per input.
CustomLayerSummary compareCustomLayers(const runtime::ReadModel& read, const std::string& model,
                                       const LoweringRegistry& registry, const std::vector<at::Tensor>& referenceInputs,
                                       const std::map<const mil::Operation*, std::vector<at::Tensor>>& reached,
                                       const runtime::Tolerance& tol) {
    CustomLayerSummary summary;
    summary.skipped = runtime::customLayerOps(*read.program);
    if (summary.skipped.empty()) return summary;
    std::vector<runtime::TorchCustomLayerInputs> torch;
    std::string why;
    try {
        FrontendOptions fe;
        for (const auto& v : read.program->main().body.inputs()) fe.inputs.push_back({v->name(), v->type()});
        fe.target = loweringTarget(read);
        fe.modelPath = model;
        torch = runtime::torchCustomLayerInputs(model, fe, registry, referenceInputs);
        if (torch.size() != summary.skipped.size())
            why = model + " lowers to " + std::to_string(torch.size()) + " custom layers, the converted model holds " +
                  std::to_string(summary.skipped.size()) +
                  ": was it converted from this model with these plugins and composite files? (give verify the "
                  "--plugin-path and --ops the conversion used)";
        for (size_t k = 0; why.empty() && k < torch.size(); ++k) {
            const mil::Operation& op = *summary.skipped[k];
            if (torch[k].className != op.customLayer()->className ||
                torch[k].inputs.size() != op.inputList("inputs")->size())
                why = describeLayer(op, nullptr) + " does not match custom layer " + std::to_string(k) + " of " +
                      model + " (class " + torch[k].className + ", " + std::to_string(torch[k].inputs.size()) +
                      " inputs)";
        }
    } catch (const ConversionError& e) {
        why = "cannot lower " + model +
              " again to find the torch ops of its custom layers: " + e.diagnostics().front().str() +
              " (give verify the --plugin-path the conversion used)";
    } catch (const std::exception& e) {
        why = e.what();
    }
    if (!why.empty()) {
        torch.clear();
        summary.problems.push_back(why);
    }

    for (size_t k = 0; k < summary.skipped.size(); ++k) {
        const mil::Operation& op = *summary.skipped[k];
        const runtime::TorchCustomLayerInputs* t = torch.empty() ? nullptr : &torch[k];
        const auto& inputs = *op.inputList("inputs");
        std::cout << "  " << describeLayer(op, t) << ": no reference kernel; ";
        auto it = reached.find(&op);
        if (it == reached.end()) {
            std::cout << "its inputs are computed from another custom layer: not compared\n";
            continue;
        }
        if (!t) {
            std::cout << "its torch op is unknown: its inputs are not compared\n";
            continue;
        }
        std::cout << "compared its inputs instead\n";
        for (size_t i = 0; i < inputs.size(); ++i) {
            const std::string& name = inputs[i]->name();
            if (!t->inputs[i]) {
                std::cout << "    NOT COMPARED input " << name
                          << ": the lowering computed it (no torch value is this input)\n";
                continue;
            }
            const runtime::OutputComparison c = runtime::compareOutput(name, *t->inputs[i], it->second.at(i), tol);
            summary.allPass = report("    ", "input " + name, describeLayer(op, t) + " input " + name, c, tol,
                                     it->second.at(i), *t->inputs[i]) &&
                              summary.allPass;
        }
    }
    return summary;
}

struct Timer {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); }
};

}  // namespace

int verifyCommand(const std::vector<std::string>& args) {
    po::options_description opts(
        "usage: ts2coreml verify MODEL.pt OUT.mlpackage|OUT.mlmodel [options]\n\n"
        "Reads OUT back from its files, runs it on the CPU with ts2coreml's reference executor and compares\n"
        "each output with LibTorch's forward of MODEL.pt on the same inputs. An output passes when\n"
        "  max|torch - coreml| <= atol + rtol * max|torch|.\n"
        "Default tolerances: fp32 programs atol 1e-4, rtol 1e-4; fp16 programs (any fp16 value in the\n"
        "program, e.g. --precision fp16) atol 1e-3, rtol 3e-2 — fp16 rounds every op to an 11-bit\n"
        "significand (2^-11 = 4.9e-4), and ~50 layers of such roundings add up to ~2.4e-2 of the output scale.\n"
        "Custom layers (an .mlmodel's app-implemented layers) have no reference kernel: verify compares the\n"
        "values feeding each custom layer with LibTorch's values of the inputs of the torch op it was lowered\n"
        "from (it lowers MODEL.pt again to find that op: give it the --plugin-path the conversion used), and\n"
        "reports the outputs computed from a custom layer as NOT COMPARED.\n"
        "Exit 0 when everything compared passes (the last line then says what was not compared), 1 on a\n"
        "numerical mismatch, 2 on bad input (also when a custom layer's torch op cannot be found: the last\n"
        "line then says INCOMPLETE).\n\noptions");
    std::string model, package, dump;
    std::vector<std::string> inputSpecs, inputFiles, torchLibraries;
    RegistryOptions registryOptions;
    double atol = -1, rtol = -1;
    uint64_t seed = 0;
    opts.add_options()("help,h", "show this help")(
        "input", po::value(&inputSpecs)->composing(),
        "NAME:D1,D2,... — the sizes to use for an input (needed only where the model's input is flexible: "
        "a flexible dim defaults to its lower bound, enumerated shapes to the first one)")(
        "input-file", po::value(&inputFiles)->composing(),
        "NAME=FILE.npy|FILE.pt — the values of an input, instead of random ones")(
        "atol", po::value(&atol), "absolute tolerance (default 1e-4; 1e-3 for fp16 programs)")(
        "rtol", po::value(&rtol),
        "tolerance relative to each output's scale, max|torch| (default 1e-4; 3e-2 for fp16)")(
        "seed", po::value(&seed), "seed of the random inputs (default 0)")(
        "dump", po::value(&dump),
        "DIR: write inputs and both sides' outputs as .npy (NAME.torch.npy, NAME.coreml.npy)")(
        "torch-library", po::value(&torchLibraries)->composing(),
        "FILE.so: a library implementing custom torch ops the model calls (loaded before the model; repeatable)");
    addRegistryOptions(opts, registryOptions);
    po::options_description hidden;
    hidden.add_options()("model", po::value(&model))("package", po::value(&package));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("model", 1).add("package", 1);
    po::variables_map vm;
    if (auto exitCode = parseCommandLine("verify", args, opts, all, pos, vm)) return *exitCode;
    std::vector<std::string> problems;
    if (model.empty()) problems.push_back("missing MODEL.pt");
    if (package.empty()) problems.push_back("missing OUT.mlpackage");
    if (vm.count("atol") && !(atol >= 0)) problems.push_back("--atol must be >= 0");
    if (vm.count("rtol") && !(rtol >= 0)) problems.push_back("--rtol must be >= 0");
    std::map<std::string, std::vector<int64_t>> sizeOverrides;
    for (const auto& spec : inputSpecs) {
        try {
            ModelInput in = parseInputSpec(spec);
            std::vector<int64_t> sizes;
            for (const Dim& d : in.type.shape) {
                if (!d.isStatic())
                    throw std::invalid_argument("--input '" + spec + "': verify needs concrete sizes, not ranges");
                sizes.push_back(d.size);
            }
            sizeOverrides[in.name] = sizes;
        } catch (const std::exception& e) {
            problems.push_back(e.what());
        }
    }
    std::map<std::string, std::string> fileOf;
    for (const auto& kv : inputFiles) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
            problems.push_back("--input-file '" + kv + "': expected NAME=FILE");
        else
            fileOf[kv.substr(0, eq)] = kv.substr(eq + 1);
    }

    // Both sides are read before anything runs, so every problem with the files is told at once.
    runtime::ReadModel read;
    if (!package.empty()) {
        try {
            read = runtime::readModel(package);
        } catch (const std::exception& e) {
            problems.push_back(e.what());
        }
    }
    // Kernel libraries first: a plugin declaring the same op then finds it already defined.
    loadTorchLibraries(torchLibraries, problems);
    checkRegistryOptions(registryOptions, problems);
    torch::jit::Module module;
    std::optional<LoweringRegistry> registry;  // lowers the model again to find its custom layers' torch ops
    if (!model.empty()) {
        try {
            registry.emplace(hostRegistry(registryOptions,
                                          problems));  // also declares the custom torch ops of plugins and composites
            module = loadModule(model);
            module.eval();
        } catch (const ConversionError& e) {
            for (const auto& d : e.diagnostics()) problems.push_back(d.location + ": " + d.message);
        } catch (const std::exception& e) {
            problems.push_back(model + ": cannot load: " + e.what());
        }
    }

    std::vector<at::Tensor> referenceInputs;
    std::vector<std::string> imageNotes;
    std::map<std::string, at::Tensor> executorInputs;
    if (read.program) {
        const auto& fnInputs = read.program->main().body.inputs();
        for (const auto& [name, _] : sizeOverrides) {
            bool known = false;
            for (const auto& v : fnInputs) known = known || v->name() == name;
            if (!known) problems.push_back("--input " + name + ": the model has no input of that name");
        }
        for (const auto& [name, _] : fileOf) {
            bool known = false;
            for (const auto& v : fnInputs) known = known || v->name() == name;
            if (!known) problems.push_back("--input-file " + name + ": the model has no input of that name");
        }
        at::Generator gen = at::detail::createCPUGenerator(seed);
        for (const auto& v : fnInputs) {
            try {
                at::Tensor t;
                if (auto f = fileOf.find(v->name()); f != fileOf.end()) {
                    t = readTensorFile(f->second);
                    std::vector<int64_t> sizes(t.sizes().begin(), t.sizes().end());
                    runtime::concreteSizes(*v, &sizes);  // checks the file's shape against the input
                } else {
                    auto o = sizeOverrides.find(v->name());
                    const std::vector<int64_t>* sizes = o == sizeOverrides.end() ? nullptr : &o->second;
                    // An input with enumerated shapes takes one of them: the first (its default) unless told.
                    for (const auto& f : read.inputs)
                        if (f.name == v->name() && !f.isImage && !f.enumeratedShapes.empty())
                            sizes = &runtime::enumeratedShape(f, sizes);
                    t = runtime::randomInput(v->type(), runtime::concreteSizes(*v, sizes), gen);
                }
                executorInputs[v->name()] = t;
                // An image input takes pixels: random ones are integers in 0..255, and LibTorch's
                // forward receives them preprocessed as the model declares.
                const runtime::FeatureInfo* image = nullptr;
                for (const auto& f : read.inputs)
                    if (f.name == v->name() && f.isImage) image = &f;
                if (image) {
                    if (!fileOf.count(v->name())) {
                        t = at::randint(0, 256, t.sizes(), gen, at::TensorOptions().dtype(at::kFloat));
                        executorInputs[v->name()] = t;
                    }
                    if (image->preprocessing) {
                        const auto& pre = *image->preprocessing;
                        std::vector<float> bias(pre.bias.begin(), pre.bias.end());
                        at::Tensor b = at::tensor(bias).view({1, static_cast<int64_t>(bias.size()), 1, 1});
                        t = t.to(at::kFloat) * pre.scale + b;
                        imageNotes.push_back("  image input " + v->name() + " (" + image->colorSpace +
                                             "): pixels 0..255; LibTorch receives pixel * " + number(pre.scale) +
                                             " + bias " + number(pre.bias.front()) +
                                             (bias.size() > 1 ? ".." + number(pre.bias.back()) : "") + "\n");
                    }
                }
                referenceInputs.push_back(t);
            } catch (const std::exception& e) {
                problems.push_back(e.what());
            }
        }
    }
    if (!problems.empty()) {
        printProblems("verify", problems);
        return 2;
    }

    // fp16 weights of a NeuralNetwork model are rounded as an fp16 program's are.
    const bool fp16 = runtime::usesFloat16(*read.program) || read.fp16Weights;
    runtime::Tolerance tol = fp16 ? runtime::fp16Tolerance() : runtime::fp32Tolerance();
    if (vm.count("atol")) tol.atol = atol;
    if (vm.count("rtol")) tol.rtol = rtol;

    std::vector<at::Tensor> reference, actual;
    Timer torchTimer;
    try {
        reference = runtime::runReference(module, referenceInputs);
    } catch (const std::exception& e) {
        const std::string what = e.what();
        // "Could not run 'mylib::op' with arguments from the 'CPU' backend": declared, no kernel.
        const size_t noKernel = what.find("Could not run '");
        std::cerr << "ts2coreml verify: error: " << model << ": LibTorch's forward failed on the inputs: ";
        if (noKernel != std::string::npos) {
            const size_t start = noKernel + 15, end = what.find('\'', start);
            std::cerr << "no kernel for '" << what.substr(start, end - start)
                      << "' (an op a plugin declares): give its library with --torch-library FILE.so";
        } else {
            std::cerr << what.substr(0, what.find('\n'));
        }
        std::cerr << "\n";
        return 2;
    }
    const double torchSeconds = torchTimer.seconds();
    Timer coremlTimer;
    // Custom layers have no kernel: the run stops at each, keeping the values that feed it.
    std::map<const mil::Operation*, std::vector<at::Tensor>> customInputs;
    runtime::ExecutionOptions execution;
    execution.onCustomLayerWithoutKernel = [&](const mil::Operation& op, const std::vector<at::Tensor>& inputs) {
        customInputs[&op] = inputs;
    };
    try {
        actual = runtime::execute(*read.program, executorInputs, execution);
    } catch (const std::invalid_argument& e) {
        std::cerr << "ts2coreml verify: error: " << package << ": " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "ts2coreml verify: error: " << package << ": cannot execute: " << e.what() << "\n";
        return 1;
    }
    const double coremlSeconds = coremlTimer.seconds();

    const auto& outNames = read.program->main().body.outputs();
    if (reference.size() != actual.size()) {
        std::cerr << "ts2coreml verify: FAIL: " << model << " returns " << reference.size() << " tensors, " << package
                  << " has " << actual.size() << " outputs\n";
        return 1;
    }

    if (!dump.empty()) {
        try {
            fs::create_directories(dump);
            for (const auto& v : read.program->main().body.inputs())
                runtime::writeNpy((fs::path(dump) / (v->name() + ".input.npy")).string(), executorInputs.at(v->name()));
            for (size_t i = 0; i < actual.size(); ++i) {
                const std::string& name = outNames[i]->name();
                runtime::writeNpy((fs::path(dump) / (name + ".torch.npy")).string(), reference[i]);
                if (actual[i].defined())
                    runtime::writeNpy((fs::path(dump) / (name + ".coreml.npy")).string(), actual[i]);
            }
        } catch (const std::exception& e) {
            std::cerr << "ts2coreml verify: error: --dump " << dump << ": " << e.what() << "\n";
            return 2;
        }
    }

    std::cout << "verify " << package << " against " << model << " (" << (fp16 ? "fp16" : "fp32") << " program; atol "
              << number(tol.atol) << ", rtol " << number(tol.rtol) << " of each output's scale)\n";
    for (const auto& note : imageNotes) std::cout << note;
    if (!read.classLabels.empty())
        std::cout << "  classifier with " << read.classLabels.size()
                  << " labels: comparing the probabilities it labels (classLabel is their arg max)\n";
    bool allPass = true;
    const CustomLayerSummary custom = compareCustomLayers(read, model, *registry, referenceInputs, customInputs, tol);
    allPass = custom.allPass;
    size_t notCompared = 0;
    for (size_t i = 0; i < actual.size(); ++i) {
        const std::string& name = outNames[i]->name();
        if (!actual[i].defined()) {
            ++notCompared;
            std::cout << "  NOT COMPARED output " << name << ": computed from";
            for (const mil::Operation* op : runtime::customLayersBehind(*outNames[i], custom.skipped))
                std::cout << " custom layer '" << op->output()->name() << "' (class " << op->customLayer()->className
                          << ")";
            std::cout << ", which has no reference kernel\n";
            continue;
        }
        allPass = report("  ", name, "output " + name, runtime::compareOutput(name, reference[i], actual[i], tol), tol,
                         actual[i], reference[i]) &&
                  allPass;
    }
    std::cout << "  LibTorch " << number(torchSeconds) << " s, reference executor " << number(coremlSeconds) << " s\n";
    // INCOMPLETE: nothing failed, but some custom layers' inputs could not be compared either.
    std::cout << (!allPass ? "FAIL" : custom.problems.empty() ? "PASS" : "INCOMPLETE");
    if (notCompared)
        std::cout << " (" << notCompared << " of " << actual.size()
                  << " outputs not compared: computed from custom layers"
                  << " without a reference kernel"
                  << (custom.problems.empty() ? "; their inputs were compared instead" : "") << ")";
    std::cout << "\n";
    if (!allPass) return 1;
    if (!custom.problems.empty()) {
        for (const auto& p : custom.problems) std::cerr << "ts2coreml verify: error: " << p << "\n";
        return 2;
    }
    return 0;
}

}  // namespace ts2coreml::cli
