#include <ts2coreml/OpSchema.h>

#include "mil/Families.h"

#include <algorithm>

namespace ts2coreml::mil {

const InputSpec* OpSchema::findInput(const std::string& n) const {
    for (const auto& in : inputs)
        if (in.name == n) return &in;
    return nullptr;
}

bool OpView::has(const std::string& name) const { return op_.inputList(name) != nullptr; }

Value* OpView::value(const std::string& name) const { return op_.input(name); }

const TensorType& OpView::type(const std::string& name) const {
    Value* v = op_.input(name);
    if (!v) fail("input '" + name + "' is required");
    return v->type();
}

std::vector<Value*> OpView::values(const std::string& name) const {
    const auto* vs = op_.inputList(name);
    return vs ? *vs : std::vector<Value*>{};
}

bool OpView::isConst(const std::string& name) const {
    Value* v = op_.input(name);
    return v ? v->constant() != nullptr : defaultOf(name) != nullptr;
}

const Literal* OpView::defaultOf(const std::string& name) const {
    const InputSpec* spec = schema_.findInput(name);
    if (!spec || std::holds_alternative<std::monostate>(spec->defaultValue)) return nullptr;
    return &spec->defaultValue;
}

namespace {
const ConstData& constOf(const OpView& view, const std::string& name) {
    Value* v = view.value(name);
    if (!v->constant()) view.fail("input '" + name + "' must be a constant");
    return *v->constant();
}
}  // namespace

int64_t OpView::getInt(const std::string& name) const {
    if (value(name)) return constOf(*this, name).asInt(0);
    const Literal* d = defaultOf(name);
    if (d && std::holds_alternative<int64_t>(*d)) return std::get<int64_t>(*d);
    if (d && std::holds_alternative<bool>(*d)) return std::get<bool>(*d);
    fail("input '" + name + "' is required");
}

double OpView::getDouble(const std::string& name) const {
    if (value(name)) return constOf(*this, name).asDouble(0);
    const Literal* d = defaultOf(name);
    if (d && std::holds_alternative<double>(*d)) return std::get<double>(*d);
    if (d && std::holds_alternative<int64_t>(*d)) return static_cast<double>(std::get<int64_t>(*d));
    fail("input '" + name + "' is required");
}

bool OpView::getBool(const std::string& name) const {
    if (value(name)) return constOf(*this, name).asDouble(0) != 0.0;
    const Literal* d = defaultOf(name);
    if (d && std::holds_alternative<bool>(*d)) return std::get<bool>(*d);
    fail("input '" + name + "' is required");
}

std::string OpView::getString(const std::string& name) const {
    if (value(name)) {
        const ConstData& c = constOf(*this, name);
        if (c.dtype != DType::String || c.strings.empty()) fail("input '" + name + "' must be a string");
        return c.strings.front();
    }
    const Literal* d = defaultOf(name);
    if (d && std::holds_alternative<std::string>(*d)) return std::get<std::string>(*d);
    fail("input '" + name + "' is required");
}

std::vector<int64_t> OpView::getInts(const std::string& name) const {
    if (value(name)) return constOf(*this, name).toInts();
    const Literal* d = defaultOf(name);
    if (d && std::holds_alternative<std::vector<int64_t>>(*d)) return std::get<std::vector<int64_t>>(*d);
    fail("input '" + name + "' is required");
}

std::vector<double> OpView::getDoubles(const std::string& name) const {
    if (value(name)) return constOf(*this, name).toDoubles();
    const Literal* d = defaultOf(name);
    if (d && std::holds_alternative<std::vector<double>>(*d)) return std::get<std::vector<double>>(*d);
    fail("input '" + name + "' is required");
}

void OpView::fail(const std::string& message) const { throw SchemaError("MIL op '" + schema_.name + "': " + message); }

SchemaTable& SchemaTable::instance() {
    static SchemaTable* table = [] {
        auto* t = new SchemaTable;            // never destroyed: lowerings in plugins may outlive static teardown
        Families<SchemaTable>::populate(*t);  // every core/mil/ops/<Family>.cpp
        return t;
    }();
    return *table;
}

void SchemaTable::add(OpSchema schema) {
    auto it = std::find_if(schemas_.begin(), schemas_.end(), [&](const auto& s) { return s->name == schema.name; });
    if (it != schemas_.end()) throw std::logic_error("MIL op schema '" + schema.name + "' declared twice");
    schemas_.push_back(std::make_unique<OpSchema>(std::move(schema)));
}

const OpSchema* SchemaTable::find(const std::string& name) const {
    for (const auto& s : schemas_)
        if (s->name == name) return s.get();
    return nullptr;
}

std::vector<const OpSchema*> SchemaTable::all() const {
    std::vector<const OpSchema*> out;
    for (const auto& s : schemas_) out.push_back(s.get());
    return out;
}

}  // namespace ts2coreml::mil
