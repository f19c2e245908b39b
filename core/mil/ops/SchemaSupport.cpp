#include "mil/ops/SchemaSupport.h"

#include "mil/IRAccess.h"

#include <algorithm>
#include <cstdint>
#include <set>

namespace ts2coreml::mil::schema {

InputSpec input(std::string name, DTypeSet dtypes, std::string typeVar) {
    InputSpec s;
    s.name = std::move(name);
    s.dtypes = dtypes;
    s.typeVar = std::move(typeVar);
    return s;
}

InputSpec constInput(std::string name, DTypeSet dtypes, std::string typeVar) {
    InputSpec s = input(std::move(name), dtypes, std::move(typeVar));
    s.isConst = true;
    return s;
}

InputSpec optionalConst(std::string name, DTypeSet dtypes, Literal defaultValue, std::string typeVar) {
    InputSpec s = constInput(std::move(name), dtypes, std::move(typeVar));
    s.optional = true;
    s.defaultValue = std::move(defaultValue);
    return s;
}

InputSpec optionalInput(std::string name, DTypeSet dtypes, std::string typeVar) {
    InputSpec s = input(std::move(name), dtypes, std::move(typeVar));
    s.optional = true;
    return s;
}

InputSpec variadic(std::string name, DTypeSet dtypes, std::string typeVar) {
    InputSpec s = input(std::move(name), dtypes, std::move(typeVar));
    s.variadic = true;
    return s;
}

void declare(SchemaTable& table, std::string name, std::vector<InputSpec> inputs, InferFn infer, std::string doc,
             Target minTarget) {
    OpSchema s;
    s.name = std::move(name);
    s.inputs = std::move(inputs);
    s.minTarget = minTarget;
    s.doc = std::move(doc);
    s.infer = [infer = std::move(infer)](const OpView& view) -> std::vector<TensorType> {
        try {
            return infer(view);
        } catch (const SchemaError&) {
            throw;
        } catch (const std::exception& e) {  // ShapeError, or a constant that cannot be read
            view.fail(e.what());
        }
    };
    IRAccess::addSchema(table, std::move(s));
}

namespace {

// The bound value of a constant parameter, checked for rank; null when omitted.
const Value* boundParam(const OpView& view, const std::string& name, size_t rank) {
    const Value* v = view.value(name);
    if (!v) return nullptr;
    if (!v->constant()) view.fail("input '" + name + "' must be a constant");
    if (v->type().rank() != rank)
        view.fail("input '" + name + "' must be " + (rank == 0 ? "a scalar" : "a rank-1 tensor") + ", got " +
                  v->type().str());
    return v;
}

}  // namespace

int64_t intParam(const OpView& view, const std::string& name) {
    boundParam(view, name, 0);
    return view.getInt(name);
}

double floatParam(const OpView& view, const std::string& name) {
    boundParam(view, name, 0);
    return view.getDouble(name);
}

bool boolParam(const OpView& view, const std::string& name) {
    boundParam(view, name, 0);
    return view.getBool(name);
}

std::string stringParam(const OpView& view, const std::string& name) {
    boundParam(view, name, 0);
    return view.getString(name);
}

std::vector<int64_t> intsParam(const OpView& view, const std::string& name,
                               std::optional<std::vector<int64_t>> fallback) {
    if (boundParam(view, name, 1)) return view.getInts(name);
    const InputSpec* spec = view.schema().findInput(name);
    if (fallback && (!spec || std::holds_alternative<std::monostate>(spec->defaultValue))) return *fallback;
    return view.getInts(name);
}

std::vector<bool> boolsParam(const OpView& view, const std::string& name, size_t n) {
    if (!boundParam(view, name, 1)) return std::vector<bool>(n, false);
    std::vector<bool> out;
    for (int64_t v : view.getInts(name)) out.push_back(v != 0);
    return out;
}

std::optional<std::vector<int64_t>> constInts(const OpView& view, const std::string& name) {
    const Value* v = view.value(name);
    if (!v || !v->constant()) return std::nullopt;
    return v->constant()->toInts();
}

void requireRank(const OpView& view, const std::string& name, size_t rank) { requireRank(view, name, rank, rank); }

void requireRank(const OpView& view, const std::string& name, size_t lo, size_t hi) {
    const TensorType& t = view.type(name);
    if (t.rank() >= lo && t.rank() <= hi) return;
    const std::string expected = lo == hi         ? std::to_string(lo)
                                 : hi == SIZE_MAX ? "at least " + std::to_string(lo)
                                                  : std::to_string(lo) + " to " + std::to_string(hi);
    view.fail("input '" + name + "' must have rank " + expected + ", got " + t.str());
}

void requireOneOf(const OpView& view, const std::string& name, const std::string& value,
                  const std::vector<std::string>& allowed) {
    if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    view.fail("input '" + name + "' is '" + value + "', expected one of " + list);
}

shapes::Window windowParams(const OpView& view, std::vector<int64_t> kernel, bool hasDilations) {
    const size_t n = kernel.size();
    shapes::Window w;
    w.kernel = std::move(kernel);
    w.strides = intsParam(view, "strides", std::vector<int64_t>(n, 1));
    w.dilations = hasDilations ? intsParam(view, "dilations", std::vector<int64_t>(n, 1)) : std::vector<int64_t>(n, 1);
    w.padType = stringParam(view, "pad_type");
    w.pad = intsParam(view, "pad", std::vector<int64_t>(2 * n, 0));
    if (w.padType != "custom" && std::any_of(w.pad.begin(), w.pad.end(), [](int64_t p) { return p != 0; }))
        view.fail("input 'pad' is non-zero but pad_type is '" + w.padType + "' (pad is used only with 'custom')");
    shapes::checkWindow(w, n);
    return w;
}

bool isConstDerived(const Value* v) {
    std::vector<const Value*> pending{v};
    std::set<const Value*> seen;
    while (!pending.empty()) {
        const Value* cur = pending.back();
        pending.pop_back();
        if (!seen.insert(cur).second) continue;
        const Operation* op = cur->producer();
        if (!op) return false;  // a block input
        if (op->type() == "const") continue;
        for (const auto& [name, values] : op->inputs()) pending.insert(pending.end(), values.begin(), values.end());
    }
    return true;
}

Shape shapeFromInput(const OpView& v, const std::string& name) {
    requireRank(v, name, 1);
    const Dim& n = v.type(name).shape[0];
    if (!n.isStatic()) v.fail(name + " must have a static length, got " + v.type(name).str());
    Shape out;
    if (auto sizes = constInts(v, name)) {
        for (int64_t s : *sizes) {
            if (s < 0) v.fail(name + " sizes must not be negative, got " + std::to_string(s));
            out.push_back(Dim::fixed(s));
        }
    } else {
        for (int64_t i = 0; i < n.size; ++i) out.push_back(shapes::freshDim());
    }
    return out;
}

}  // namespace ts2coreml::mil::schema
