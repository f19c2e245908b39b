#include "backend/ModelReader.h"
#include "cli/Commands.h"
#include "mil/ErrorReason.h"

#include <charconv>
#include <iostream>
#include <map>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <variant>

namespace ts2coreml::cli {

namespace {

void printFeature(const backend::FeatureInfo& f) {
    std::cout << "  " << f.name << " ";
    if (f.isClassLabel) {
        std::cout << "string (predicted class label)\n";
        return;
    }
    if (f.isProbabilities) {
        std::cout << "dictionary label -> probability (class probabilities, from " << f.type.str() << ")\n";
        return;
    }
    if (f.isImage) {
        std::cout << "image " << f.colorSpace << " " << f.defaultShape[3] << "x" << f.defaultShape[2] << " ("
                  << f.type.str() << ")";
        if (f.preprocessing) {
            std::cout << ", preprocessing: pixel * " << f.preprocessing->scale << " + bias [";
            for (size_t i = 0; i < f.preprocessing->bias.size(); ++i)
                std::cout << (i ? ", " : "") << f.preprocessing->bias[i];
            std::cout << "]";
        }
        std::cout << "\n";
        return;
    }
    std::cout << f.type.str();
    if (!f.enumeratedShapes.empty()) {
        std::cout << ", enumerated shapes:";
        for (size_t i = 0; i < f.enumeratedShapes.size(); ++i) {
            std::cout << (i ? " |" : "") << " ";
            for (size_t k = 0; k < f.enumeratedShapes[i].size(); ++k)
                std::cout << (k ? "," : "") << f.enumeratedShapes[i][k];
        }
    }
    std::cout << "\n";
}

/// Ops of `block` and of the blocks nested in it.
size_t opsWithin(const mil::Block& block) {
    size_t n = 0;
    mil::walk(block, [&](const mil::Operation&) { ++n; });
    return n;
}

/// One line per op that holds blocks (cond, while_loop): each block's op count (nested ones
/// included) and its own ops by type; then the same for the blocks inside it, indented.
void printNestedBlocks(const mil::Block& block, const std::string& indent) {
    for (const auto& op : block.operations()) {
        if (op->blocks().empty()) continue;
        const std::string name = op->outputs().empty() ? "" : " " + op->outputs().front()->name();
        std::cout << indent << op->type() << name << ":\n";
        const bool loop = op->type() == "while_loop";
        for (size_t b = 0; b < op->blocks().size(); ++b) {
            const mil::Block& sub = *op->blocks()[b];
            const std::string role = loop ? (b == 0 ? "condition" : "body") : (b == 0 ? "then" : "else");
            std::map<std::string, int> own;
            for (const auto& inner : sub.operations()) ++own[inner->type()];
            std::cout << indent << "  " << role << ": " << opsWithin(sub) << " ops (";
            bool first = true;
            for (const auto& [type, n] : own) {
                std::cout << (first ? "" : ", ") << type << " " << n;
                first = false;
            }
            std::cout << ")\n";
            printNestedBlocks(sub, indent + "    ");
        }
    }
}

void printCustomLayers(const mil::Program& program) {
    std::vector<const mil::Operation*> layers;
    mil::walk(program.main().body, [&](const mil::Operation& op) {
        if (op.type() == mil::kCustomLayerOp && op.customLayer()) layers.push_back(&op);
    });
    if (layers.empty()) return;
    std::cout << "custom layers: " << layers.size()
              << " (the app implements each class as an MLCustomLayer; 'ts2coreml stubs' writes Swift skeletons)\n";
    auto values = [](const std::vector<std::unique_ptr<mil::Value>>& vs) {
        std::string s;
        for (const auto& v : vs) s += (s.empty() ? "" : ", ") + v->name() + " " + v->type().str();
        return s;
    };
    for (const mil::Operation* op : layers) {
        const mil::CustomLayer& c = *op->customLayer();
        std::cout << "  layer '" << op->output()->name() << "': class " << c.className << "\n";
        if (!c.description.empty()) std::cout << "    description: " << c.description << "\n";
        std::string inputs;
        for (const mil::Value* v : *op->inputList("inputs"))
            inputs += (inputs.empty() ? "" : ", ") + v->name() + " " + v->type().str();
        std::cout << "    inputs: " << inputs << "\n";
        std::cout << "    outputs: " << values(op->outputs()) << "\n";
        for (const auto& [name, value] : c.parameters)
            std::cout << "    parameter " << name << ": " << customParameterType(value) << " "
                      << customParameterValue(value) << "\n";
        for (size_t i = 0; i < c.weights.size(); ++i)
            std::cout << "    weight " << i << ": " << c.weights[i]->numel() << " values\n";
    }
}

}  // namespace

std::string customParameterType(const mil::CustomLayer::Parameter& p) {
    static const char* const names[] = {"double", "string", "int32", "int64", "bool"};
    return names[p.index()];
}

std::string customParameterValue(const mil::CustomLayer::Parameter& p) {
    std::ostringstream s;
    std::visit(
        [&s](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>)
                s << '"' << v << '"';
            else if constexpr (std::is_same_v<T, bool>)
                s << (v ? "true" : "false");
            else if constexpr (std::is_same_v<T, double>) {
                char buf[32];  // the shortest text that reads back as the same double
                s << std::string_view(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
            } else
                s << v;
        },
        p);
    return s.str();
}

int inspectCommand(const std::vector<std::string>& args) {
    if (args.size() != 1 || args[0] == "--help" || args[0] == "-h") {
        std::cout
            << "usage: ts2coreml inspect OUT.mlpackage|OUT.mlmodel\n\nShows the model's inputs (image inputs with "
               "their "
               "preprocessing, enumerated shapes), outputs (a classifier's label and probabilities), metadata, op "
               "histogram (with the ops of each if / loop block), weight blob count and custom layers (class, "
               "description, typed parameters, weight sizes, inputs and outputs), as read back from the file.\n";
        return args.size() == 1 ? 0 : 2;
    }
    backend::ReadModel model;
    try {
        model = backend::readModel(args[0]);
    } catch (const std::exception& e) {
        std::cerr << errorReason(e) << "\n";
        return 2;
    }
    std::cout << args[0] << ": " << (model.kind == backend::ModelKind::MLProgram ? "ML Program" : "NeuralNetwork")
              << (model.classLabels.empty() ? "" : " classifier") << ", specification version "
              << model.specificationVersion << "\n";
    std::cout << "inputs:\n";
    for (const auto& f : model.inputs) printFeature(f);
    std::cout << "outputs:\n";
    for (const auto& f : model.outputs) printFeature(f);
    if (!model.classLabels.empty()) {
        std::cout << "class labels: " << model.classLabels.size() << " (";
        for (size_t i = 0; i < model.classLabels.size() && i < 5; ++i)
            std::cout << (i ? ", " : "") << model.classLabels[i];
        std::cout << (model.classLabels.size() > 5 ? ", ...)\n" : ")\n");
    }
    const auto& m = model.metadata;
    std::cout << "metadata:\n";
    if (!m.author.empty()) std::cout << "  author: " << m.author << "\n";
    if (!m.license.empty()) std::cout << "  license: " << m.license << "\n";
    if (!m.shortDescription.empty()) std::cout << "  description: " << m.shortDescription << "\n";
    if (!m.version.empty()) std::cout << "  version: " << m.version << "\n";
    for (const auto& [k, v] : m.userDefined) std::cout << "  " << k << ": " << v << "\n";
    std::map<std::string, int> histogram;
    size_t total = 0;
    for (const auto& [name, fn] : model.program->functions)
        mil::walk(fn.body, [&](const mil::Operation& op) {
            ++histogram[op.type()];
            ++total;
        });
    std::cout << "operations: " << total
              << (model.kind == backend::ModelKind::NeuralNetwork ? " (the layers, as MIL ops)" : "");
    const mil::Block& main = model.program->main().body;
    const size_t nested = total - main.operations().size();
    if (nested > 0) std::cout << ", " << main.operations().size() << " in main and " << nested << " in nested blocks";
    std::cout << "\n";
    for (const auto& [type, n] : histogram) std::cout << "  " << type << " " << n << "\n";
    if (nested > 0) {
        std::cout << "nested blocks (op count including deeper blocks; own ops by type):\n";
        printNestedBlocks(main, "  ");
    }
    if (model.kind == backend::ModelKind::NeuralNetwork)
        std::cout << "weights: inside the model file" << (model.fp16Weights ? " (fp16)" : "") << "\n";
    else
        std::cout << "weight blobs: " << model.blobCount << "\n";
    printCustomLayers(*model.program);
    return 0;
}

}  // namespace ts2coreml::cli
