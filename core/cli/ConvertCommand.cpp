#include "Converter.h"
#include "InputSpec.h"
#include "cli/Commands.h"
#include "cli/Worker.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

namespace po = boost::program_options;

namespace ts2coreml::cli {

namespace {
void printDiagnostics(const ConversionError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << "\n";
    if (e.diagnostics().size() > 1) std::cerr << e.diagnostics().size() << " errors\n";
}

}  // namespace

int convertCommand(const std::vector<std::string>& args) {
    po::options_description opts(
        "usage: ts2coreml convert MODEL.pt -o OUT.mlpackage|OUT.mlmodel [options]\n\n"
        "Converts a TorchScript model (torch.jit.trace or torch.jit.script) to Core ML: an ML Program\n"
        "(.mlpackage, iOS15+) or NeuralNetwork layers (.mlmodel, iOS13+), chosen by the extension.\n\noptions");
    std::string model, output, precision, target, format, classLabels, previewType, previewLabels;
    std::vector<std::string> outputs, metadata, unusedSpecs;
    RegistryOptions registryOptions;
    ConvertOptions options;
    opts.add_options()("help,h", "show this help")(
        "output-file,o", po::value(&output),
        "the model to write: OUT.mlpackage (ML Program) or OUT.mlmodel (NeuralNetwork)")(
        "format", po::value(&format), "mlprogram or neuralnetwork (default: by the output's extension)")(
        "input", po::value(&unusedSpecs)->composing(),
        "NAME:D1,D2,...[:dtype] — one per forward() argument, in order; a dim may be a range lo..hi (hi may be "
        "omitted: unbounded), or the shape a list of the only shapes accepted, S1|S2|...; dtype fp32 (default), "
        "fp16, int32 (torch's int64 becomes int32), bool")(
        "image", po::value(&unusedSpecs)->composing(),
        "NAME:1,C,H,W:scale=S:bias=B1,B2,B3[:rgb|bgr|gray] — a forward() argument declared as an image (pixels "
        "0..255); the model receives pixel * S + B[channel]. Takes the argument's place among the --input flags")(
        "output", po::value(&outputs)->multitoken()->composing(),
        "names of the model outputs, in order (default output_0, ...)")(
        "target", po::value(&target),
        "minimum deployment target: iOS13..iOS18 (or macOS10_15..macOS15); default iOS15 for .mlpackage, and for "
        ".mlmodel the lowest its layers allow (iOS13 unless a layer needs iOS14)")(
        "precision", po::value(&precision),
        "fp16 or fp32. ML Program: compute precision (default fp16, as Apple's tool). NeuralNetwork: weight "
        "storage (default fp32; computation is fp32 either way)")(
        "class-labels", po::value(&classLabels),
        "FILE: one label per line, or a JSON list — the model becomes a classifier with a predicted-label output "
        "(classLabel) and a label -> probability output")(
        "preview", po::value(&previewType),
        "Xcode preview type, e.g. imageSegmenter, imageClassifier, depthEstimation")(
        "labels", po::value(&previewLabels),
        "FILE: the preview's labels (one per line, or a JSON list), e.g. for imageSegmenter")(
        "author", po::value(&options.model.metadata.author), "model author")(
        "license", po::value(&options.model.metadata.license), "model license")(
        "description", po::value(&options.model.metadata.shortDescription), "short description")(
        "version", po::value(&options.model.metadata.version), "model version string")(
        "metadata", po::value(&metadata)->composing(), "KEY=VALUE user-defined metadata (repeatable)");
    addRegistryOptions(opts, registryOptions);
    po::options_description hidden;
    hidden.add_options()("model", po::value(&model));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("model", 1);
    po::variables_map vm;
    po::parsed_options parsed(&all);
    if (auto exitCode = parseCommandLine("convert", args, opts, all, pos, vm, &parsed)) return *exitCode;
    std::vector<std::string> problems;
    if (model.empty()) problems.push_back("missing MODEL.pt");
    if (output.empty()) problems.push_back("missing -o OUT.mlpackage or OUT.mlmodel");
    checkRegistryOptions(registryOptions, problems);
    // --input and --image bind forward()'s arguments in the order they are given.
    for (const auto& o : parsed.options) {
        if (o.string_key != "input" && o.string_key != "image") continue;
        for (const auto& spec : o.value) {
            try {
                if (o.string_key == "input") {
                    options.inputs.push_back(parseInputSpec(spec));
                } else {
                    auto [input, image] = parseImageSpec(spec);
                    options.inputs.push_back(input);
                    options.model.images.push_back(image);
                }
            } catch (const std::exception& e) {
                problems.push_back(e.what());
            }
        }
    }
    if (!target.empty()) {
        if (auto t = parseTarget(target))
            options.target = *t;
        else
            problems.push_back("--target '" + target + "': expected iOS13..iOS18 or macOS10_15..macOS15");
    }
    if (precision == "fp16")
        options.precision = Precision::Float16;
    else if (precision == "fp32")
        options.precision = Precision::Float32;
    else if (!precision.empty())
        problems.push_back("--precision '" + precision + "': expected fp16 or fp32");
    if (format == "mlprogram")
        options.format = ModelFormat::MLProgram;
    else if (format == "neuralnetwork")
        options.format = ModelFormat::NeuralNetwork;
    else if (!format.empty())
        problems.push_back("--format '" + format + "': expected mlprogram or neuralnetwork");
    for (const auto& kv : metadata) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
            problems.push_back("--metadata '" + kv + "': expected KEY=VALUE");
        else
            options.model.metadata.userDefined[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (!classLabels.empty()) options.model.classLabels = readLabels(classLabels, "--class-labels", problems);
    if (!previewLabels.empty() && previewType.empty()) problems.push_back("--labels needs --preview TYPE");
    if (!previewType.empty()) {
        options.model.metadata.userDefined[kPreviewTypeKey] = previewType;
        if (!previewLabels.empty()) {
            const auto labels = readLabels(previewLabels, "--labels", problems);
            options.model.metadata.userDefined[kPreviewParamsKey] = nlohmann::json{{"labels", labels}}.dump();
        }
    }
    // The model and the output are checked with the other arguments too.
    if (!model.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(model, ec))
            problems.push_back(model + ": cannot open model: no such file");
    }
    if (!output.empty()) {
        ConvertOptions where = options;
        where.modelPath = model;
        where.outputPath = output;
        for (auto& p : outputPathProblems(where)) problems.push_back(std::move(p));
    }
    options.modelPath = model;
    options.outputPath = output;
    options.outputNames = outputs;
    // From here on plugins run: in a worker, so that one that crashes is reported (cli/Worker.h).
    return runInWorker("convert", output, [&](WorkerReport& report) {
        // Composite files are checked with the other arguments, so one run reports every problem.
        LoweringRegistry registry =
            hostRegistry(registryOptions, problems, [&](const std::string& file) { report.loadingPlugin(file); });
        if (!problems.empty()) {
            printProblems("convert", problems);
            return 2;
        }
        options.onPhase = [&](const std::string& phase) { report.phase(phase); };
        options.onLowering = [&](const LoweringStep& step) { report.lowering(step); };
        try {
            ConversionSummary s = convertModel(options, registry);
            report.finished();
            for (const auto& w : s.warnings) std::cerr << w.str() << "\n";
            const bool nn = s.format == ModelFormat::NeuralNetwork;
            std::cout << "wrote " << output << " (" << (nn ? "NeuralNetwork" : "ML Program") << ", "
                      << targetName(s.target) << "): " << s.operations << (nn ? " layers " : " ops, ");
            if (!nn) std::cout << s.blobs << " weight blobs ";
            std::cout << "(" << s.weightBytes / 1024 << " KiB of weights); load " << s.loadSeconds << " s, lower "
                      << s.lowerSeconds << " s, write " << s.writeSeconds << " s\n";
            return 0;
        } catch (const ConversionError& e) {
            report.phase("reporting the errors");
            printDiagnostics(e);
            return e.exitCode();
        }
    });
}

}  // namespace ts2coreml::cli
