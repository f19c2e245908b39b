#include "frontend/TorchGraph.h"

#include "mil/ErrorReason.h"

#include <ts2coreml/OpSchema.h>

#include <torch/csrc/jit/runtime/operator.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <sstream>

namespace ts2coreml {

std::string firstLine(const std::string& text) {
    auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

namespace {

/// One frame of the Python code a node came from.
struct Frame {
    std::string file;
    size_t line = 0;
    size_t column = 0;  ///< 1-based; 0 when the range has none (a traced frame)
    std::string str() const {
        return file + ":" + std::to_string(line) + (column ? ":" + std::to_string(column) : std::string());
    }
};

/// Torch's own Python package (nn modules, functional, the tracer): not where a user's fix is.
bool isTorchFrame(const std::string& file) {
    for (const char* package : {"/site-packages/torch/", "/dist-packages/torch/"})
        if (file.find(package) != std::string::npos) return true;
    return false;
}

/// The frames of one source range, innermost first. The tracer records a traced node's whole Python
/// stack as the text of its range, a line "FILE(LINE): FUNCTION" per frame, innermost first; a
/// scripted node's range is its one line of code, with a real column.
void appendFrames(torch::jit::SourceRange range, std::vector<Frame>& out) {
    // A loaded model's ranges point into its serialized code; the range that generated it is the
    // user's own source.
    if (auto original = range.findSourceRangeThatGenerated()) range = *original;
    if (!range.source()) return;
    if (range.source()->filename() && range.start() == 0) {
        std::istringstream text(range.source()->text_str().str());
        std::string line;
        bool stack = false;
        while (std::getline(text, line)) {
            const size_t open = line.find('('), close = line.find("): ");
            if (open == std::string::npos || close == std::string::npos || close < open) break;
            const std::string number = line.substr(open + 1, close - open - 1);
            if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) break;
            out.push_back({line.substr(0, open), static_cast<size_t>(std::stoul(number)), 0});
            stack = true;
        }
        if (stack) return;
    }
    auto flc = range.file_line_col();
    if (!flc) return;
    const auto& [file, line, col] = *flc;
    if (!file.empty()) out.push_back({file, line, col + 1});
}

/// Every frame of the node's code, innermost first: its own range, then the call sites of the
/// functions and methods it was inlined from.
std::vector<Frame> framesOf(const torch::jit::Node& node) {
    std::vector<Frame> frames;
    appendFrames(const_cast<torch::jit::Node&>(node).sourceRange(), frames);
    if (auto stack = node.callstack()) {
        auto calls = (*stack)->vec();  // outermost call first
        for (auto it = calls.rbegin(); it != calls.rend(); ++it) appendFrames(std::get<1>(*it), frames);
    }
    return frames;
}

}  // namespace

std::string sourceLocation(const torch::jit::Node& node) {
    const std::vector<Frame> frames = framesOf(node);
    for (const Frame& f : frames)
        if (!isTorchFrame(f.file)) return f.str();
    return frames.empty() ? std::string() : frames.front().str();
}

std::string libraryLocation(const torch::jit::Node& node) {
    const std::vector<Frame> frames = framesOf(node);
    if (frames.empty() || !isTorchFrame(frames.front().file)) return {};
    for (const Frame& f : frames)
        if (!isTorchFrame(f.file)) return frames.front().str();
    return {};  // no user frame: the torch frame is the location itself
}

std::string moduleScope(const torch::jit::Node& node) {
    auto scope = const_cast<torch::jit::Node&>(node).scope();
    if (!scope || scope->isBlank()) return {};
    std::string s = scope->namesFromRoot();
    std::replace(s.begin(), s.end(), '.', '/');
    return s;
}

std::string describeLocation(const torch::jit::Node& node, const std::string& modelPath) {
    std::string loc = sourceLocation(node);
    std::string scope = moduleScope(node);
    if (loc.empty()) return modelPath + (scope.empty() ? "" : " (" + scope + ")");
    return loc;
}

std::string sanitizeName(const std::string& name) {
    std::string out;
    for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@') ? c : '_';
    if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])) || out[0] == '@') out = "_" + out;
    return out;
}

bool isStructuralOp(const torch::jit::Node& node) {
    static const std::set<std::string> kinds = {
        "prim::Constant",       "prim::ListConstruct", "prim::ListUnpack",
        "prim::TupleConstruct", "prim::TupleUnpack",   "prim::NumToTensor",
        "prim::device",         "prim::dtype",         "prim::If",
        "prim::Loop",           "prim::TupleIndex",    "aten::append",
        "prim::ConstantChunk",
    };
    return kinds.count(node.kind().toQualString()) != 0;
}

namespace {

std::string overloadOf(const torch::jit::Node& node) {
    if (const auto* schema = node.maybeSchema()) return schema->overload_name();
    return {};
}

void scanBlock(const torch::jit::Block& block, const LoweringRegistry& registry, const FrontendOptions& options,
               std::map<std::string, std::vector<std::string>>& uses, std::vector<std::string>& order,
               std::map<std::string, std::string>& library) {
    for (const torch::jit::Node* node : block.nodes()) {
        for (const torch::jit::Block* sub : node->blocks()) scanBlock(*sub, registry, options, uses, order, library);
        if (isStructuralOp(*node)) continue;
        const std::string kind = node->kind().toQualString();
        if (registry.find(kind, overloadOf(*node), options.target)) continue;
        if (!uses.count(kind)) {
            order.push_back(kind);
            library[kind] = libraryLocation(*node);
        }
        uses[kind].push_back(describeLocation(*node, options.modelPath));
    }
}

}  // namespace

std::vector<Diagnostic> scanUnsupported(const torch::jit::Graph& graph, const LoweringRegistry& registry,
                                        const FrontendOptions& options) {
    std::map<std::string, std::vector<std::string>> uses;
    std::vector<std::string> order;
    std::map<std::string, std::string> library;
    scanBlock(*graph.block(), registry, options, uses, order, library);
    std::vector<Diagnostic> out;
    for (const auto& kind : order) {
        const auto& where = uses[kind];
        std::string msg =
            "no lowering for '" + kind + "' (" + std::to_string(where.size()) + (where.size() == 1 ? " use" : " uses");
        for (size_t i = 1; i < where.size() && i < 4; ++i) msg += i == 1 ? "; also at " + where[i] : ", " + where[i];
        if (where.size() > 4) msg += ", ...";
        msg += ")";
        if (registry.hasKey(kind))
            msg += "; registered only for a later deployment target than " + std::string(targetName(options.target));
        out.push_back({where.front(), msg, false, library[kind]});
    }
    return out;
}

namespace {

/// A torch tensor as constant data, aliasing its storage (contiguous tensors are not copied).
/// A quantized tensor becomes its dequantized values, as torch's dequantize computes them: every
/// quantized tensor of the program is carried as a float tensor of what it stands for.
std::shared_ptr<const mil::ConstData> tensorConstant(const at::Tensor& t) {
    at::Tensor c = t.is_quantized() ? t.dequantize().contiguous() : t.contiguous();
    auto data = std::make_shared<mil::ConstData>();
    switch (c.scalar_type()) {
        case at::kFloat: data->dtype = DType::Float32; break;
        case at::kHalf: data->dtype = DType::Float16; break;
        case at::kDouble: data->dtype = DType::Float64; break;
        case at::kInt: data->dtype = DType::Int32; break;
        case at::kLong: data->dtype = DType::Int64; break;
        case at::kBool: data->dtype = DType::Bool; break;
        case at::kByte: data->dtype = DType::UInt8; break;
        case at::kChar: data->dtype = DType::Int8; break;
        case at::kShort: data->dtype = DType::Int16; break;
        default:
            throw LoweringError(std::string("constant tensor of unsupported dtype ") + c10::toString(c.scalar_type()));
    }
    data->sizes = c.sizes().vec();
    data->data = c.data_ptr();
    data->nbytes = c.nbytes();
    data->owner = std::make_shared<at::Tensor>(c);
    return data;
}

Arg ivalueToArg(const c10::IValue& v) {
    if (v.isNone()) return Arg::none();
    if (v.isBool()) return Arg::constant(v.toBool());
    if (v.isInt()) return Arg::constant(v.toInt());
    if (v.isDouble()) return Arg::constant(v.toDouble());
    if (v.isString()) return Arg::constant(v.toStringRef());
    if (v.isIntList()) return Arg::constant(v.toIntVector());
    if (v.isDoubleList()) return Arg::constant(v.toDoubleVector());
    if (v.isBoolList()) {
        std::vector<int64_t> out;
        for (bool b : v.toBoolList()) out.push_back(b);
        return Arg::constant(std::move(out));
    }
    if (v.isTensor()) return Arg::constTensor(tensorConstant(v.toTensor()));
    if (v.isTensorList()) {
        std::vector<Arg> elems;
        for (const at::Tensor& t : v.toTensorVector()) elems.push_back(Arg::constTensor(tensorConstant(t)));
        return Arg::list(std::move(elems));
    }
    if (v.isDevice()) return Arg::constant(v.toDevice().str());
    // A quantized module's weights: a list whose first element names its kind (see QuantizedParams.h).
    if (isQuantizedPackedParams(v)) {
        try {
            return ivalueToArg(unpackQuantizedParams(v));
        } catch (const c10::Error& e) {
            throw LoweringError("cannot unpack quantized parameters: " + firstLine(e.what_without_backtrace()));
        } catch (const std::runtime_error& e) {
            throw LoweringError(e.what());
        }
    }
    if (v.isTuple() || v.isList()) {
        std::vector<Arg> elems;
        if (v.isTuple())
            for (const auto& e : v.toTupleRef().elements()) elems.push_back(ivalueToArg(e));
        else
            for (const auto& e : v.toListRef()) elems.push_back(ivalueToArg(e));
        return Arg::list(std::move(elems));
    }
    throw LoweringError("constant of unsupported kind " + v.tagKind());
}

/// A list of Args: constant when every element is a constant int (or every one a number).
Arg makeList(std::vector<Arg> elems) {
    bool allInts = true, allNumbers = true;
    for (const Arg& e : elems) {
        if (!e.isConstant()) {
            allInts = allNumbers = false;
            break;
        }
        const auto& l = e.literal();
        if (!std::holds_alternative<int64_t>(l) && !std::holds_alternative<bool>(l)) allInts = false;
        if (!std::holds_alternative<int64_t>(l) && !std::holds_alternative<double>(l) &&
            !std::holds_alternative<bool>(l))
            allNumbers = false;
    }
    if (allInts && !elems.empty()) {
        std::vector<int64_t> v;
        for (const Arg& e : elems)
            v.push_back(std::holds_alternative<bool>(e.literal()) ? std::get<bool>(e.literal())
                                                                  : std::get<int64_t>(e.literal()));
        return Arg::constant(std::move(v));
    }
    if (allNumbers && !elems.empty()) {
        std::vector<double> v;
        for (const Arg& e : elems)
            std::visit(
                [&](const auto& x) {
                    using T = std::decay_t<decltype(x)>;
                    if constexpr (std::is_arithmetic_v<T>) v.push_back(static_cast<double>(x));
                },
                e.literal());
        return Arg::constant(std::move(v));
    }
    return Arg::list(std::move(elems));
}

/// The LoweringContext of one node (or of a call() into the registry from a composite).
class NodeContext : public LoweringContext {
public:
    NodeContext(GraphLowering& g, std::string name, std::string overload, std::string location,
                std::vector<std::pair<std::string, Arg>> args, size_t numOutputs)
        : g_(g),
          name_(std::move(name)),
          overload_(std::move(overload)),
          location_(std::move(location)),
          args_(std::move(args)),
          outputs_(numOutputs),
          bound_(numOutputs, false) {}

    const std::string& opName() const override { return name_; }
    const std::string& overload() const override { return overload_; }
    std::string location() const override { return location_; }
    Target target() const override { return g_.options().target; }
    mil::Builder& builder() override { return g_.builder(); }

    const Arg& arg(const std::string& name) const override {
        for (const auto& [n, a] : args_)
            if (n == name) return a;
        std::string known;
        for (const auto& [n, a] : args_) known += (known.empty() ? "" : ", ") + n;
        fail("'" + name_ + "' has no argument named '" + name + "' (arguments: " + known + ")");
    }
    bool hasArg(const std::string& name) const override {
        return std::any_of(args_.begin(), args_.end(), [&](const auto& p) { return p.first == name; });
    }
    size_t numOutputs() const override { return outputs_.size(); }
    void bind(size_t index, Arg value) override {
        if (index >= outputs_.size())
            fail("binds output " + std::to_string(index) + " but '" + name_ + "' has " +
                 std::to_string(outputs_.size()) + " outputs");
        outputs_[index] = std::move(value);
        bound_[index] = true;
    }

    std::vector<Arg> call(const std::string& opKey, const std::vector<std::pair<std::string, Arg>>& args) override;

    /// Runs the lowering of `entry` and returns the bound outputs; fails if any is unbound.
    std::vector<Arg> run(const LoweringEntry& entry) {
        entry.fn(*this);
        for (size_t i = 0; i < bound_.size(); ++i)
            if (!bound_[i]) fail("lowering of '" + name_ + "' did not bind output " + std::to_string(i));
        return outputs_;
    }

private:
    GraphLowering& g_;
    std::string name_, overload_, location_;
    std::vector<std::pair<std::string, Arg>> args_;
    std::vector<Arg> outputs_;
    std::vector<bool> bound_;
};

std::vector<Arg> NodeContext::call(const std::string& opKey, const std::vector<std::pair<std::string, Arg>>& args) {
    std::string name = opKey, overload;
    if (auto dot = opKey.find('.', opKey.find("::")); dot != std::string::npos) {
        name = opKey.substr(0, dot);
        overload = opKey.substr(dot + 1);
    }
    const LoweringEntry* entry = g_.registry().find(name, overload, target());
    if (!entry) fail("calls '" + opKey + "', which has no lowering");
    // A lowering re-entered while it runs would recurse forever (composites of different files
    // calling each other, or an override calling the op it replaces): refuse it, naming the chain.
    thread_local std::vector<std::pair<const LoweringEntry*, std::string>> active;
    if (std::any_of(active.begin(), active.end(), [&](const auto& a) { return a.first == entry; })) {
        std::string chain;
        for (const auto& [e, key] : active) chain += key + " (" + e->provider + ") -> ";
        fail("calls '" + opKey + "' while already lowering it: " + chain + opKey +
             "; lowerings call each other in a cycle");
    }
    active.emplace_back(entry, opKey);
    struct Pop {
        ~Pop() { active.pop_back(); }
    } pop;
    // The callee's schema (the overload named, or the first whose arguments include every name
    // given) gives its output count and the defaults of the arguments the caller left out, so the
    // callee sees the same arguments as it would for a node of the model.
    size_t numOutputs = 1;
    std::vector<std::pair<std::string, Arg>> full = args;
    for (const auto& op : torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(name))) {
        const auto& schema = op->schema();
        if (!overload.empty() && schema.overload_name() != overload) continue;
        const bool fits = std::all_of(args.begin(), args.end(),
                                      [&](const auto& a) { return schema.argumentIndexWithName(a.first).has_value(); });
        if (!fits) continue;
        numOutputs = schema.returns().size();
        for (const auto& a : schema.arguments()) {
            const bool given =
                std::any_of(args.begin(), args.end(), [&](const auto& g) { return g.first == a.name(); });
            if (!given && a.default_value()) full.emplace_back(a.name(), ivalueToArg(*a.default_value()));
        }
        break;
    }
    NodeContext sub(g_, name, overload, location_, std::move(full), numOutputs);
    if (!g_.options().onLowering) return sub.run(*entry);
    // Told for the callee, then for this lowering again: a crash is blamed on the one running.
    struct TellAgain {
        GraphLowering& g;
        LoweringStep caller;
        ~TellAgain() { g.tellLowering(std::move(caller)); }
    } again{g_, g_.tellLowering({opKey, entry->provider, entry->plugin, location_})};
    return sub.run(*entry);
}

}  // namespace

GraphLowering::GraphLowering(std::shared_ptr<torch::jit::Graph> graph, const LoweringRegistry& registry,
                             const FrontendOptions& options)
    : graph_(std::move(graph)), registry_(registry), options_(options) {}

std::string GraphLowering::uniqueName(const std::string& base) {
    std::string name = sanitizeName(base);
    std::string candidate = name;
    for (int i = 1; usedNames_.count(candidate); ++i) candidate = name + "_" + std::to_string(i);
    usedNames_.insert(candidate);
    return candidate;
}

void GraphLowering::nameValue(mil::Value* v, const std::string& torchName) {
    if (!v || !v->producer() || torchName.empty()) return;
    const auto& ops = builder_->block().operations();
    for (size_t i = nodeFirstOp_; i < ops.size(); ++i) {
        if (ops[i].get() == v->producer()) {
            v->setName(uniqueName(torchName));
            return;
        }
    }
}

LoweredModel GraphLowering::run() {
    program_ = std::make_unique<mil::Program>();
    mil::Function& fn = program_->main();
    fn.opset = milOpset(options_.target);
    builder_ = std::make_unique<mil::Builder>(fn.body, options_.target);
    LoweredModel out;

    // Reserve user-visible names first so generated names never take them.
    for (const auto& in : options_.inputs) usedNames_.insert(sanitizeName(in.name));
    for (const auto& name : options_.outputNames) usedNames_.insert(sanitizeName(name));

    auto inputs = graph_->inputs();
    std::vector<torch::jit::Value*> args;
    for (auto* v : inputs)
        if (!v->type()->cast<c10::ClassType>()) args.push_back(v);  // skip `self`
    if (options_.inputs.size() != args.size()) {
        std::string names;
        for (auto* v : args) names += (names.empty() ? "" : ", ") + v->debugName();
        throw ConversionError({{options_.modelPath, "forward() takes " + std::to_string(args.size()) + " input(s) (" +
                                                        names + ") but " + std::to_string(options_.inputs.size()) +
                                                        " were described; give one --input per argument"}},
                              2);
    }
    for (size_t i = 0; i < args.size(); ++i) {
        const ModelInput& in = options_.inputs[i];
        mil::Value* v = fn.body.addInput(sanitizeName(in.name), in.type);
        values_[args[i]] = Arg::tensor(v);
        out.inputNames.push_back(v->name());
        // An integer input is int64 on torch's side (its default, and what a trace records).
        auto tensorType = args[i]->type()->cast<c10::TensorType>();
        const auto scalar = tensorType ? tensorType->scalarType() : c10::nullopt;
        if (in.type.dtype == DType::Int32 && (!scalar || *scalar == at::kLong))
            warnings_.push_back({options_.modelPath,
                                 "input '" + in.name +
                                     "' is declared int32, and torch's integers are int64: Core ML "
                                     "has no int64, so values outside [-2147483648, 2147483647] cannot be passed and "
                                     "integer arithmetic on this input wraps at 32 bits",
                                 true});
    }

    for (torch::jit::Node* node : graph_->nodes()) lowerNode(node);
    if (!errors_.empty()) throw ConversionError(std::move(errors_), 1);
    bindOutputs(fn, out);
    if (!errors_.empty()) throw ConversionError(std::move(errors_), 1);
    out.program = std::move(program_);
    out.warnings = std::move(warnings_);
    out.customLayers = std::move(customLayers_);
    return out;
}

void GraphLowering::bindOutputs(mil::Function& fn, LoweredModel& out) {
    auto outputs = graph_->outputs();
    if (!options_.outputNames.empty() && options_.outputNames.size() != outputs.size()) {
        errors_.push_back({options_.modelPath, "forward() returns " + std::to_string(outputs.size()) +
                                                   " output(s) but " + std::to_string(options_.outputNames.size()) +
                                                   " --output name(s) were given"});
        return;
    }
    nodeFirstOp_ = fn.body.operations().size();
    std::set<mil::Value*> seen;
    for (size_t i = 0; i < outputs.size(); ++i) {
        const std::string name =
            sanitizeName(options_.outputNames.empty() ? "output_" + std::to_string(i) : options_.outputNames[i]);
        usedNames_.insert(name);
        auto it = values_.find(outputs[i]);
        if (it != values_.end() && it->second.isComplex()) {
            const torch::jit::Node& from = *outputs[i]->node();
            errors_.push_back({describeLocation(from, options_.modelPath),
                               "output " + std::to_string(i) + " of forward() is a complex tensor, made by '" +
                                   from.kind().toQualString() +
                                   "': Core ML has no complex type; return a real tensor instead (.abs(), .real, "
                                   ".imag, torch.view_as_real)"});
            continue;
        }
        if (it == values_.end() || it->second.isNone() || it->second.isList()) {
            errors_.push_back({options_.modelPath, "output " + std::to_string(i) + " of forward() is not a tensor"});
            continue;
        }
        mil::Value* v = nullptr;
        try {
            NodeContext ctx(*this, "output", "", options_.modelPath, {}, 0);
            v = ctx.materialize(it->second);
            // A function output must be an op result of its own: inputs, constants and values
            // returned twice go through identity.
            if (!v->producer() || v->constant() || seen.count(v)) v = builder_->add("identity", {{"x", v}});
        } catch (const std::exception& e) {
            errors_.push_back({options_.modelPath, "output " + std::to_string(i) + ": " + errorReason(e)});
            continue;
        }
        seen.insert(v);
        v->setName(name);
        fn.body.outputs().push_back(v);
        out.outputNames.push_back(name);
    }
}

c10::IValue GraphLowering::narrowedConstant(c10::IValue value, const torch::jit::Node& node) {
    if (!value.isTensor() || value.toTensor().scalar_type() != at::kLong || value.toTensor().numel() == 0) return value;
    const at::Tensor t = value.toTensor();
    constexpr int64_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
    const int64_t least = t.min().item<int64_t>(), most = t.max().item<int64_t>();
    if (least >= lo && most <= hi) return value;
    const int64_t example = most > hi ? most : least;
    // Folded and frozen constants have no source range; the line that uses one is the user's.
    std::string where = sourceLocation(node);
    for (const auto& use : node.output()->uses())
        if (where.empty()) where = sourceLocation(*use.user);
    if (where.empty()) where = describeLocation(node, options_.modelPath);
    const std::string name = node.output()->hasDebugName() ? " '" + node.output()->debugName() + "'" : "";
    warnings_.push_back({where,
                         "an int64 constant" + name + " (" + std::to_string(t.numel()) +
                             (t.numel() == 1 ? " value" : " values") + ") holds " + std::to_string(example) +
                             ", outside the int32 range: Core ML has no int64, so its values are clamped to [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]",
                         true});
    return t.clamp(lo, hi);
}

namespace {

/// The torch ScalarType code of `tensor` (for prim::dtype, `x.dtype`): the type torch recorded in
/// the graph, else the kind of its MIL value (an int32 value stands for torch's int64, as inputs and
/// integer constants narrow to int32).
int64_t torchDtypeCode(const torch::jit::Value& tensor, const Arg& a) {
    if (auto t = tensor.type()->cast<c10::TensorType>())
        if (auto s = t->scalarType()) return static_cast<int64_t>(*s);
    DType d = DType::Float32;
    if (a.isTensor() && a.value())
        d = a.value()->type().dtype;
    else if (a.isTensor() && a.constData())
        d = a.constData()->dtype;
    switch (d) {
        case DType::Float16: return static_cast<int64_t>(c10::ScalarType::Half);
        case DType::Int32: return static_cast<int64_t>(c10::ScalarType::Long);
        case DType::Bool: return static_cast<int64_t>(c10::ScalarType::Bool);
        default: return static_cast<int64_t>(c10::ScalarType::Float);
    }
}

}  // namespace

bool GraphLowering::lowerStructural(torch::jit::Node* node) {
    const std::string kind = node->kind().toQualString();
    auto in = [&](size_t i) -> const Arg& { return values_.at(node->input(i)); };
    if (kind == "prim::Constant") {
        values_[node->output()] = ivalueToArg(narrowedConstant(*torch::jit::toIValue(node->output()), *node));
    } else if (kind == "prim::ListConstruct" || kind == "prim::TupleConstruct") {
        std::vector<Arg> elems;
        for (size_t i = 0; i < node->inputs().size(); ++i) elems.push_back(in(i));
        values_[node->output()] =
            kind == "prim::ListConstruct" ? makeList(std::move(elems)) : Arg::list(std::move(elems));
    } else if (kind == "prim::ListUnpack" || kind == "prim::TupleUnpack") {
        const Arg& list = in(0);
        std::vector<Arg> elems;
        if (list.isList()) {
            elems = list.elements();
        } else if (list.isConstant()) {
            std::visit(
                [&](const auto& v) {
                    using T = std::decay_t<decltype(v)>;
                    if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<double>>)
                        for (auto x : v) elems.push_back(Arg::constant(x));
                },
                list.literal());
        }
        if (elems.size() != node->outputs().size())
            throw LoweringError("cannot unpack " + list.describe() + " into " + std::to_string(node->outputs().size()) +
                                " values");
        for (size_t i = 0; i < elems.size(); ++i) values_[node->output(i)] = elems[i];
    } else if (kind == "prim::NumToTensor") {
        // Scalars and rank-0 tensors share one representation: a constant or a rank-0 value.
        const Arg& a = in(0);
        values_[node->output()] = a.isTensor() && a.value() ? Arg::tensor(a.value()) : a;
    } else if (kind == "prim::If") {
        lowerIf(node);
    } else if (kind == "prim::Loop") {
        lowerLoop(node);
    } else if (kind == "prim::TupleIndex") {
        const Arg& tuple = in(0);
        const Arg& index = in(1);
        if (!tuple.isList() || !index.isConstant() || !std::holds_alternative<int64_t>(index.literal()))
            throw LoweringError("indexing a tuple needs a constant index, got " + index.describe());
        const auto n = static_cast<int64_t>(tuple.elements().size());
        int64_t i = std::get<int64_t>(index.literal());
        if (i < 0) i += n;
        if (i < 0 || i >= n)
            throw LoweringError("tuple index " + std::to_string(std::get<int64_t>(index.literal())) +
                                " is out of range for a tuple of " + std::to_string(n));
        values_[node->output()] = tuple.elements()[static_cast<size_t>(i)];
    } else if (kind == "aten::append") {
        // Lists are values here, so a straight-line append makes a new list that later uses of the
        // same torch value see. Inside a loop or branch the list would have to be carried through
        // the block: refused rather than lowered wrong.
        if (node->owningBlock() != node->owningGraph()->block())
            throw LoweringError(
                "appending to a list inside a loop or an if is not supported (build the list "
                "outside it, or use torch.stack / torch.cat of the pieces)");
        const Arg& list = in(0);
        std::vector<Arg> elems;
        if (list.isList()) {
            elems = list.elements();
        } else if (list.isConstant() && std::holds_alternative<std::vector<int64_t>>(list.literal())) {
            for (int64_t v : std::get<std::vector<int64_t>>(list.literal())) elems.push_back(Arg::constant(v));
        } else if (list.isConstant() && std::holds_alternative<std::vector<double>>(list.literal())) {
            for (double v : std::get<std::vector<double>>(list.literal())) elems.push_back(Arg::constant(v));
        } else {
            throw LoweringError("cannot append to " + list.describe());
        }
        elems.push_back(in(1));
        const Arg appended = makeList(std::move(elems));
        values_[node->input(0)] = appended;
        values_[node->output()] = appended;
    } else if (kind == "prim::ConstantChunk") {
        // torch's fusion passes write aten::chunk(self, chunks, dim) with chunks and dim as node
        // attributes and one output per chunk: lowered as that aten::chunk, its list unpacked.
        NodeContext ctx(*this, kind, "", builder_->location(), {}, 0);
        const Arg pieces = ctx.call("aten::chunk", {{"self", in(0)},
                                                    {"chunks", Arg::constant(node->i(c10::Symbol::attr("chunks")))},
                                                    {"dim", Arg::constant(node->i(c10::Symbol::attr("dim")))}})
                               .at(0);
        if (!pieces.isList() || pieces.elements().size() != node->outputs().size())
            throw LoweringError("aten::chunk gave " + pieces.describe() + " where prim::ConstantChunk has " +
                                std::to_string(node->outputs().size()) + " outputs");
        for (size_t i = 0; i < node->outputs().size(); ++i) {
            const Arg& piece = pieces.elements()[i];
            if (piece.isTensor()) nameValue(piece.value(), node->output(i)->debugName());
            values_[node->output(i)] = piece;
        }
    } else if (kind == "prim::device") {
        values_[node->output()] = Arg::constant(int64_t{0});
    } else if (kind == "prim::dtype") {
        values_[node->output()] = Arg::constant(torchDtypeCode(*node->input(0), in(0)));
    } else {
        return false;
    }
    return true;
}

namespace {

/// Thrown out of a nested block whose nodes failed to lower: their errors are already recorded.
struct NestedBlockFailed {};

bool isScalarArg(const Arg& a) {
    return a.isScalar() || (a.isConstant() &&
                            (std::holds_alternative<int64_t>(a.literal()) ||
                             std::holds_alternative<double>(a.literal()) || std::holds_alternative<bool>(a.literal())));
}

}  // namespace

mil::Value* GraphLowering::blockValue(torch::jit::Value* v, const std::string& what) {
    auto it = values_.find(v);
    if (it == values_.end()) throw NestedBlockFailed{};
    const Arg& a = it->second;
    if (a.isNone() ||
        (a.isList() && !a.elements().empty() && !a.elements().front().isScalar() && !a.elements().front().isConstant()))
        throw LoweringError(what + " is " + a.describe() + "; only tensors and numbers can cross a block boundary");
    NodeContext ctx(*this, "block", "", builder_->location(), {}, 0);
    return ctx.materialize(a);
}

std::vector<mil::Value*> GraphLowering::lowerNestedBlock(torch::jit::Block* block, const std::string& what) {
    const size_t errorsBefore = errors_.size();
    for (torch::jit::Node* inner : block->nodes()) lowerNode(inner);
    if (errors_.size() != errorsBefore) throw NestedBlockFailed{};
    std::vector<mil::Value*> out;
    for (size_t i = 0; i < block->outputs().size(); ++i)
        out.push_back(blockValue(block->outputs()[i], what + " output " + std::to_string(i)));
    return out;
}

void GraphLowering::lowerIf(torch::jit::Node* node) {
    const Arg& c = values_.at(node->input(0));
    // A condition known when converting (a flag, a shape): only the branch taken is converted.
    if (c.isConstant()) {
        const bool taken = std::visit(
            [](const auto& v) -> bool {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_arithmetic_v<T>)
                    return v != 0;
                else
                    throw LoweringError("the condition of an if is not a number");
            },
            c.literal());
        torch::jit::Block* block = node->blocks()[taken ? 0 : 1];
        for (torch::jit::Node* inner : block->nodes()) lowerNode(inner);
        for (size_t i = 0; i < node->outputs().size(); ++i) {
            auto it = values_.find(block->outputs()[i]);
            if (it == values_.end()) return;  // the branch failed; its errors are recorded
            values_[node->output(i)] = it->second;
        }
        return;
    }
    const std::string location = builder_->location();
    mil::Value* pred = blockValue(node->input(0), "the condition");
    if (pred->type().dtype != DType::Bool) pred = builder_->add("cast", {{"x", pred}, {"dtype", "bool"}});
    if (pred->type().rank() != 0) {
        for (size_t i = pred->type().rank(); i-- > 0;)
            if (!pred->type().shape[i].isStatic() || pred->type().shape[i].size != 1)
                throw LoweringError("the condition of an if is a tensor of type " + pred->type().str() +
                                    "; it must hold one value");
        pred = builder_->add("reshape", {{"x", pred}, {"shape", std::vector<int64_t>{}}});
    }
    std::vector<bool> scalar(node->outputs().size(), true);
    auto branch = [&](size_t which) {
        return [&, which]() {
            torch::jit::Block* block = node->blocks()[which];
            std::vector<mil::Value*> out = lowerNestedBlock(block, which == 0 ? "the then branch" : "the else branch");
            for (size_t i = 0; i < out.size(); ++i)
                scalar[i] = scalar[i] && isScalarArg(values_.at(block->outputs()[i]));
            builder_->setLocation(location);
            return out;
        };
    };
    std::vector<mil::Value*> outs;
    try {
        outs = builder_->cond(pred, branch(0), branch(1));
    } catch (const NestedBlockFailed&) {
        return;
    }
    for (size_t i = 0; i < outs.size(); ++i) {
        outs[i]->setName(uniqueName(node->output(i)->debugName()));
        values_[node->output(i)] = scalar[i] ? Arg::dynamicScalar(outs[i]) : Arg::tensor(outs[i]);
    }
}

void GraphLowering::lowerLoop(torch::jit::Node* node) {
    // prim::Loop(max_trip_count, initial_condition, carried...) with a body block taking
    // (iteration, carried...) and returning (condition, carried...). Core ML's while_loop carries
    // [iteration, condition, carried...]; its condition block tests iteration < max_trip_count
    // (unless the count is unbounded: a `while` loop) and the condition.
    const std::string location = builder_->location();
    const Arg& trips = values_.at(node->input(0));
    constexpr int64_t kUnbounded = std::numeric_limits<int32_t>::max();
    const bool bounded = !(trips.isConstant() && std::holds_alternative<int64_t>(trips.literal()) &&
                           std::get<int64_t>(trips.literal()) >= kUnbounded);
    mil::Value* maxTrips = bounded ? blockValue(node->input(0), "the trip count") : nullptr;
    if (maxTrips && maxTrips->type().dtype != DType::Int32)
        maxTrips = builder_->add("cast", {{"x", maxTrips}, {"dtype", "int32"}});
    std::vector<mil::Value*> init = {builder_->intScalar(0)};
    mil::Value* cond0 = blockValue(node->input(1), "the initial loop condition");
    if (cond0->type().dtype != DType::Bool) cond0 = builder_->add("cast", {{"x", cond0}, {"dtype", "bool"}});
    init.push_back(cond0);
    std::vector<bool> scalar;
    for (size_t i = 2; i < node->inputs().size(); ++i) {
        init.push_back(blockValue(node->input(i), "loop-carried value " + std::to_string(i - 2)));
        scalar.push_back(isScalarArg(values_.at(node->input(i))));
    }
    torch::jit::Block* body = node->blocks()[0];

    auto condition = [&](const std::vector<mil::Value*>& vars) -> std::vector<mil::Value*> {
        if (!maxTrips) return {vars[1]};
        mil::Value* more = builder_->add("less", {{"x", vars[0]}, {"y", maxTrips}});
        return {builder_->add("logical_and", {{"x", more}, {"y", vars[1]}})};
    };
    auto step = [&](const std::vector<mil::Value*>& vars) -> std::vector<mil::Value*> {
        values_[body->inputs()[0]] = Arg::dynamicScalar(vars[0]);
        for (size_t k = 0; k + 1 < body->inputs().size(); ++k)
            values_[body->inputs()[k + 1]] = scalar[k] ? Arg::dynamicScalar(vars[k + 2]) : Arg::tensor(vars[k + 2]);
        std::vector<mil::Value*> out = lowerNestedBlock(body, "the loop body");
        builder_->setLocation(location);
        mil::Value* next = builder_->add("add", {{"x", vars[0]}, {"y", builder_->intScalar(1)}});
        if (out[0]->type().dtype != DType::Bool) out[0] = builder_->add("cast", {{"x", out[0]}, {"dtype", "bool"}});
        std::vector<mil::Value*> result = {next};
        result.insert(result.end(), out.begin(), out.end());
        return result;
    };
    std::vector<mil::Value*> outs;
    try {
        outs = builder_->whileLoop(init, condition, step);
    } catch (const NestedBlockFailed&) {
        return;
    }
    for (size_t i = 0; i < node->outputs().size(); ++i) {
        mil::Value* v = outs[i + 2];
        v->setName(uniqueName(node->output(i)->debugName()));
        values_[node->output(i)] = scalar[i] ? Arg::dynamicScalar(v) : Arg::tensor(v);
    }
}

namespace {

/// A constant Arg as the IValue torch's operator takes for an argument of type `type`; nullopt when
/// it is not a constant small enough to evaluate.
std::optional<c10::IValue> constantIValue(const Arg& a, const c10::TypePtr& type, bool& isTensor) {
    const bool wantsTensor =
        type->kind() == c10::TypeKind::TensorType ||
        (type->kind() == c10::TypeKind::OptionalType &&
         type->castRaw<c10::OptionalType>()->getElementType()->kind() == c10::TypeKind::TensorType);
    if (a.isNone()) return c10::IValue();
    if (a.isTensor()) {
        if (a.value() || !a.constData() || a.constData()->numel() != 1) return std::nullopt;
        const mil::ConstData& d = *a.constData();
        isTensor = true;
        if (d.dtype == DType::Bool) return c10::IValue(at::scalar_tensor(d.asInt(0) != 0, at::kBool));
        if (isFloat(d.dtype)) return c10::IValue(at::scalar_tensor(d.asDouble(0), at::kFloat).reshape(d.sizes));
        return c10::IValue(at::scalar_tensor(d.asInt(0), at::kLong).reshape(d.sizes));
    }
    if (!a.isConstant()) return std::nullopt;
    const mil::Literal& l = a.literal();
    if (wantsTensor) {  // a number standing for a rank-0 tensor (prim::NumToTensor)
        isTensor = true;
        if (auto* i = std::get_if<int64_t>(&l)) return c10::IValue(at::scalar_tensor(*i, at::kLong));
        if (auto* d = std::get_if<double>(&l)) return c10::IValue(at::scalar_tensor(*d, at::kDouble));
        if (auto* b = std::get_if<bool>(&l)) return c10::IValue(at::scalar_tensor(*b, at::kBool));
        return std::nullopt;
    }
    if (auto* i = std::get_if<int64_t>(&l)) return c10::IValue(*i);
    if (auto* d = std::get_if<double>(&l)) return c10::IValue(*d);
    if (auto* b = std::get_if<bool>(&l)) return c10::IValue(*b);
    if (auto* v = std::get_if<std::vector<int64_t>>(&l)) return c10::IValue(*v);
    return std::nullopt;
}

}  // namespace

// A traced model computes sizes as rank-0 tensors: `pad = (7 - W % 7) % 7` records
// prim::NumToTensor(aten::size) -> aten::remainder -> aten::rsub -> ... -> aten::Int. With static
// input sizes every one of them is a constant; lowering them as MIL ops would make `pad` a run-time
// value that pad, reshape and slice cannot take. Such nodes (an aten op whose tensor operands are
// all one-element constants, with at least one of them) are evaluated here with torch's own kernel.
// Factory ops and whole constant tensors are left to their lowerings.
bool GraphLowering::foldScalarArithmetic(torch::jit::Node* node) {
    const std::string kind = node->kind().toQualString();
    if (kind.rfind("aten::", 0) != 0 || node->isNondeterministic() || node->hasSideEffects()) return false;
    const auto* schema = node->maybeSchema();
    if (!schema || schema->is_mutable() || schema->arguments().size() != node->inputs().size()) return false;
    torch::jit::Stack stack;
    bool anyTensor = false;
    for (size_t i = 0; i < node->inputs().size(); ++i) {
        auto iv = constantIValue(values_.at(node->input(i)), schema->arguments()[i].type(), anyTensor);
        if (!iv) return false;
        stack.push_back(std::move(*iv));
    }
    if (!anyTensor) return false;
    try {
        node->getOperation()(stack);
    } catch (const std::exception&) {
        return false;  // the lowering reports what is wrong
    }
    if (stack.size() != node->outputs().size()) return false;
    for (const auto& v : stack)
        if (!(v.isTensor() && v.toTensor().numel() == 1) && !v.isInt() && !v.isDouble() && !v.isBool()) return false;
    for (size_t i = 0; i < stack.size(); ++i) values_[node->output(i)] = ivalueToArg(narrowedConstant(stack[i], *node));
    return true;
}

namespace {

/// The op `n` returns a view of (aliases without writing) its first argument: `Tensor(a) self ->
/// Tensor(a)` in its schema (slice, select, view, unsqueeze, detach, ...).
bool isViewOp(const torch::jit::Node& n) {
    const auto* schema = n.maybeSchema();
    if (!schema || schema->returns().size() != 1 || schema->arguments().empty()) return false;
    const auto* out = schema->returns()[0].alias_info();
    const auto* in = schema->arguments()[0].alias_info();
    return out && in && !out->isWrite() && !in->isWrite() && out->beforeSets() == in->beforeSets();
}

/// Every view (through view ops, transitively) of `v`.
void collectViews(torch::jit::Value* v, std::vector<torch::jit::Value*>& out) {
    for (const auto& use : v->uses())
        if (use.offset == 0 && isViewOp(*use.user)) {
            out.push_back(use.user->output());
            collectViews(use.user->output(), out);
        }
}

}  // namespace

// An in-place op writes into its `self`. The lowering gave the new value functionally; here `self`
// takes it, and when `self` is a view (x[1:3], x[0], x.view(...)), so does the tensor it views:
// slices and selects are written back with slice_scatter / select_scatter, whole-tensor views
// (reshapes, unsqueeze, detach) by reshaping back. What cannot be written back this way -- a view
// by another op, a write inside a loop or branch into a tensor from outside it, or another view of
// the same tensor read after the write -- is refused, so that no write is silently lost.
void GraphLowering::writeBack(torch::jit::Node* node, const Arg& written, LoweringContext& ctx) {
    torch::jit::Value* cur = node->input(0);
    Arg value = written;
    std::vector<torch::jit::Value*> chain;
    for (;;) {
        if (cur->node()->owningBlock() != node->owningBlock() && cur->node()->kind() != c10::prim::Param)
            throw LoweringError(
                "writes in place into a tensor made outside the loop or branch it is in; ts2coreml "
                "cannot carry that write out (make the tensor inside, or write functionally)");
        values_[cur] = value;
        chain.push_back(cur);
        torch::jit::Node* producer = cur->node();
        if (!isViewOp(*producer)) break;
        torch::jit::Value* base = producer->input(0);
        const std::string kind = producer->kind().toQualString();
        const Arg& baseArg = values_.at(base);
        auto in = [&](size_t i) { return values_.at(producer->input(i)); };
        if (kind == "aten::slice") {
            value = ctx.call("aten::slice_scatter", {{"self", baseArg},
                                                     {"src", value},
                                                     {"dim", in(1)},
                                                     {"start", in(2)},
                                                     {"end", in(3)},
                                                     {"step", in(4)}})
                        .at(0);
        } else if (kind == "aten::select") {
            value =
                ctx.call("aten::select_scatter", {{"self", baseArg}, {"src", value}, {"dim", in(1)}, {"index", in(2)}})
                    .at(0);
        } else if (kind == "aten::detach" || kind == "aten::alias" || kind == "aten::contiguous" ||
                   kind == "aten::view" || kind == "aten::reshape" || kind == "aten::unsqueeze" ||
                   kind == "aten::squeeze" || kind == "aten::flatten" || kind == "aten::view_as" ||
                   kind == "aten::reshape_as") {
            value = ctx.call("aten::reshape_as", {{"self", value}, {"other", baseArg}}).at(0);
        } else {
            throw LoweringError("writes in place into a view made by '" + kind +
                                "'; ts2coreml can write back only through slices, selects and reshapes");
        }
        cur = base;
    }
    // Other views of the written tensor read after the write would see the old values here.
    std::vector<torch::jit::Value*> views;
    collectViews(cur, views);
    for (torch::jit::Value* v : views) {
        if (std::find(chain.begin(), chain.end(), v) != chain.end()) continue;
        if (v->node()->isAfter(node)) continue;  // taken after the write: sees the new value
        for (const auto& use : v->uses())
            if (use.user->isAfter(node))
                throw LoweringError("writes in place into a tensor whose view (made by '" +
                                    std::string(v->node()->kind().toQualString()) + "' at " +
                                    describeLocation(*v->node(), options_.modelPath) +
                                    ") is read after the write; ts2coreml cannot update that view");
    }
}

LoweringStep GraphLowering::tellLowering(LoweringStep step) {
    std::swap(step, toldStep_);
    if (options_.onLowering) options_.onLowering(toldStep_);
    return step;
}

void GraphLowering::lowerNode(torch::jit::Node* node) {
    for (auto* v : node->inputs())
        if (!values_.count(v)) return;  // an input failed to lower; its error is already reported
    const std::string location = describeLocation(*node, options_.modelPath);
    builder_->setLocation(location);
    nodeFirstOp_ = builder_->block().operations().size();
    const std::string kind = node->kind().toQualString();
    try {
        if (isStructuralOp(*node)) {
            if (options_.onLowering) tellLowering({kind, "built-in", "", location});
            if (!lowerStructural(node)) throw LoweringError("unhandled structural op");
            return;
        }
        if (foldScalarArithmetic(node)) return;
        const auto* schema = node->maybeSchema();
        if (!schema) throw LoweringError("'" + kind + "' has no schema");
        std::vector<std::pair<std::string, Arg>> args;
        for (size_t i = 0; i < schema->arguments().size() && i < node->inputs().size(); ++i)
            args.emplace_back(schema->arguments()[i].name(), values_.at(node->input(i)));
        // A quantized op's lowering needs the dtype (quint8, qint8, qint32) of its quantized inputs,
        // which their MIL values, float tensors of the dequantized values, do not carry:
        // `NAME.qdtype` holds torch's ScalarType code of argument NAME.
        if (kind.rfind("quantized::", 0) == 0)
            for (size_t i = 0; i < schema->arguments().size() && i < node->inputs().size(); ++i)
                if (auto dtype = quantizedDtypes_.of(node->input(i)))
                    args.emplace_back(schema->arguments()[i].name() + ".qdtype",
                                      Arg::constant(static_cast<int64_t>(*dtype)));
        const LoweringEntry* entry = registry_.find(kind, schema->overload_name(), options_.target);
        if (!entry) throw LoweringError("no lowering for '" + kind + "'");
        NodeContext ctx(*this, kind, schema->overload_name(), location, std::move(args), node->outputs().size());
        if (options_.onLowering) tellLowering({kind, entry->provider, entry->plugin, location});
        std::vector<Arg> results;
        // A plugin's failures name the plugin: the user's fix is there, not in their model.
        const std::string from =
            entry->plugin.empty() ? std::string() : "plugin '" + entry->plugin + "' (" + entry->provider + "): ";
        try {
            results = ctx.run(*entry);
        } catch (const LoweringError& e) {
            if (from.empty()) throw;
            throw LoweringError(from + e.what());
        } catch (const mil::SchemaError& e) {
            if (from.empty()) throw;
            throw LoweringError(from + e.what());
        } catch (const std::exception& e) {
            throw LoweringError((from.empty() ? "lowering (" + entry->provider + ") " : from) +
                                "threw: " + errorReason(e));
        } catch (...) {
            throw LoweringError((from.empty() ? "lowering (" + entry->provider + ") " : from) +
                                "threw a non-standard exception");
        }
        for (size_t i = 0; i < results.size(); ++i) {
            if (results[i].isTensor() || results[i].isComplex())
                nameValue(results[i].value(), node->output(i)->debugName());
            values_[node->output(i)] = std::move(results[i]);
        }
        if (!schema->returns().empty() && schema->returns()[0].alias_info() &&
            schema->returns()[0].alias_info()->isWrite() && !results.empty())
            writeBack(node, values_.at(node->output(0)), ctx);
        recordCustomLayers(node, location);
    } catch (const std::exception& e) {
        std::string origin;  // a complex input the op may not take: where it comes from
        for (auto* v : node->inputs())
            if (values_.at(v).isComplex() && origin.empty())
                origin = " (the complex tensor comes from '" + std::string(v->node()->kind().toQualString()) + "' at " +
                         describeLocation(*v->node(), options_.modelPath) + ")";
        errors_.push_back({location, "while lowering '" + kind + "': " + firstLine(e.what()) + origin, false,
                           libraryLocation(*node)});
    }
}

void GraphLowering::recordCustomLayers(torch::jit::Node* node, const std::string& location) {
    const auto& ops = builder_->block().operations();
    for (size_t i = nodeFirstOp_; i < ops.size(); ++i) {
        const mil::Operation& op = *ops[i];
        if (op.type() != mil::kCustomLayerOp) continue;
        CustomLayerOrigin origin{&op, node, {}, location};
        for (const mil::Value* v : *op.inputList("inputs")) {
            torch::jit::Value* from = nullptr;
            for (torch::jit::Value* t : node->inputs()) {
                const Arg& a = values_.at(t);
                if (a.isTensor() && a.value() == v) from = t;
            }
            origin.inputs.push_back(from);
        }
        customLayers_.push_back(std::move(origin));
    }
}

}  // namespace ts2coreml
