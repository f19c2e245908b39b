// Reading and checking a composite-op file. Every problem becomes one "FILE:LINE:COL: error: ..."
// line and the checker goes on, so a user sees everything wrong with a file in one run. What can be
// checked before conversion is: the YAML itself, keys, MIL ops against their schemas (input names,
// required inputs, constant inputs bound to constants, attribute types), torch ops against LibTorch's
// schemas (or a schema the file declares), and that every `$name` is defined before it is used.
#include "composite/Composite.h"

#include <ts2coreml/OpSchema.h>

#include <torch/csrc/jit/frontend/function_schema_parser.h>
#include <torch/csrc/jit/runtime/operator.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

namespace ts2coreml::composite {

const char* kindName(Kind k) {
    switch (k) {
        case Kind::Any: return "a value";
        case Kind::Tensor: return "a tensor";
        case Kind::TensorList: return "a list of tensors";
        case Kind::Int: return "an int";
        case Kind::Float: return "a float";
        case Kind::Number: return "a number";
        case Kind::Bool: return "a bool";
        case Kind::String: return "a string";
        case Kind::IntList: return "a list of ints";
        case Kind::FloatList: return "a list of floats";
        case Kind::None: return "None";
    }
    return "a value";
}

std::string diagnostic(const std::string& file, const Mark& m, const std::string& message) {
    return file + ":" + std::to_string(m.line) + ":" + std::to_string(m.column) + ": error: " + message;
}

namespace {

Mark markOf(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return {m.line + 1, m.column + 1};
}

bool isIdentifier(const std::string& s) {
    return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

/// The kind of a torch schema argument type (optional types as their element).
Kind kindOfTorchType(const c10::TypePtr& type) {
    c10::TypePtr t = type;
    if (auto opt = t->cast<c10::OptionalType>()) t = opt->getElementType();
    switch (t->kind()) {
        case c10::TypeKind::TensorType: return Kind::Tensor;
        case c10::TypeKind::IntType:
        case c10::TypeKind::SymIntType: return Kind::Int;
        case c10::TypeKind::FloatType: return Kind::Float;
        case c10::TypeKind::NumberType: return Kind::Number;
        case c10::TypeKind::BoolType: return Kind::Bool;
        case c10::TypeKind::StringType: return Kind::String;
        case c10::TypeKind::ListType: {
            const c10::TypePtr e = t->castRaw<c10::ListType>()->getElementType();
            if (e->kind() == c10::TypeKind::TensorType) return Kind::TensorList;
            if (e->kind() == c10::TypeKind::FloatType) return Kind::FloatList;
            if (e->kind() == c10::TypeKind::IntType || e->kind() == c10::TypeKind::SymIntType ||
                e->kind() == c10::TypeKind::BoolType)
                return Kind::IntList;
            return Kind::Any;
        }
        default: return Kind::Any;
    }
}

Kind kindOfLiteral(const mil::Literal& l) {
    return std::visit(
        [](const auto& v) -> Kind {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>)
                return Kind::Bool;
            else if constexpr (std::is_same_v<T, int64_t>)
                return Kind::Int;
            else if constexpr (std::is_same_v<T, double>)
                return Kind::Float;
            else if constexpr (std::is_same_v<T, std::string>)
                return Kind::String;
            else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
                return Kind::IntList;
            else if constexpr (std::is_same_v<T, std::vector<double>>)
                return Kind::FloatList;
            else
                return Kind::None;
        },
        l);
}

bool isConstantKind(Kind k) { return k != Kind::Tensor && k != Kind::TensorList && k != Kind::Any && k != Kind::None; }

/// Why a value of kind `k` cannot be bound to MIL input `spec`; empty when it can.
std::string milMismatch(Kind k, const mil::InputSpec& spec) {
    using namespace ts2coreml;
    const auto accepts = [&](DTypeSet s) { return (spec.dtypes & s) != 0; };
    if (k == Kind::Any) return {};
    if (k == Kind::None) return "needs a value, not None";
    if (spec.variadic) return k == Kind::TensorList || k == Kind::Tensor ? "" : "takes a list of tensors";
    if (k == Kind::TensorList) return "takes one value, not a list";
    if (k == Kind::Tensor) return spec.isConst ? "must be a constant, known when the model is converted" : "";
    bool ok = true;
    switch (k) {
        case Kind::Int:
        case Kind::IntList: ok = accepts(kNumbers | bit(DType::Int64)); break;
        case Kind::Float:
        case Kind::FloatList: ok = accepts(kFloats); break;
        case Kind::Number: ok = accepts(kNumbers); break;
        case Kind::Bool: ok = accepts(bit(DType::Bool)); break;
        case Kind::String: ok = accepts(bit(DType::String)); break;
        default: break;
    }
    return ok ? "" : std::string("takes ") + dtypeSetName(spec.dtypes);
}

/// Schemas a file declares, by op name ("ns::op"), each name's overloads in the order of their
/// overload names. Looked up by name, so checking a file stays linear in its size.
using DeclaredSchemas = std::map<std::string, std::vector<c10::FunctionSchema>>;

/// The torch schemas a key names: LibTorch's, or those the files declare.
std::vector<c10::FunctionSchema> torchSchemas(const std::string& key, const DeclaredSchemas& declared) {
    std::vector<c10::FunctionSchema> out;
    const auto sep = key.find("::");
    if (sep == std::string::npos || sep == 0) return out;
    std::string name = key, overload;
    if (auto dot = key.find('.', sep); dot != std::string::npos) {
        name = key.substr(0, dot);
        overload = key.substr(dot + 1);
    }
    if (auto found = declared.find(name); found != declared.end())
        for (const auto& schema : found->second)
            if (overload.empty() || schema.overload_name() == overload) out.push_back(schema);
    if (!out.empty()) return out;
    for (const auto& op : torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(name))) {
        const auto& args = op->schema().arguments();
        const bool outVariant =
            std::any_of(args.begin(), args.end(), [](const c10::Argument& a) { return a.is_out(); });
        if (!outVariant && (overload.empty() || op->schema().overload_name() == overload)) out.push_back(op->schema());
    }
    return out;
}

class FileLoader {
public:
    explicit FileLoader(std::string path, std::vector<std::string>& errors) : path_(std::move(path)), errors_(errors) {}

    std::vector<Composite> load() {
        std::vector<YAML::Node> documents;
        try {
            documents = YAML::LoadAllFromFile(path_);
        } catch (const YAML::BadFile&) {
            errors_.push_back(path_ + ": error: cannot read the file");
            return {};
        } catch (const YAML::ParserException& e) {
            errors_.push_back(diagnostic(path_, {e.mark.line + 1, e.mark.column + 1}, e.msg));
            return {};
        }
        std::vector<Composite> out;
        // One file is one document: a second one (after '---') would otherwise be ignored unread.
        if (documents.size() > 1) {
            error(secondDocumentMark(documents),
                  "a second YAML document: a composite file holds one document; list every composite under its "
                  "one 'composites:'");
            return out;
        }
        const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
        if (root.IsNull()) return out;
        if (!root.IsMap()) {
            error(root, "expected a mapping with 'version: 1' and 'composites:'");
            return out;
        }
        checkKeys(root, {"version", "composites"}, "the file");
        if (const YAML::Node v = root["version"]; !v || !v.IsScalar() || v.Scalar() != "1")
            error(v ? v : root, "'version: 1' is required (the only version of the format)");
        const YAML::Node list = root["composites"];
        if (!list) return out;
        if (!list.IsSequence()) {
            error(list, "'composites' must be a list");
            return out;
        }
        // Declared schemas first, so that composites may call ops declared further down the file.
        for (const YAML::Node& entry : list)
            if (entry.IsMap() && entry["schema"] && entry["schema"].IsScalar()) declareSchema(entry["schema"]);
        for (const YAML::Node& entry : list) {
            const size_t before = errors_.size();
            Composite c = loadComposite(entry);
            if (errors_.size() == before) out.push_back(std::move(c));
        }
        return out;
    }

private:
    /// Where the second document starts: its first node, or for an empty one its '---' line.
    Mark secondDocumentMark(const std::vector<YAML::Node>& documents) {
        const YAML::Mark m = documents[1].Mark();
        if (!documents[1].IsNull() && m.line >= 0) return {m.line + 1, m.column + 1};
        const int firstLine = std::max(documents[0].Mark().line, 0);
        std::ifstream in(path_);
        int line = 0;
        for (std::string text; std::getline(in, text); ++line)
            if (line > firstLine && text.rfind("---", 0) == 0) return {line + 1, 1};
        return {1, 1};
    }

    void error(const YAML::Node& n, const std::string& message) {
        errors_.push_back(diagnostic(path_, markOf(n), message));
    }
    void error(const Mark& m, const std::string& message) { errors_.push_back(diagnostic(path_, m, message)); }

    void checkKeys(const YAML::Node& map, std::initializer_list<const char*> allowed, const std::string& what) {
        std::set<std::string> seen;
        for (const auto& kv : map) {
            const std::string key = kv.first.Scalar();
            if (!seen.insert(key).second) error(kv.first, "'" + key + "' is given twice in " + what);
            if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }) ==
                allowed.end()) {
                std::string list;
                for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
                error(kv.first, "unknown key '" + key + "' in " + what + " (known: " + list + ")");
            }
        }
    }

    void declareSchema(const YAML::Node& n) {
        try {
            auto parsed = torch::jit::parseSchemaOrName(n.Scalar());
            if (!parsed.is_right()) {
                error(n, "'schema' needs a whole schema: \"ns::op(Tensor x, float alpha=1.) -> Tensor\"");
                return;
            }
            c10::FunctionSchema schema = std::move(parsed).right();
            std::vector<c10::FunctionSchema>& overloads = declared_[schema.name()];
            const auto at = std::lower_bound(
                overloads.begin(), overloads.end(), schema.overload_name(),
                [](const c10::FunctionSchema& s, const std::string& o) { return s.overload_name() < o; });
            // The first declaration of a name and overload counts.
            if (at == overloads.end() || at->overload_name() != schema.overload_name())
                overloads.insert(at, std::move(schema));
        } catch (const std::exception& e) {
            std::string why = e.what();
            why = why.substr(0, why.find('\n'));
            error(n, "the schema does not parse: " + why);
        }
    }

    std::string scalarString(const YAML::Node& n, const std::string& what) {
        if (!n.IsScalar()) {
            error(n, what + " must be a string");
            return {};
        }
        return n.Scalar();
    }

    Operand operand(const YAML::Node& n) {
        Operand o;
        o.mark = markOf(n);
        if (!n || n.IsNull()) return o;  // None
        if (n.IsSequence()) {
            o.form = Operand::Form::List;
            for (const YAML::Node& e : n) o.elements.push_back(operand(e));
            return o;
        }
        if (n.IsMap()) {
            error(n, "a value is a `$name`, a literal or a list, not a mapping");
            return o;
        }
        const std::string& s = n.Scalar();
        if (n.Tag() == "!") {  // quoted: always a string
            o.literal = s;
            return o;
        }
        if (!s.empty() && s[0] == '$') {
            o.form = Operand::Form::Ref;
            o.ref = s.substr(1);
            if (!isIdentifier(o.ref)) error(n, "'" + s + "' is not a name: names are `$` and an identifier");
            return o;
        }
        if (s == "true" || s == "false") {
            o.literal = s == "true";
            return o;
        }
        char* end = nullptr;
        errno = 0;
        const long long i = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && *end == '\0' && errno == 0) {
            o.literal = static_cast<int64_t>(i);
            return o;
        }
        if (s == ".inf" || s == "-.inf") {
            o.literal = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
            return o;
        }
        const double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && *end == '\0') {
            o.literal = d;
            return o;
        }
        o.literal = s;
        return o;
    }

    /// A literal list of numbers becomes one list literal (ints, or floats if any is a float).
    static void foldLiteralList(Operand& o) {
        if (o.form != Operand::Form::List || o.elements.empty()) return;
        bool allInts = true, allNumbers = true;
        for (const Operand& e : o.elements) {
            const Kind k = e.form == Operand::Form::Literal ? kindOfLiteral(e.literal) : Kind::Any;
            if (k != Kind::Int) allInts = false;
            if (k != Kind::Int && k != Kind::Float) allNumbers = false;
        }
        if (allInts) {
            std::vector<int64_t> v;
            for (const Operand& e : o.elements) v.push_back(std::get<int64_t>(e.literal));
            o = Operand{Operand::Form::Literal, {}, std::move(v), {}, o.mark};
        } else if (allNumbers) {
            std::vector<double> v;
            for (const Operand& e : o.elements)
                v.push_back(std::holds_alternative<int64_t>(e.literal)
                                ? static_cast<double>(std::get<int64_t>(e.literal))
                                : std::get<double>(e.literal));
            o = Operand{Operand::Form::Literal, {}, std::move(v), {}, o.mark};
        }
    }

    Operand value(const YAML::Node& n) {
        Operand o = operand(n);
        foldLiteralList(o);
        return o;
    }

    /// The kind of an operand given the names defined so far; reports undefined names.
    Kind kindOf(const Operand& o, const std::map<std::string, Kind>& names) {
        switch (o.form) {
            case Operand::Form::Literal: return kindOfLiteral(o.literal);
            case Operand::Form::Ref: {
                auto it = names.find(o.ref);
                if (it != names.end()) return it->second;
                std::string known;
                for (const auto& [n, k] : names) known += (known.empty() ? "$" : ", $") + n;
                error(o.mark,
                      "undefined name '$" + o.ref + "' (defined here: " + (known.empty() ? "none" : known) + ")");
                return Kind::Any;
            }
            case Operand::Form::List: {
                bool tensors = true, ints = true, numbers = true;
                for (const Operand& e : o.elements) {
                    const Kind k = kindOf(e, names);
                    if (k != Kind::Tensor && k != Kind::Any) tensors = false;
                    if (k != Kind::Int && k != Kind::Any) ints = false;
                    if (k != Kind::Int && k != Kind::Float && k != Kind::Number && k != Kind::Any) numbers = false;
                }
                if (tensors) return Kind::TensorList;
                if (ints) return Kind::IntList;
                if (numbers) return Kind::FloatList;
                error(o.mark, "a list mixes tensors and constants");
                return Kind::Any;
            }
        }
        return Kind::Any;
    }

    Composite loadComposite(const YAML::Node& entry) {
        Composite c;
        c.file = path_;
        c.mark = markOf(entry);
        if (!entry.IsMap()) {
            error(entry, "a composite is a mapping with 'op:' and 'steps:' (or 'custom_layer:')");
            return c;
        }
        checkKeys(entry,
                  {"op", "schema", "doc", "override", "min_target", "require", "steps", "outputs", "custom_layer"},
                  "a composite");
        const YAML::Node opNode = entry["op"];
        if (!opNode) {
            error(entry, "a composite needs 'op: ns::name' (the torch op it defines)");
            return c;
        }
        c.key = scalarString(opNode, "'op'");
        if (c.key.find("::") == std::string::npos || c.key.find("::") == 0) {
            error(opNode, "'" + c.key + "' is not a qualified torch op name (ns::name or ns::name.overload)");
            return c;
        }
        if (const YAML::Node s = entry["schema"]) c.schema = scalarString(s, "'schema'");
        if (const YAML::Node d = entry["doc"]) c.doc = scalarString(d, "'doc'");
        if (const YAML::Node o = entry["override"]) {
            if (!o.IsScalar() || (o.Scalar() != "true" && o.Scalar() != "false"))
                error(o, "'override' must be true or false");
            else
                c.override = o.Scalar() == "true";
        }
        if (const YAML::Node t = entry["min_target"]) {
            if (auto target = parseTarget(scalarString(t, "'min_target'")))
                c.minTarget = *target;
            else
                error(t, "unknown deployment target '" + t.Scalar() + "' (iOS13 ... iOS18)");
        }

        const auto schemas = torchSchemas(c.key, declared_);
        if (schemas.empty()) {
            error(opNode, "unknown torch op '" + c.key + "': LibTorch does not know it; declare it with 'schema:'");
            return c;
        }
        std::map<std::string, Kind> names;
        for (const auto& s : schemas)
            for (const auto& a : s.arguments()) names.emplace(a.name(), kindOfTorchType(a.type()));
        const size_t numReturns = schemas.front().returns().size();

        if (const YAML::Node req = entry["require"]) {
            if (!req.IsMap())
                error(req, "'require' maps constant arguments to the values the composite handles");
            else
                for (const auto& kv : req) {
                    const std::string arg = kv.first.Scalar();
                    auto it = names.find(arg);
                    if (it == names.end())
                        error(kv.first, "'" + c.key + "' has no argument '" + arg + "'");
                    else if (!isConstantKind(it->second))
                        error(kv.first,
                              "'require' needs a constant argument; '" + arg + "' is " + kindName(it->second));
                    Operand v = value(kv.second);
                    if (v.form != Operand::Form::Literal) error(kv.second, "'require' values are literals");
                    c.require.emplace_back(arg, v.literal);
                }
        }

        const YAML::Node steps = entry["steps"], layer = entry["custom_layer"];
        if (steps && layer) error(layer, "a composite has either 'steps' or 'custom_layer', not both");
        if (!steps && !layer) error(entry, "a composite needs 'steps:' (or 'custom_layer:')");
        if (steps) {
            if (!steps.IsSequence() || steps.size() == 0)
                error(steps, "'steps' must be a non-empty list");
            else
                for (const YAML::Node& s : steps) c.steps.push_back(loadStep(s, names));
        }
        if (const YAML::Node outs = entry["outputs"]) {
            if (layer) error(outs, "a custom layer's outputs go under 'custom_layer: outputs:'");
            if (!outs.IsSequence())
                error(outs, "'outputs' must be a list of `$name`");
            else
                for (const YAML::Node& o : outs) {
                    Operand v = operand(o);
                    if (v.form != Operand::Form::Ref)
                        error(o, "an output is a `$name`");
                    else
                        kindOf(v, names);
                    c.outputs.push_back(std::move(v));
                }
            if (outs.IsSequence() && c.outputs.size() != numReturns)
                error(outs, "'" + c.key + "' returns " + std::to_string(numReturns) + " value(s); 'outputs' lists " +
                                std::to_string(c.outputs.size()));
        } else if (!c.steps.empty() && c.steps.back().outs.size() > 1 && c.steps.back().outs.size() != numReturns) {
            error(c.steps.back().mark, "the last step binds " + std::to_string(c.steps.back().outs.size()) +
                                           " values but '" + c.key + "' returns " + std::to_string(numReturns) +
                                           "; say which with 'outputs:'");
        }
        if (layer) c.customLayer = loadCustomLayer(layer, names, numReturns);
        return c;
    }

    Step loadStep(const YAML::Node& n, std::map<std::string, Kind>& names) {
        Step s;
        s.mark = markOf(n);
        if (!n.IsMap()) {
            error(n,
                  "a step is a mapping: {mil: OP, INPUT: VALUE, ..., out: NAME} or {torch: ns::op, ARG: VALUE, ..., "
                  "out: NAME}");
            return s;
        }
        const YAML::Node mil = n["mil"], torch = n["torch"];
        if (bool(mil) == bool(torch)) {
            error(n, "a step calls exactly one op: 'mil: OP' or 'torch: ns::op'");
            return s;
        }
        s.isMil = bool(mil);
        const YAML::Node opNode = s.isMil ? mil : torch;
        s.opMark = markOf(opNode);
        s.op = scalarString(opNode, s.isMil ? "'mil'" : "'torch'");
        std::set<std::string> seen;
        for (const auto& kv : n) {
            const std::string key = kv.first.Scalar();
            if (!seen.insert(key).second) error(kv.first, "'" + key + "' is given twice in a step");
            if (key == "mil" || key == "torch" || key == "out") continue;
            s.args.emplace_back(key, value(kv.second));
            s.args.back().second.mark = markOf(kv.first);
        }
        if (s.isMil)
            checkMilStep(s, n, names);
        else
            checkTorchStep(s, n, names);
        if (const YAML::Node out = n["out"]) {
            std::vector<YAML::Node> outNodes;
            if (out.IsSequence())
                for (const YAML::Node& o : out) outNodes.push_back(o);
            else
                outNodes.push_back(out);
            for (const YAML::Node& o : outNodes) {
                const std::string name = scalarString(o, "'out'");
                if (!isIdentifier(name))
                    error(o, "'" + name + "' is not a name (an identifier, without `$`)");
                else if (names.count(name))
                    error(o, "'" + name + "' is already defined");
                names[name] = s.isMil ? Kind::Tensor : Kind::Any;
                s.outs.push_back(name);
            }
        }
        return s;
    }

    void checkMilStep(const Step& s, const YAML::Node& n, const std::map<std::string, Kind>& names) {
        const mil::OpSchema* schema = mil::SchemaTable::instance().find(s.op);
        if (!schema) {
            error(s.opMark, "unknown MIL op '" + s.op + "'");
            return;
        }
        std::string inputs;
        for (const auto& in : schema->inputs) inputs += (inputs.empty() ? "" : ", ") + in.name;
        for (const auto& [name, v] : s.args) {
            const mil::InputSpec* spec = schema->findInput(name);
            const Kind k = kindOf(v, names);
            if (!spec) {
                error(v.mark, "MIL op '" + s.op + "' has no input '" + name + "' (inputs: " + inputs + ")");
                continue;
            }
            if (const std::string why = milMismatch(k, *spec); !why.empty())
                error(v.mark, "input '" + name + "' of MIL op '" + s.op + "' " + why + "; it is given " + kindName(k));
        }
        for (const auto& in : schema->inputs)
            if (!in.optional &&
                std::none_of(s.args.begin(), s.args.end(), [&](const auto& a) { return a.first == in.name; }))
                error(n, "MIL op '" + s.op + "' needs input '" + in.name + "'");
    }

    void checkTorchStep(const Step& s, const YAML::Node& n, const std::map<std::string, Kind>& names) {
        const auto schemas = torchSchemas(s.op, declared_);
        if (schemas.empty()) {
            error(s.opMark, "unknown torch op '" + s.op + "'");
            return;
        }
        // The overload a call reaches: the first whose arguments include every name given.
        const c10::FunctionSchema* chosen = nullptr;
        for (const auto& schema : schemas) {
            const bool fits = std::all_of(s.args.begin(), s.args.end(), [&](const auto& a) {
                return schema.argumentIndexWithName(a.first).has_value();
            });
            if (fits) {
                chosen = &schema;
                break;
            }
        }
        for (const auto& [name, v] : s.args) {
            const Kind k = kindOf(v, names);
            if (!chosen) {
                bool anywhere = false;
                for (const auto& schema : schemas) anywhere |= schema.argumentIndexWithName(name).has_value();
                if (!anywhere)
                    error(v.mark,
                          "torch op '" + s.op + "' has no argument '" + name + "' (" + toString(schemas.front()) + ")");
                continue;
            }
            const Kind want = kindOfTorchType(chosen->arguments()[*chosen->argumentIndexWithName(name)].type());
            const bool tensorWanted = want == Kind::Tensor || want == Kind::TensorList;
            const bool tensorGiven = k == Kind::Tensor || k == Kind::TensorList;
            if (k != Kind::Any && want != Kind::Any && tensorWanted != tensorGiven && k != Kind::None)
                error(v.mark, "argument '" + name + "' of '" + s.op + "' is " + kindName(want) + "; it is given " +
                                  kindName(k));
        }
        if (!chosen) {
            error(n, "no overload of '" + s.op + "' takes all of these arguments");
            return;
        }
        for (const auto& a : chosen->arguments())
            if (!a.default_value() && !a.kwarg_only() &&
                std::none_of(s.args.begin(), s.args.end(), [&](const auto& g) { return g.first == a.name(); }))
                error(n, "torch op '" + s.op + "' needs argument '" + a.name() + "' (" + toString(*chosen) + ")");
    }

    std::optional<CustomLayerSpec> loadCustomLayer(const YAML::Node& n, const std::map<std::string, Kind>& names,
                                                   size_t numReturns) {
        CustomLayerSpec spec;
        spec.mark = markOf(n);
        if (!n.IsMap()) {
            error(n, "'custom_layer' is a mapping: class, description, parameters, inputs, weights, outputs");
            return spec;
        }
        checkKeys(n, {"class", "description", "parameters", "inputs", "weights", "outputs"}, "a custom layer");
        if (const YAML::Node cls = n["class"]) {
            spec.className = scalarString(cls, "'class'");
            if (!isIdentifier(spec.className)) error(cls, "class name '" + spec.className + "' is not an identifier");
        } else {
            error(n, "a custom layer needs 'class:' (the name of the app's MLCustomLayer class)");
        }
        if (const YAML::Node d = n["description"]) spec.description = scalarString(d, "'description'");
        if (const YAML::Node params = n["parameters"]) {
            if (!params.IsMap())
                error(params, "'parameters' maps parameter names to constants");
            else
                for (const auto& kv : params) {
                    Operand v = value(kv.second);
                    const Kind k = kindOf(v, names);
                    if (k != Kind::Int && k != Kind::Float && k != Kind::Number && k != Kind::Bool && k != Kind::String)
                        error(kv.second, "parameter '" + kv.first.Scalar() +
                                             "' must be an int, float, bool or string constant; it is " + kindName(k));
                    spec.parameters.emplace_back(kv.first.Scalar(), std::move(v));
                }
        }
        const auto tensors = [&](const char* key, std::vector<Operand>& out, bool required) {
            const YAML::Node list = n[key];
            if (!list) {
                if (required) error(n, std::string("a custom layer needs '") + key + ":'");
                return;
            }
            if (!list.IsSequence()) {
                error(list, std::string("'") + key + "' must be a list of `$name`");
                return;
            }
            for (const YAML::Node& e : list) {
                Operand v = operand(e);
                const Kind k = kindOf(v, names);
                if (v.form != Operand::Form::Ref || (k != Kind::Tensor && k != Kind::Any))
                    error(e, std::string("'") + key + "' lists tensors by `$name`; this is " + kindName(k));
                out.push_back(std::move(v));
            }
        };
        tensors("inputs", spec.inputs, true);
        tensors("weights", spec.weights, false);
        if (const YAML::Node outs = n["outputs"]; outs && outs.IsSequence()) {
            for (const YAML::Node& o : outs) {
                if (!o.IsMap() || !o["like"]) {
                    error(o, "an output is {like: $input}: the shape and dtype of that input");
                    continue;
                }
                checkKeys(o, {"like"}, "a custom layer output");
                CustomOutput out{operand(o["like"])};
                if (out.like.form != Operand::Form::Ref)
                    error(o["like"], "'like' names an input by `$name`");
                else
                    kindOf(out.like, names);
                spec.outputs.push_back(std::move(out));
            }
            if (spec.outputs.size() != numReturns)
                error(outs, "the op returns " + std::to_string(numReturns) + " value(s); the custom layer lists " +
                                std::to_string(spec.outputs.size()));
        } else {
            error(outs ? outs : n, "a custom layer needs 'outputs:', a list of {like: $input}");
        }
        return spec;
    }

    std::string path_;
    std::vector<std::string>& errors_;
    DeclaredSchemas declared_;
};

}  // namespace

std::vector<Composite> loadCompositeFile(const std::string& path, std::vector<std::string>& errors) {
    return FileLoader(path, errors).load();
}

}  // namespace ts2coreml::composite
