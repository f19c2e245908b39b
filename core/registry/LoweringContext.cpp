// Convenience accessors of the SDK's Arg and LoweringContext.
#include <ts2coreml/Lowering.h>

#include <sstream>

namespace ts2coreml {

Arg Arg::constant(mil::Literal l) {
    Arg a;
    a.kind_ = Kind::Constant;
    a.literal_ = std::move(l);
    return a;
}

Arg Arg::tensor(mil::Value* v) {
    Arg a;
    a.kind_ = Kind::Tensor;
    a.value_ = v;
    return a;
}

Arg Arg::constTensor(std::shared_ptr<const mil::ConstData> data) {
    Arg a;
    a.kind_ = Kind::Tensor;
    a.data_ = std::move(data);
    return a;
}

Arg Arg::dynamicScalar(mil::Value* v) {
    Arg a = tensor(v);
    a.isScalar_ = true;
    return a;
}

Arg Arg::complex(mil::Value* pairs) {
    Arg a;
    a.kind_ = Kind::Complex;
    a.value_ = pairs;
    return a;
}

Arg Arg::list(std::vector<Arg> elements) {
    Arg a;
    a.kind_ = Kind::List;
    a.elements_ = std::move(elements);
    return a;
}

namespace {
std::string literalText(const mil::Literal& l) {
    std::ostringstream os;
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>)
                os << "None";
            else if constexpr (std::is_same_v<T, bool>)
                os << "bool " << (v ? "True" : "False");
            else if constexpr (std::is_same_v<T, int64_t>)
                os << "int " << v;
            else if constexpr (std::is_same_v<T, double>)
                os << "float " << v;
            else if constexpr (std::is_same_v<T, std::string>)
                os << "str '" << v << "'";
            else {
                os << "list [";
                for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
                os << "]";
            }
        },
        l);
    return os.str();
}
}  // namespace

std::string Arg::describe() const {
    switch (kind_) {
        case Kind::None: return "None";
        case Kind::Constant: return literalText(literal_);
        case Kind::Tensor:
            if (value_) return std::string(isScalar_ ? "dynamic scalar " : "tensor ") + value_->type().str();
            return "constant tensor " + TensorType::of(data_->dtype, data_->sizes).str();
        case Kind::List: return "list of " + std::to_string(elements_.size());
        case Kind::Complex: return "complex tensor (real, imaginary pairs " + value_->type().str() + ")";
    }
    return "?";
}

void LoweringContext::fail(const std::string& message) const { throw LoweringError(message); }

mil::Value* LoweringContext::materialize(const Arg& a) {
    switch (a.kind()) {
        case Arg::Kind::Tensor: return a.value() ? a.value() : builder().constant(a.constData());
        case Arg::Kind::Constant: return builder().constant(a.literal());
        case Arg::Kind::List: {
            // A list of ints, some computed at run time: concatenate them into a 1-D int32 tensor.
            std::vector<mil::Value*> parts;
            for (const Arg& e : a.elements()) {
                mil::Value* v = materialize(e);
                if (v->type().rank() == 0)
                    v = builder().add("expand_dims", {{"x", v}, {"axes", std::vector<int64_t>{0}}});
                parts.push_back(v);
            }
            return builder().add("concat", {{"values", parts}, {"axis", int64_t{0}}});
        }
        case Arg::Kind::Complex:
            fail(
                "got a complex tensor, and this op takes real tensors only: Core ML has no complex type (make it "
                "real first: .abs(), .real, .imag, torch.view_as_real)");
        case Arg::Kind::None: break;
    }
    fail("expected a tensor, got None");
}

mil::Value* LoweringContext::tensor(const std::string& name) {
    const Arg& a = arg(name);
    if (a.isNone()) fail("argument '" + name + "' is None; a tensor is needed");
    return materialize(a);
}

std::vector<mil::Value*> LoweringContext::tensors(const std::string& name) {
    const Arg& a = arg(name);
    if (!a.isList()) fail("argument '" + name + "' must be a list of tensors, got " + a.describe());
    std::vector<mil::Value*> out;
    for (const Arg& e : a.elements()) out.push_back(materialize(e));
    return out;
}

bool LoweringContext::isNone(const std::string& name) const { return arg(name).isNone(); }
bool LoweringContext::isConstant(const std::string& name) const { return arg(name).isConstant(); }

namespace {
[[noreturn]] void wrongKind(const LoweringContext& ctx, const std::string& name, const char* want, const Arg& a) {
    ctx.fail("argument '" + name + "' must be a constant " + want + ", got " + a.describe());
}
}  // namespace

int64_t LoweringContext::getInt(const std::string& name) const {
    const Arg& a = arg(name);
    if (a.isConstant()) {
        if (auto* i = std::get_if<int64_t>(&a.literal())) return *i;
        if (auto* b = std::get_if<bool>(&a.literal())) return *b;
    }
    wrongKind(*this, name, "int", a);
}

double LoweringContext::getDouble(const std::string& name) const {
    const Arg& a = arg(name);
    if (a.isConstant()) {
        if (auto* d = std::get_if<double>(&a.literal())) return *d;
        if (auto* i = std::get_if<int64_t>(&a.literal())) return static_cast<double>(*i);
        if (auto* b = std::get_if<bool>(&a.literal())) return *b;
    }
    wrongKind(*this, name, "number", a);
}

bool LoweringContext::getBool(const std::string& name) const {
    const Arg& a = arg(name);
    if (a.isConstant()) {
        if (auto* b = std::get_if<bool>(&a.literal())) return *b;
        if (auto* i = std::get_if<int64_t>(&a.literal())) return *i != 0;
    }
    wrongKind(*this, name, "bool", a);
}

std::string LoweringContext::getString(const std::string& name) const {
    const Arg& a = arg(name);
    if (a.isConstant())
        if (auto* s = std::get_if<std::string>(&a.literal())) return *s;
    wrongKind(*this, name, "string", a);
}

std::vector<int64_t> LoweringContext::getInts(const std::string& name) const {
    const Arg& a = arg(name);
    if (a.isConstant()) {
        if (auto* v = std::get_if<std::vector<int64_t>>(&a.literal())) return *v;
        if (auto* i = std::get_if<int64_t>(&a.literal())) return {*i};
    }
    if (a.isTensor() && !a.value() && a.constData()) return a.constData()->toInts();
    wrongKind(*this, name, "int list", a);
}

std::optional<int64_t> LoweringContext::optInt(const std::string& name) const {
    if (!hasArg(name) || isNone(name)) return std::nullopt;
    return getInt(name);
}

std::optional<double> LoweringContext::optDouble(const std::string& name) const {
    if (!hasArg(name) || isNone(name)) return std::nullopt;
    return getDouble(name);
}

}  // namespace ts2coreml
