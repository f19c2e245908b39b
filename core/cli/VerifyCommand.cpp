// `ts2coreml verify MODEL.pt OUT`: options in, the report of core/verify (verify::Verification) out.
#include "InputSpec.h"
#include "cli/Commands.h"
#include "mil/ErrorReason.h"
#include "verify/Verify.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace po = boost::program_options;

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
            const verify::OutputComparison& c, const verify::Tolerance& tol, const at::Tensor& actual,
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

/// Prints what verify found at one custom layer, and its inputs' comparisons.
void printCustomLayer(const verify::CustomLayerResult& c, const verify::Tolerance& tol) {
    using Status = verify::CustomLayerResult::Status;
    std::cout << "  " << verify::describeCustomLayer(*c.op, c.torch ? &*c.torch : nullptr) << ": no reference kernel; ";
    if (c.status == Status::FedByCustomLayer) {
        std::cout << "its inputs are computed from another custom layer: not compared\n";
        return;
    }
    if (c.status == Status::TorchOpUnknown) {
        std::cout << "its torch op is unknown: its inputs are not compared\n";
        return;
    }
    std::cout << "compared its inputs instead\n";
    const auto& inputs = *c.op->inputList("inputs");
    size_t next = 0;
    for (const mil::Value* input : inputs) {
        const std::string& name = input->name();
        if (std::find(c.computedInputs.begin(), c.computedInputs.end(), name) != c.computedInputs.end()) {
            std::cout << "    NOT COMPARED input " << name
                      << ": the lowering computed it (no torch value is this input)\n";
            continue;
        }
        const verify::Compared& k = c.inputs.at(next++);
        report("    ", k.label, k.what, k.result, tol, k.actual, k.reference);
    }
}

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
    verify::VerifyRequest request;
    request.modelPath = model;
    request.packagePath = package;
    request.seed = seed;
    request.dumpDir = dump;
    if (vm.count("atol")) request.atol = atol;
    if (vm.count("rtol")) request.rtol = rtol;
    for (const auto& spec : inputSpecs) {
        try {
            ModelInput in = parseInputSpec(spec);
            std::vector<int64_t> sizes;
            for (const Dim& d : in.type.shape) {
                if (!d.isStatic())
                    throw std::invalid_argument("--input '" + spec + "': verify needs concrete sizes, not ranges");
                sizes.push_back(d.size);
            }
            request.sizes[in.name] = sizes;
        } catch (const std::exception& e) {
            problems.push_back(errorReason(e));
        }
    }
    for (const auto& kv : inputFiles) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
            problems.push_back("--input-file '" + kv + "': expected NAME=FILE");
        else
            request.inputFiles[kv.substr(0, eq)] = kv.substr(eq + 1);
    }

    // Both sides are read before anything runs, so every problem with the files is told at once.
    verify::Verification verification(request);
    verification.readWrittenModel(problems);
    // Kernel libraries first: a plugin declaring the same op then finds it already defined.
    loadTorchLibraries(torchLibraries, problems);
    checkRegistryOptions(registryOptions, problems);
    std::optional<LoweringRegistry> registry;  // lowers the model again to find its custom layers' torch ops
    if (!model.empty()) {
        // Also declares the custom torch ops of plugins and composites, which the model may call.
        registry.emplace(hostRegistry(registryOptions, problems));
        verification.loadTorchModel(problems);
    }
    verification.makeInputs(problems);
    if (!problems.empty()) {
        printProblems("verify", problems);
        return 2;
    }

    verify::VerifyReport r;
    try {
        r = verification.run(*registry);
    } catch (const verify::VerifyError& e) {
        std::cerr << "ts2coreml verify: " << (e.mismatch() ? "FAIL: " : "error: ") << e.what() << "\n";
        return e.exitCode();
    }

    const verify::Tolerance& tol = r.tolerance;
    std::cout << "verify " << package << " against " << model << " (" << (r.fp16 ? "fp16" : "fp32") << " program; atol "
              << number(tol.atol) << ", rtol " << number(tol.rtol) << " of each output's scale)\n";
    for (const auto& image : r.images) {
        const auto& pre = image.preprocessing;
        std::cout << "  image input " << image.name << " (" << image.colorSpace
                  << "): pixels 0..255; LibTorch receives pixel * " << number(pre.scale) << " + bias "
                  << number(pre.bias.front()) << (pre.bias.size() > 1 ? ".." + number(pre.bias.back()) : "") << "\n";
    }
    if (r.classLabels)
        std::cout << "  classifier with " << r.classLabels
                  << " labels: comparing the probabilities it labels (classLabel is their arg max)\n";
    for (const auto& c : r.customLayers) printCustomLayer(c, tol);
    size_t notCompared = 0;
    for (const auto& out : r.outputs) {
        if (!out.compared) {
            ++notCompared;
            std::cout << "  NOT COMPARED output " << out.name << ": computed from";
            for (const mil::Operation* op : out.behindCustomLayers)
                std::cout << " custom layer '" << op->output()->name() << "' (class " << op->customLayer()->className
                          << ")";
            std::cout << ", which has no reference kernel\n";
            continue;
        }
        const verify::Compared& k = *out.compared;
        report("  ", k.label, k.what, k.result, tol, k.actual, k.reference);
    }
    std::cout << "  LibTorch " << number(r.torchSeconds) << " s, reference executor " << number(r.executorSeconds)
              << " s\n";
    // INCOMPLETE: nothing failed, but some custom layers' inputs could not be compared either.
    std::cout << (!r.allPass ? "FAIL" : r.customProblems.empty() ? "PASS" : "INCOMPLETE");
    if (notCompared)
        std::cout << " (" << notCompared << " of " << r.outputs.size()
                  << " outputs not compared: computed from custom layers"
                  << " without a reference kernel"
                  << (r.customProblems.empty() ? "; their inputs were compared instead" : "") << ")";
    std::cout << "\n";
    if (!r.allPass) return 1;
    if (!r.customProblems.empty()) {
        for (const auto& p : r.customProblems) std::cerr << "ts2coreml verify: error: " << p << "\n";
        return 2;
    }
    return 0;
}

}  // namespace ts2coreml::cli
