#include "Converter.h"
#include "cli/Commands.h"
#include "frontend/InputSpec.h"

#include <boost/program_options.hpp>

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
        "usage: ts2coreml convert MODEL.pt -o OUT.mlpackage [options]\n\n"
        "Converts a TorchScript model (torch.jit.trace or torch.jit.script) to Core ML.\n\noptions");
    std::string model, output, precision = "fp16", target = "iOS15";
    std::vector<std::string> inputs, outputs, metadata, pluginPaths;
    ConvertOptions options;
    opts.add_options()
        ("help,h", "show this help")
        ("output-file,o", po::value(&output), "the model to write: OUT.mlpackage (ML Program)")
        ("input", po::value(&inputs)->composing(),
         "NAME:D1,D2,...[:dtype] — one per forward() argument, in order; a dim may be a range lo..hi; "
         "dtype fp32 (default), fp16, int32, bool")
        ("output", po::value(&outputs)->multitoken()->composing(), "names of the model outputs, in order (default output_0, ...)")
        ("target", po::value(&target), "minimum deployment target: iOS15..iOS18 (or macOS12..macOS15); default iOS15")
        ("precision", po::value(&precision), "ML Program compute precision: fp16 (default, as Apple's tool) or fp32")
        ("author", po::value(&options.model.metadata.author), "model author")
        ("license", po::value(&options.model.metadata.license), "model license")
        ("description", po::value(&options.model.metadata.shortDescription), "short description")
        ("version", po::value(&options.model.metadata.version), "model version string")
        ("metadata", po::value(&metadata)->composing(), "KEY=VALUE user-defined metadata (repeatable)");
    addPluginOptions(opts, pluginPaths);
    po::options_description hidden;
    hidden.add_options()("model", po::value(&model));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("model", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "ts2coreml convert: error: " << e.what() << "\n";
        return 2;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return 0;
    }
    std::vector<std::string> problems;
    if (model.empty()) problems.push_back("missing MODEL.pt");
    if (output.empty()) problems.push_back("missing -o OUT.mlpackage");
    checkPluginPaths(pluginPaths, problems);
    for (const auto& spec : inputs) {
        try {
            options.inputs.push_back(parseInputSpec(spec));
        } catch (const std::exception& e) {
            problems.push_back(e.what());
        }
    }
    if (auto t = parseTarget(target)) options.model.target = *t;
    else problems.push_back("--target '" + target + "': expected iOS15..iOS18 or macOS12..macOS15");
    if (precision == "fp16") options.precision = Precision::Float16;
    else if (precision == "fp32") options.precision = Precision::Float32;
    else problems.push_back("--precision '" + precision + "': expected fp16 or fp32");
    for (const auto& kv : metadata) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) problems.push_back("--metadata '" + kv + "': expected KEY=VALUE");
        else options.model.metadata.userDefined[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (!problems.empty()) {
        for (const auto& p : problems) std::cerr << "ts2coreml convert: error: " << p << "\n";
        return 2;
    }
    options.modelPath = model;
    options.outputPath = output;
    options.outputNames = outputs;
    try {
        LoweringRegistry registry = hostRegistry(pluginPaths);
        ConversionSummary s = convertModel(options, registry);
        std::cout << "wrote " << output << ": " << s.operations << " ops, " << s.blobs << " weight blobs ("
                  << s.weightBytes / 1024 << " KiB); load " << s.loadSeconds << " s, lower " << s.lowerSeconds
                  << " s, write " << s.writeSeconds << " s\n";
        return 0;
    } catch (const ConversionError& e) {
        printDiagnostics(e);
        return e.exitCode();
    }
}

}  // namespace ts2coreml::cli
