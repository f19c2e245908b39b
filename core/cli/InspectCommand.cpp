#include "cli/Commands.h"
#include "runtime/ModelReader.h"

#include <iostream>
#include <map>

namespace ts2coreml::cli {

int inspectCommand(const std::vector<std::string>& args) {
    if (args.size() != 1 || args[0] == "--help" || args[0] == "-h") {
        std::cout << "usage: ts2coreml inspect OUT.mlpackage\n\nShows the model's inputs, outputs, op histogram "
                     "and weight blob count, as read back from the file.\n";
        return args.size() == 1 ? 0 : 2;
    }
    runtime::ReadModel model;
    try {
        model = runtime::readModel(args[0]);
    } catch (const std::exception& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
    std::cout << args[0] << ": " << (model.kind == runtime::ModelKind::MLProgram ? "ML Program" : "NeuralNetwork")
              << ", specification version " << model.specificationVersion << "\n";
    std::cout << "inputs:\n";
    for (const auto& f : model.inputs) std::cout << "  " << f.name << " " << f.type.str() << "\n";
    std::cout << "outputs:\n";
    for (const auto& f : model.outputs) std::cout << "  " << f.name << " " << f.type.str() << "\n";
    std::map<std::string, int> histogram;
    size_t total = 0;
    for (const auto& [name, fn] : model.program->functions)
        mil::walk(fn.body, [&](const mil::Operation& op) {
            ++histogram[op.type()];
            ++total;
        });
    std::cout << "operations: " << total << "\n";
    for (const auto& [type, n] : histogram) std::cout << "  " << type << " " << n << "\n";
    std::cout << "weight blobs: " << model.blobCount << "\n";
    return 0;
}

}  // namespace ts2coreml::cli
