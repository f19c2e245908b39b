#include <ts2coreml/LoweringSupport.h>

#include <cmath>
#include <cstring>
#include <sstream>

namespace ts2coreml::lowering {

int64_t normalizeDim(const LoweringContext& ctx, int64_t dim, int64_t rank, const std::string& argName) {
    // torch treats a scalar as having one dimension for indexing purposes.
    const int64_t extent = rank == 0 ? 1 : rank;
    if (dim < -extent || dim >= extent)
        ctx.fail("'" + argName + "' = " + std::to_string(dim) + " is out of range for a tensor of rank " +
                 std::to_string(rank));
    return dim < 0 ? dim + extent : dim;
}

std::vector<int64_t> intList(const LoweringContext& ctx, const std::string& argName) {
    const Arg& a = ctx.arg(argName);
    if (!a.isList()) return ctx.getInts(argName);
    std::vector<int64_t> out;
    for (const Arg& e : a.elements()) {
        if (!isIntConstant(e)) ctx.fail("'" + argName + "' must be constant ints, but an entry is " + e.describe());
        out.push_back(std::get<int64_t>(e.literal()));
    }
    return out;
}

std::vector<int64_t> expandList(const LoweringContext& ctx, const std::string& argName, size_t n) {
    std::vector<int64_t> v = intList(ctx, argName);
    if (v.size() == 1 && n != 1) v.assign(n, v.front());
    if (v.size() != n)
        ctx.fail("'" + argName + "' has " + std::to_string(v.size()) + " entries; expected " + std::to_string(n));
    return v;
}

std::vector<std::optional<int64_t>> optionalInts(const LoweringContext& ctx, const std::string& argName) {
    const Arg& a = ctx.arg(argName);
    std::vector<std::optional<int64_t>> out;
    if (a.isList()) {
        for (const Arg& e : a.elements()) {
            if (e.isNone()) {
                out.emplace_back();
            } else if (e.isConstant() && std::holds_alternative<int64_t>(e.literal())) {
                out.emplace_back(std::get<int64_t>(e.literal()));
            } else {
                ctx.fail("'" + argName + "' must hold constant ints or None, got " + e.describe());
            }
        }
        return out;
    }
    for (int64_t v : intList(ctx, argName)) out.emplace_back(v);
    return out;
}

std::vector<Arg> listElements(const LoweringContext& ctx, const Arg& list) {
    if (list.isList()) return list.elements();
    std::vector<Arg> out;
    if (list.isConstant()) {
        if (auto* ints = std::get_if<std::vector<int64_t>>(&list.literal())) {
            for (int64_t v : *ints) out.push_back(Arg::constant(mil::Literal(v)));
            return out;
        }
        if (auto* reals = std::get_if<std::vector<double>>(&list.literal())) {
            for (double v : *reals) out.push_back(Arg::constant(mil::Literal(v)));
            return out;
        }
    }
    ctx.fail("expected a list, got " + list.describe());
}

bool isIntConstant(const Arg& a) { return a.isConstant() && std::holds_alternative<int64_t>(a.literal()); }

Arg makeList(std::vector<Arg> elements) {
    std::vector<int64_t> ints;
    for (const Arg& e : elements) {
        if (!isIntConstant(e)) return Arg::list(std::move(elements));
        ints.push_back(std::get<int64_t>(e.literal()));
    }
    return Arg::constant(mil::Literal(ints));
}

std::vector<int64_t> symmetricPad(const std::vector<int64_t>& pad) {
    std::vector<int64_t> out;
    for (int64_t p : pad) {
        out.push_back(p);
        out.push_back(p);
    }
    return out;
}

std::string numberText(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

std::optional<DType> dtypeFromTorch(int64_t scalarType) {
    switch (scalarType) {
        case 0:  // uint8
        case 1:  // int8
        case 2:  // int16
        case 3:  // int32
        case 4:  // int64
            return DType::Int32;
        case 5: return DType::Float16;
        case 6:  // float32
        case 7:  // float64
            return DType::Float32;
        case 11: return DType::Bool;
        default: return std::nullopt;
    }
}

DType promote(DType a, DType b) {
    if (a == b) return a;
    if (isFloat(a) && isFloat(b)) return (a == DType::Float16) ? b : a;
    if (isFloat(a)) return a;
    if (isFloat(b)) return b;
    if (a == DType::Bool) return b;
    if (b == DType::Bool) return a;
    return DType::Int32;
}

namespace {

// IEEE 754 binary32 -> binary16, round to nearest even.
uint16_t halfBits(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const int32_t exponent = static_cast<int32_t>((x >> 23) & 0xffu) - 127 + 15;
    uint32_t mantissa = x & 0x7fffffu;
    if (((x >> 23) & 0xffu) == 0xffu) return static_cast<uint16_t>(sign | 0x7c00u | (mantissa ? 0x200u : 0u));
    if (exponent >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);
    if (exponent <= 0) {
        if (exponent < -10) return static_cast<uint16_t>(sign);
        mantissa |= 0x800000u;
        const uint32_t shift = static_cast<uint32_t>(14 - exponent);
        uint32_t half = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1);
        const uint32_t midpoint = 1u << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1u))) ++half;
        return static_cast<uint16_t>(sign | half);
    }
    uint32_t half = (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
    const uint32_t rest = mantissa & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
}

}  // namespace

mil::Value* scalarConst(mil::Builder& b, double value, DType dtype) {
    switch (dtype) {
        case DType::Float16: {
            const uint16_t bits = halfBits(static_cast<float>(value));
            std::vector<uint8_t> bytes(2);
            std::memcpy(bytes.data(), &bits, 2);
            return b.constant(mil::ConstData::fromBytes(DType::Float16, {}, std::move(bytes)));
        }
        case DType::Int32:
        case DType::Int64: return b.constant(mil::Literal(static_cast<int64_t>(value)));
        case DType::Bool: return b.constant(mil::Literal(value != 0.0));
        default: return b.constant(mil::Literal(value));
    }
}

mil::Value* boolVector(mil::Builder& b, const std::vector<bool>& values) {
    return b.constant(mil::ConstData::fromBools(values, {static_cast<int64_t>(values.size())}));
}

mil::Value* castTo(mil::Builder& b, mil::Value* x, DType dtype) {
    if (x->type().dtype == dtype) return x;
    return b.add("cast", {{"x", x}, {"dtype", dtypeName(dtype)}});
}

mil::Value* toFloat(mil::Builder& b, mil::Value* x) {
    return isFloat(x->type().dtype) ? x : castTo(b, x, DType::Float32);
}

LoweringFn unaryFloatOp(const char* milOp) {
    return [milOp](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        ctx.bind(0, b.add(milOp, {{"x", toFloat(b, ctx.tensor("self"))}}));
    };
}

bool isNumberLiteral(const Arg& a) {
    if (!a.isConstant()) return false;
    const auto& l = a.literal();
    return std::holds_alternative<int64_t>(l) || std::holds_alternative<double>(l) || std::holds_alternative<bool>(l);
}

double literalNumber(const Arg& a) {
    const auto& l = a.literal();
    if (auto* d = std::get_if<double>(&l)) return *d;
    if (auto* i = std::get_if<int64_t>(&l)) return static_cast<double>(*i);
    if (auto* b = std::get_if<bool>(&l)) return *b ? 1.0 : 0.0;
    return 0.0;
}

DType argDType(const Arg& a) {
    if (a.isTensor()) return a.value() ? a.value()->type().dtype : a.constData()->dtype;
    if (a.isConstant()) {
        const auto& l = a.literal();
        if (std::holds_alternative<bool>(l)) return DType::Bool;
        if (std::holds_alternative<int64_t>(l) || std::holds_alternative<std::vector<int64_t>>(l)) return DType::Int32;
    }
    return DType::Float32;
}

namespace {
DType narrowed(DType d) {
    if (d == DType::Float64) return DType::Float32;
    if (d == DType::Int64 || d == DType::Int16 || d == DType::Int8 || d == DType::UInt8) return DType::Int32;
    return d;
}
}  // namespace

std::pair<mil::Value*, mil::Value*> binaryOperands(LoweringContext& ctx, const Arg& a, const Arg& b) {
    mil::Builder& bld = ctx.builder();
    const bool aLit = isNumberLiteral(a);
    const bool bLit = isNumberLiteral(b);
    DType target;
    if (aLit && bLit) {
        target = promote(argDType(a), argDType(b));
    } else if (aLit || bLit) {
        // A Python scalar does not widen a tensor of its own category (x_fp16 * 2.0 stays fp16).
        const Arg& lit = aLit ? a : b;
        const DType tensorType = narrowed(argDType(aLit ? b : a));
        const DType litType = argDType(lit);
        target = (isFloat(litType) && !isFloat(tensorType))               ? DType::Float32
                 : (litType == DType::Int32 && tensorType == DType::Bool) ? DType::Int32
                                                                          : tensorType;
    } else {
        target = promote(narrowed(argDType(a)), narrowed(argDType(b)));
    }
    auto operand = [&](const Arg& x, bool literal) {
        return literal ? scalarConst(bld, literalNumber(x), target) : castTo(bld, ctx.materialize(x), target);
    };
    return {operand(a, aLit), operand(b, bLit)};
}

const TensorType& typeOf(const mil::Value* v) { return v->type(); }
int64_t rankOf(const mil::Value* v) { return static_cast<int64_t>(v->type().rank()); }

std::optional<int64_t> staticDim(const mil::Value* v, int64_t axis) {
    const Dim& d = v->type().shape.at(static_cast<size_t>(axis));
    if (d.isStatic()) return d.size;
    return std::nullopt;
}

mil::Value* shapeSlice(mil::Builder& b, mil::Value* x, int64_t begin, int64_t end) {
    std::vector<int64_t> dims;
    bool isStatic = true;
    for (int64_t i = begin; i < end; ++i) {
        auto d = staticDim(x, i);
        if (!d) {
            isStatic = false;
            break;
        }
        dims.push_back(*d);
    }
    if (isStatic) return b.ints(dims);
    mil::Value* shape = b.add("shape", {{"x", x}});
    if (begin == 0 && end == rankOf(x)) return shape;
    return b.add("slice_by_index",
                 {{"x", shape}, {"begin", std::vector<int64_t>{begin}}, {"end", std::vector<int64_t>{end}}});
}

Arg dimArg(mil::Builder& b, mil::Value* x, int64_t axis) {
    if (auto d = staticDim(x, axis)) return Arg::constant(mil::Literal(*d));
    mil::Value* shape = b.add("shape", {{"x", x}});
    return Arg::dynamicScalar(b.add("gather", {{"x", shape}, {"indices", axis}, {"axis", int64_t{0}}}));
}

mil::Value* toVector(mil::Builder& b, mil::Value* v) {
    if (v->type().rank() == 1) return v;
    return b.add("expand_dims", {{"x", v}, {"axes", std::vector<int64_t>{0}}});
}

mil::Value* shapeTensor(LoweringContext& ctx, const std::vector<Arg>& dims) {
    mil::Builder& b = ctx.builder();
    std::vector<int64_t> run;  // consecutive constant entries, emitted as one constant
    std::vector<mil::Value*> parts;
    auto flush = [&] {
        if (!run.empty()) parts.push_back(b.ints(run));
        run.clear();
    };
    for (const Arg& d : dims) {
        if (d.isConstant() && std::holds_alternative<int64_t>(d.literal())) {
            run.push_back(std::get<int64_t>(d.literal()));
            continue;
        }
        if (!d.isTensor()) ctx.fail("a shape entry must be an int, got " + d.describe());
        flush();
        parts.push_back(toVector(b, castTo(b, ctx.materialize(d), DType::Int32)));
    }
    flush();
    if (parts.size() == 1) return parts.front();
    if (parts.empty()) return b.ints({});
    return b.add("concat", {{"values", parts}, {"axis", int64_t{0}}});
}

mil::Value* reshapeTo(LoweringContext& ctx, mil::Value* x, const std::vector<Arg>& shape) {
    int unknown = 0;
    std::vector<int64_t> sizes;
    for (const Arg& d : shape) {
        if (d.isConstant() && std::holds_alternative<int64_t>(d.literal())) {
            const int64_t v = std::get<int64_t>(d.literal());
            unknown += v < 0;
            sizes.push_back(v);
        } else {
            ++unknown;
            sizes.push_back(-1);
        }
    }
    mil::Value* target = unknown <= 1 ? ctx.builder().ints(sizes) : shapeTensor(ctx, shape);
    return ctx.builder().add("reshape", {{"x", x}, {"shape", target}});
}

}  // namespace ts2coreml::lowering
