// Composites at conversion time (each becomes a lowering that runs its steps through the builder
// and the registry), and the checks that need every loaded file: cycles and duplicate keys.
#include "composite/Composite.h"

#include <ts2coreml/OpSchema.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace ts2coreml::composite {

namespace {

std::string showLiteral(const mil::Literal& l) {
    return std::visit(
        [](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            std::ostringstream s;
            if constexpr (std::is_same_v<T, std::monostate>)
                s << "None";
            else if constexpr (std::is_same_v<T, bool>)
                s << (v ? "true" : "false");
            else if constexpr (std::is_same_v<T, std::string>)
                s << "'" << v << "'";
            else if constexpr (std::is_arithmetic_v<T>)
                s << v;
            else {
                s << "[";
                for (size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
                s << "]";
            }
            return s.str();
        },
        l);
}

/// Equal as values: an int and a float of the same value are equal.
bool sameValue(const mil::Literal& a, const mil::Literal& b) {
    const auto number = [](const mil::Literal& l) -> std::optional<double> {
        if (auto* i = std::get_if<int64_t>(&l)) return static_cast<double>(*i);
        if (auto* d = std::get_if<double>(&l)) return *d;
        return std::nullopt;
    };
    if (auto x = number(a), y = number(b); x && y) return *x == *y;
    return a == b;
}

/// One run of a composite: its named values and the context it lowers in.
class CompositeRun {
public:
    CompositeRun(const Composite& c, LoweringContext& ctx) : c_(c), ctx_(ctx) {}

    void run() {
        for (const auto& [arg, want] : c_.require) {
            const Arg& a = ctx_.arg(arg);
            const bool holds = std::holds_alternative<std::monostate>(want)
                                   ? a.isNone()
                                   : a.isConstant() && sameValue(a.literal(), want);
            if (!holds)
                ctx_.fail("the composite at " + c_.provider() + " handles it only with " + arg + " = " +
                          showLiteral(want) + "; here " + arg + " is " + a.describe());
        }
        if (c_.customLayer) return customLayer(*c_.customLayer);
        std::vector<Arg> last;
        for (const Step& s : c_.steps) {
            try {
                last = s.isMil ? milStep(s) : torchStep(s);
            } catch (const mil::SchemaError& e) {
                ctx_.fail(where(s.mark) + e.what());
            } catch (const LoweringError& e) {
                ctx_.fail(where(s.mark) + e.what());
            }
            if (!s.outs.empty() && s.outs.size() != last.size())
                ctx_.fail(where(s.mark) + "the step binds " + std::to_string(s.outs.size()) + " names but '" + s.op +
                          "' gives " + std::to_string(last.size()) + " values");
            for (size_t i = 0; i < s.outs.size(); ++i) named_[s.outs[i]] = last[i];
        }
        if (c_.outputs.empty()) {
            if (last.size() < ctx_.numOutputs())
                ctx_.fail(where(c_.steps.back().mark) + "the last step gives " + std::to_string(last.size()) +
                          " values; the op has " + std::to_string(ctx_.numOutputs()) + " outputs");
            for (size_t i = 0; i < ctx_.numOutputs(); ++i) ctx_.bind(i, last[i]);
        } else {
            for (size_t i = 0; i < c_.outputs.size(); ++i) ctx_.bind(i, lookup(c_.outputs[i]));
        }
    }

private:
    std::string where(const Mark& m) const {
        return c_.file + ":" + std::to_string(m.line) + ":" + std::to_string(m.column) + ": ";
    }

    const Arg& lookup(const Operand& o) const {
        auto it = named_.find(o.ref);
        return it != named_.end() ? it->second : ctx_.arg(o.ref);
    }

    /// An operand as a torch argument (for registry calls and custom-layer parameters).
    Arg asArg(const Operand& o) const {
        switch (o.form) {
            case Operand::Form::Ref: return lookup(o);
            case Operand::Form::Literal:
                return std::holds_alternative<std::monostate>(o.literal) ? Arg::none() : Arg::constant(o.literal);
            case Operand::Form::List: {
                std::vector<Arg> elements;
                for (const Operand& e : o.elements) elements.push_back(asArg(e));
                bool ints = !elements.empty(), numbers = !elements.empty();
                for (const Arg& e : elements) {
                    ints = ints && e.isConstant() && std::holds_alternative<int64_t>(e.literal());
                    numbers =
                        numbers && e.isConstant() &&
                        (std::holds_alternative<int64_t>(e.literal()) || std::holds_alternative<double>(e.literal()));
                }
                if (ints) {
                    std::vector<int64_t> v;
                    for (const Arg& e : elements) v.push_back(std::get<int64_t>(e.literal()));
                    return Arg::constant(std::move(v));
                }
                if (numbers) {
                    std::vector<double> v;
                    for (const Arg& e : elements)
                        v.push_back(std::holds_alternative<int64_t>(e.literal())
                                        ? static_cast<double>(std::get<int64_t>(e.literal()))
                                        : std::get<double>(e.literal()));
                    return Arg::constant(std::move(v));
                }
                return Arg::list(std::move(elements));
            }
        }
        return Arg::none();
    }

    /// A constant as the MIL input wants it: numbers become floats for float inputs.
    static mil::Literal adapt(mil::Literal l, bool wantFloat) {
        if (!wantFloat) return l;
        if (auto* i = std::get_if<int64_t>(&l)) return static_cast<double>(*i);
        if (auto* v = std::get_if<std::vector<int64_t>>(&l)) return std::vector<double>(v->begin(), v->end());
        return l;
    }

    mil::Operand asMil(const Operand& o, const std::string& input, const mil::InputSpec& spec, bool floatTypeVar) {
        const Arg a = asArg(o);
        const bool wantFloat = floatTypeVar || (spec.dtypes & kInts) == 0;
        switch (a.kind()) {
            case Arg::Kind::None:
                throw LoweringError("input '" + input + "' is None here (" +
                                    (o.form == Operand::Form::Ref ? "$" + o.ref : "a literal") + ")");
            case Arg::Kind::Constant: return mil::Operand(adapt(a.literal(), wantFloat));
            case Arg::Kind::Tensor:
            case Arg::Kind::Complex: return mil::Operand(ctx_.materialize(a));  // a complex one is refused there
            case Arg::Kind::List: {
                std::vector<mil::Value*> values;
                for (const Arg& e : a.elements()) values.push_back(ctx_.materialize(e));
                return mil::Operand(std::move(values));
            }
        }
        return mil::Operand(a.literal());
    }

    std::vector<Arg> milStep(const Step& s) {
        const mil::OpSchema& schema = *mil::SchemaTable::instance().find(s.op);
        // Literals bound next to a float tensor of the same type variable are floats (`y: 1` in `add`).
        std::set<std::string> floatVars;
        for (const auto& [name, o] : s.args) {
            const mil::InputSpec* spec = schema.findInput(name);
            if (!spec || spec->typeVar.empty() || o.form != Operand::Form::Ref) continue;
            const Arg& a = lookup(o);
            const DType dt = a.value() ? a.value()->type().dtype : a.constData() ? a.constData()->dtype : DType::Int32;
            if (a.isTensor() && (dt == DType::Float32 || dt == DType::Float16 || dt == DType::Float64))
                floatVars.insert(spec->typeVar);
        }
        mil::OperandList inputs;
        for (const auto& [name, o] : s.args) {
            const mil::InputSpec& spec = *schema.findInput(name);
            // An optional torch argument that is None leaves an optional MIL input to its default.
            if (spec.optional && o.form == Operand::Form::Ref && lookup(o).isNone()) continue;
            inputs.emplace_back(name, asMil(o, name, spec, !spec.typeVar.empty() && floatVars.count(spec.typeVar)));
        }
        std::vector<Arg> out;
        for (mil::Value* v : ctx_.builder().addOp(s.op, inputs)) out.push_back(Arg::tensor(v));
        return out;
    }

    std::vector<Arg> torchStep(const Step& s) {
        std::vector<std::pair<std::string, Arg>> args;
        for (const auto& [name, o] : s.args) args.emplace_back(name, asArg(o));
        return ctx_.call(s.op, args);
    }

    void customLayer(const CustomLayerSpec& spec) {
        auto layer = std::make_shared<mil::CustomLayer>();
        layer->className = spec.className;
        layer->description = spec.description;
        for (const auto& [name, o] : spec.parameters) {
            const Arg a = asArg(o);
            if (!a.isConstant())
                ctx_.fail(where(o.mark) + "parameter '" + name + "' is not a constant here: " + a.describe());
            const mil::Literal& l = a.literal();
            if (auto* i = std::get_if<int64_t>(&l))
                layer->parameters[name] = *i >= INT32_MIN && *i <= INT32_MAX
                                              ? mil::CustomLayer::Parameter(static_cast<int32_t>(*i))
                                              : mil::CustomLayer::Parameter(*i);
            else if (auto* d = std::get_if<double>(&l))
                layer->parameters[name] = *d;
            else if (auto* b = std::get_if<bool>(&l))
                layer->parameters[name] = *b;
            else if (auto* str = std::get_if<std::string>(&l))
                layer->parameters[name] = *str;
            else
                ctx_.fail(where(o.mark) + "parameter '" + name + "' is " + a.describe() +
                          "; parameters are scalars or strings");
        }
        for (const Operand& w : spec.weights) {
            const Arg& a = lookup(w);
            if (!a.constData())
                ctx_.fail(where(w.mark) + "weight $" + w.ref + " is not a constant tensor here: " + a.describe());
            layer->weights.push_back(a.constData());
        }
        std::vector<mil::Value*> inputs;
        for (const Operand& in : spec.inputs) inputs.push_back(ctx_.materialize(lookup(in)));
        std::vector<TensorType> types;
        for (const CustomOutput& out : spec.outputs) types.push_back(ctx_.materialize(lookup(out.like))->type());
        std::vector<mil::Value*> outs;
        try {
            outs = ctx_.builder().customLayer(std::move(layer), inputs, types);
        } catch (const mil::SchemaError& e) {
            ctx_.fail(where(spec.mark) + e.what());
        }
        for (size_t i = 0; i < outs.size(); ++i) ctx_.bind(i, outs[i]);
    }

    const Composite& c_;
    LoweringContext& ctx_;
    std::map<std::string, Arg> named_;
};

/// The torch op name a step calls, without its overload.
std::string opName(const std::string& key) {
    const auto sep = key.find("::");
    const auto dot = key.find('.', sep == std::string::npos ? 0 : sep);
    return dot == std::string::npos ? key : key.substr(0, dot);
}

/// Reports each cycle of composites calling composites once, at the step that closes it.
void findCycles(const std::vector<std::shared_ptr<const Composite>>& all, std::vector<std::string>& errors) {
    std::map<std::string, std::vector<const Composite*>> byName;
    for (const auto& c : all) byName[opName(c->key)].push_back(c.get());
    std::map<const Composite*, int> state;  // 0 new, 1 on the path, 2 done
    std::vector<std::pair<const Composite*, const Step*>> path;
    std::function<void(const Composite*)> visit = [&](const Composite* c) {
        state[c] = 1;
        for (const Step& s : c->steps) {
            if (s.isMil) continue;
            auto it = byName.find(opName(s.op));
            if (it == byName.end()) continue;
            path.emplace_back(c, &s);
            for (const Composite* callee : it->second) {
                if (state[callee] == 1) {
                    std::string chain;
                    bool on = false;
                    for (const auto& [pc, ps] : path) {
                        if (pc == callee) on = true;
                        if (on) chain += pc->key + " (" + pc->provider() + ") -> ";
                    }
                    errors.push_back(
                        diagnostic(c->file, s.opMark, "composites call each other in a cycle: " + chain + callee->key));
                } else if (state[callee] == 0) {
                    visit(callee);
                }
            }
            path.pop_back();
        }
        state[c] = 2;
    };
    for (const auto& c : all)
        if (state[c.get()] == 0) visit(c.get());
}

}  // namespace

LoweringFn compositeLowering(std::shared_ptr<const Composite> composite) {
    return [composite](LoweringContext& ctx) { CompositeRun(*composite, ctx).run(); };
}

std::vector<std::string> registerCompositeFiles(const std::vector<std::string>& files, LoweringRegistry& registry) {
    std::vector<std::string> errors;
    std::vector<std::shared_ptr<const Composite>> all;
    for (const auto& f : files)
        for (Composite& c : loadCompositeFile(f, errors))
            all.push_back(std::make_shared<const Composite>(std::move(c)));

    // A key (at a minimum target) defined twice needs `override: true` on the later definition.
    std::map<std::pair<std::string, Target>, std::string> defined;
    for (const LoweringEntry* e : registry.entries()) defined[{e->key, e->options.minTarget}] = e->provider;
    for (const auto& c : all) {
        auto [it, fresh] = defined.emplace(std::make_pair(c->key, c->minTarget), c->provider());
        if (!fresh && !c->override)
            errors.push_back(diagnostic(
                c->file, c->mark,
                "'" + c->key + "' is already lowered by " + it->second + "; add 'override: true' to replace it"));
        it->second = c->provider();
    }
    findCycles(all, errors);
    if (!errors.empty()) return errors;

    LoweringRegistry staged = LoweringRegistry::staging();
    for (const auto& c : all) {
        staged.setProvider(c->provider());
        try {
            if (!c->schema.empty()) staged.declareTorchOp(c->schema);
            staged.add(c->key, compositeLowering(c), {c->minTarget, c->override});
        } catch (const std::invalid_argument& e) {
            errors.push_back(diagnostic(c->file, c->mark, e.what()));
        }
    }
    if (errors.empty()) {
        try {
            registry.merge(std::move(staged));
        } catch (const std::invalid_argument& e) {
            errors.push_back(files.front() + ": error: " + e.what());
        }
    }
    return errors;
}

std::string defaultOpsFile() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("TS2COREML_OPS")) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed = exe.parent_path().parent_path() / "share" / "ts2coreml" / "ops.yaml";
        if (fs::exists(installed, ec)) return installed.string();
    }
#ifdef TS2COREML_SOURCE_OPS
    if (fs::exists(TS2COREML_SOURCE_OPS, ec)) return TS2COREML_SOURCE_OPS;
#endif
    return {};
}

}  // namespace ts2coreml::composite
