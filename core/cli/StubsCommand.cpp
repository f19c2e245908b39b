// `ts2coreml stubs OUT.mlmodel -o DIR`: for each custom-layer class of a NeuralNetwork model, a
// Swift skeleton implementing MLCustomLayer (parameters read into typed properties, weights
// stored and counted, output shapes, an evaluate() to fill in), and a README on using them.
#include "backend/ModelReader.h"
#include "backend/StagedOutput.h"
#include "cli/Commands.h"
#include "mil/ErrorReason.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace ts2coreml::cli {

namespace {

/// Everything the model says about one class: its layers, and the union of their parameters.
struct CustomClass {
    std::string name;
    std::vector<const mil::Operation*> layers;
    std::map<std::string, mil::CustomLayer::Parameter> parameters;  ///< first layer's value of each
    std::set<std::string> sometimesMissing;                         ///< parameters some layer lacks
    std::set<size_t> weightCounts;
};

std::vector<CustomClass> customClasses(const mil::Program& program) {
    std::vector<CustomClass> classes;
    mil::walk(program.main().body, [&](const mil::Operation& op) {
        if (op.type() != mil::kCustomLayerOp || !op.customLayer()) return;
        const mil::CustomLayer& layer = *op.customLayer();
        auto it = std::find_if(classes.begin(), classes.end(),
                               [&](const CustomClass& c) { return c.name == layer.className; });
        if (it == classes.end()) it = classes.insert(classes.end(), CustomClass{layer.className, {}, {}, {}, {}});
        for (const auto& [name, value] : it->parameters)
            if (!layer.parameters.count(name)) it->sometimesMissing.insert(name);
        for (const auto& [name, value] : layer.parameters)
            if (!it->parameters.count(name)) {
                if (!it->layers.empty()) it->sometimesMissing.insert(name);
                it->parameters.emplace(name, value);
            }
        it->weightCounts.insert(layer.weights.size());
        it->layers.push_back(&op);
    });
    return classes;
}

/// A Swift identifier for a parameter name (keywords in backticks).
std::string swiftIdentifier(const std::string& name) {
    static const std::set<std::string> keywords = {
        "as",     "break", "case",     "catch",     "class",       "continue", "default",  "defer",
        "do",     "else",  "enum",     "extension", "fallthrough", "false",    "for",      "func",
        "guard",  "if",    "import",   "in",        "init",        "inout",    "internal", "is",
        "let",    "nil",   "operator", "private",   "protocol",    "public",   "repeat",   "return",
        "self",   "Self",  "static",   "struct",    "subscript",   "super",    "switch",   "throw",
        "throws", "true",  "try",      "typealias", "var",         "where",    "while"};
    std::string id;
    for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
    if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0]))) id = "_" + id;
    return keywords.count(id) ? "`" + id + "`" : id;
}

/// The Swift type of a parameter, and the expression reading it from `parameters` (optional).
std::pair<std::string, std::string> swiftRead(const std::string& name, const mil::CustomLayer::Parameter& p) {
    const std::string key = "parameters[\"" + name + "\"]";
    switch (p.index()) {
        case 0: return {"Double", "(" + key + " as? NSNumber)?.doubleValue"};
        case 1: return {"String", key + " as? String"};
        case 2: return {"Int32", "(" + key + " as? NSNumber)?.int32Value"};
        case 3: return {"Int64", "(" + key + " as? NSNumber)?.int64Value"};
        default: return {"Bool", "(" + key + " as? NSNumber)?.boolValue"};
    }
}

bool sameType(const TensorType& a, const TensorType& b) { return a.dtype == b.dtype && a.shape == b.shape; }

std::string shapeLiteral(const TensorType& t) {
    std::string s = "[";
    for (size_t i = 0; i < t.rank(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i].size);
    return s + "]";
}

/// The body of outputShapes(forInputShapes:): each output's shape as an input's when the
/// converter declared them equal in every layer, the declared static shape when every layer
/// agrees on it, else the first input's shape with a TODO.
std::string outputShapesBody(const CustomClass& c) {
    const mil::Operation& first = *c.layers.front();
    std::ostringstream s;
    s << "        var shapes: [[NSNumber]] = []\n";
    for (size_t i = 0; i < first.outputs().size(); ++i) {
        const TensorType& declared = first.output(i)->type();
        std::optional<size_t> sameAs;
        const auto& inputs = *first.inputList("inputs");
        for (size_t j = 0; j < inputs.size() && !sameAs; ++j) {
            bool all = true;
            for (const mil::Operation* op : c.layers)
                all = all && op->outputs().size() > i && op->inputList("inputs")->size() > j &&
                      sameType(op->output(i)->type(), (*op->inputList("inputs"))[j]->type());
            if (all) sameAs = j;
        }
        bool staticEverywhere = declared.isStatic();
        for (const mil::Operation* op : c.layers)
            staticEverywhere =
                staticEverywhere && op->outputs().size() > i && sameType(op->output(i)->type(), declared);
        if (sameAs) {
            s << "        // output " << i << " has the shape of input " << *sameAs
              << " (as converted: " << declared.str() << ")\n";
            s << "        shapes.append(inputShapes[" << *sameAs << "])\n";
        } else if (staticEverywhere) {
            s << "        // output " << i << " as converted: " << declared.str() << "\n";
            s << "        shapes.append(" << shapeLiteral(declared) << ")\n";
        } else {
            s << "        // TODO: output " << i << "'s shape (as converted: " << declared.str()
              << "); the first input's shape until then\n";
            s << "        shapes.append(inputShapes[0])\n";
        }
    }
    s << "        return shapes\n";
    return s.str();
}

std::string swiftStub(const CustomClass& c, const std::string& modelPath) {
    const mil::CustomLayer& first = *c.layers.front()->customLayer();
    const std::string error = c.name + "Error";
    std::string layerNames;
    for (const mil::Operation* op : c.layers) layerNames += (layerNames.empty() ? "" : ", ") + op->output()->name();
    std::ostringstream s;
    s << "// " << c.name << ".swift: written by `ts2coreml stubs` from " << fs::path(modelPath).filename().string()
      << ".\n";
    if (!first.description.empty()) s << "// " << first.description << "\n";
    s << "//\n// Core ML creates one instance of this class for each layer of class \"" << c.name
      << "\" in the model\n// (layers: " << layerNames << "). The parameters and weights are read for you; fill in\n"
      << "// evaluate(inputs:outputs:), and check outputShapes(forInputShapes:).\n"
      << "import CoreML\nimport Foundation\n\n"
      << "enum " << error << ": Error {\n"
      << "    case missingParameter(String)\n"
      << "    case weightCount(expected: Int, got: Int)\n"
      << "    case notImplemented\n"
      << "}\n\n"
      << "@objc(" << c.name << ")\n"
      << "class " << c.name << ": NSObject, MLCustomLayer {\n";
    for (const auto& [name, value] : c.parameters) {
        const bool optional = c.sometimesMissing.count(name) > 0;
        s << "    /// Parameter \"" << name << "\" (" << customParameterType(value) << "; "
          << customParameterValue(value) << " in layer " << c.layers.front()->output()->name()
          << (optional ? "; some layers omit it" : "") << ").\n";
        s << "    let " << swiftIdentifier(name) << ": " << swiftRead(name, value).first << (optional ? "?" : "")
          << "\n";
    }
    s << "    /// The layer's weights, in the model's order: each the raw bytes of its values (fp32, or fp16\n"
      << "    /// when the model was converted with --precision fp16)";
    if (c.weightCounts.size() == 1 && *c.weightCounts.begin() > 0) {
        s << ":";
        for (size_t i = 0; i < first.weights.size(); ++i)
            s << (i ? "," : "") << " weight " << i << " has " << first.weights[i]->numel() << " values";
    }
    s << ".\n    private var weights: [Data] = []\n\n";

    s << "    required init(parameters: [String : Any]) throws {\n";
    for (const auto& [name, value] : c.parameters) {
        const std::string id = swiftIdentifier(name);
        const std::string read = swiftRead(name, value).second;
        if (c.sometimesMissing.count(name)) {
            s << "        self." << id << " = " << read << "\n";
            continue;
        }
        s << "        guard let " << id << " = " << read << " else {\n"
          << "            throw " << error << ".missingParameter(\"" << name << "\")\n"
          << "        }\n"
          << "        self." << id << " = " << id << "\n";
    }
    s << "        super.init()\n    }\n\n";

    s << "    func setWeightData(_ weights: [Data]) throws {\n";
    if (c.weightCounts.size() == 1) {
        s << "        guard weights.count == " << *c.weightCounts.begin() << " else {\n"
          << "            throw " << error << ".weightCount(expected: " << *c.weightCounts.begin()
          << ", got: weights.count)\n"
          << "        }\n";
    } else {
        s << "        // The layers of this class hold different numbers of weights (";
        for (auto it = c.weightCounts.begin(); it != c.weightCounts.end(); ++it)
            s << (it == c.weightCounts.begin() ? "" : ", ") << *it;
        s << ").\n";
    }
    s << "        self.weights = weights\n    }\n\n";

    s << "    func outputShapes(forInputShapes inputShapes: [[NSNumber]]) throws -> [[NSNumber]] {\n"
      << outputShapesBody(c) << "    }\n\n";

    s << "    func evaluate(inputs: [MLMultiArray], outputs: [MLMultiArray]) throws {\n"
      << "        // TODO: compute each outputs[i] from inputs on the CPU"
      << (first.description.empty() ? "" : " (" + first.description + ")") << ".\n"
      << "        throw " << error << ".notImplemented\n"
      << "    }\n"
      << "}\n";
    return s.str();
}

std::string count(size_t n, const std::string& noun) { return std::to_string(n) + " " + noun + (n == 1 ? "" : "s"); }

std::string readme(const std::vector<CustomClass>& classes, const std::string& modelPath) {
    const std::string model = fs::path(modelPath).filename().string();
    std::ostringstream s;
    s << "# Custom layers of " << model << "\n\n"
      << "`ts2coreml stubs` wrote one Swift file per custom-layer class of the model. Core ML does not run\n"
      << "these layers itself: when it loads the model it looks up, by name, an Objective-C class for each\n"
      << "layer's class name and calls it through the `MLCustomLayer` protocol.\n\n"
      << "| class | layers | parameters | weights |\n|---|---|---|---|\n";
    for (const CustomClass& c : classes) {
        std::string params;
        for (const auto& [name, value] : c.parameters)
            params += (params.empty() ? "" : ", ") + name + " (" + customParameterType(value) + ")";
        s << "| `" << c.name << "` | " << c.layers.size() << " | " << (params.empty() ? "none" : params) << " | "
          << c.layers.front()->customLayer()->weights.size() << " |\n";
    }
    s << "\n## Adding them to an Xcode project\n\n"
      << "1. Add " << model << " and the `.swift` files of this directory to your app's target (drag them\n"
      << "   into the project navigator, with \"Add to targets\" checked).\n"
      << "2. Keep each `@objc(ClassName)` line: it gives the class the exact Objective-C name the model\n"
      << "   names, so Core ML finds it whatever your module is called.\n"
      << "3. Implement `evaluate(inputs:outputs:)` (CPU) in each class: until then it throws, and so does\n"
      << "   a prediction. Check `outputShapes(forInputShapes:)`, which Core ML calls before evaluating.\n"
      << "   For the GPU, also implement `encode(commandBuffer:inputs:outputs:)` with Metal.\n"
      << "4. Load and use the model as any other (`MLModel(contentsOf:)` or the generated class).\n\n"
      << "`init(parameters:)` reads each parameter the model declares into a property, and\n"
      << "`setWeightData(_:)` keeps the weights (raw fp32 bytes, or fp16 for a model converted with\n"
      << "`--precision fp16`), checking their count.\n";
    return s.str();
}

}  // namespace

int stubsCommand(const std::vector<std::string>& args) {
    po::options_description opts(
        "usage: ts2coreml stubs OUT.mlmodel -o DIR [--force]\n\n"
        "Writes, for each custom-layer class of the NeuralNetwork model OUT.mlmodel, DIR/<Class>.swift: a\n"
        "class implementing Core ML's MLCustomLayer that reads the layer's parameters and weights, with an\n"
        "evaluate(inputs:outputs:) to fill in; and DIR/README.md on adding them to an Xcode project.\n"
        "An existing DIR/<Class>.swift (which you may have edited) is replaced only with --force.\n"
        "Exit 0 when written, 2 for a missing or unreadable model, an .mlpackage, a model without custom layers,\n"
        "or a Swift file already there.\n\n"
        "options");
    std::string model, dir;
    bool force = false;
    opts.add_options()("help,h", "show this help")("output,o", po::value(&dir),
                                                   "DIR: where to write the files (created if needed)")(
        "force", po::bool_switch(&force), "replace Swift files already in DIR");
    po::options_description hidden;
    hidden.add_options()("model", po::value(&model));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("model", 1);
    po::variables_map vm;
    if (auto exitCode = parseCommandLine("stubs", args, opts, all, pos, vm)) return *exitCode;
    if (model.empty() || dir.empty()) {
        std::cerr << "ts2coreml stubs: error: " << (model.empty() ? "missing OUT.mlmodel" : "missing -o DIR") << "\n"
                  << opts << "\n";
        return 2;
    }
    if (fs::path(model).extension() == ".mlpackage") {
        std::cerr
            << model
            << ": error: an ML Program (.mlpackage) cannot hold custom layers; stubs reads a NeuralNetwork .mlmodel\n";
        return 2;
    }
    backend::ReadModel read;
    try {
        read = backend::readModel(model);
    } catch (const std::exception& e) {
        std::cerr << errorReason(e) << "\n";
        return 2;
    }
    if (read.kind != backend::ModelKind::NeuralNetwork) {
        std::cerr << model
                  << ": error: an ML Program cannot hold custom layers; stubs reads a NeuralNetwork .mlmodel\n";
        return 2;
    }
    const std::vector<CustomClass> classes = customClasses(*read.program);
    if (classes.empty()) {
        std::cerr << model << ": error: the model has no custom layers: there is nothing to write\n";
        return 2;
    }
    // A stub is where the user writes evaluate(): never replace one silently.
    if (!force) {
        std::vector<fs::path> existing;
        for (const CustomClass& c : classes) {
            const fs::path path = fs::path(dir) / (c.name + ".swift");
            std::error_code ec;
            if (fs::exists(fs::symlink_status(path, ec))) existing.push_back(path);
        }
        for (const fs::path& path : existing)
            std::cerr << path.string()
                      << ": error: the file exists (it may hold your implementation); give --force to replace it\n";
        if (!existing.empty()) return 2;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) {
        std::cerr << dir << ": error: cannot create the directory" << (ec ? ": " + ec.message() : "") << "\n";
        return 2;
    }
    auto write = [&](const fs::path& path, const std::string& text) {
        std::ofstream out(path, std::ios::trunc);
        out << text;
        if (!out.flush()) throw writeFailure(path);
    };
    try {
        for (const CustomClass& c : classes) {
            const fs::path path = fs::path(dir) / (c.name + ".swift");
            write(path, swiftStub(c, model));
            std::cout << "wrote " << path.string() << " (class " << c.name << ": " << count(c.layers.size(), "layer")
                      << ", " << count(c.parameters.size(), "parameter") << ", "
                      << count(c.layers.front()->customLayer()->weights.size(), "weight") << ")\n";
        }
        write(fs::path(dir) / "README.md", readme(classes, model));
        std::cout << "wrote " << (fs::path(dir) / "README.md").string() << "\n";
    } catch (const std::exception& e) {
        std::cerr << errorReason(e) << "\n";
        return 2;
    }
    return 0;
}

}  // namespace ts2coreml::cli
