// Elementwise tensor arithmetic, comparisons, logic and unary math, with torch's type promotion.
// TorchScript's int/float arithmetic (aten::add.int, ...) is in Scalar.cpp.
#include "lowerings/Builtins.h"
#include "lowerings/Complex.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>

namespace ts2coreml::lowering {
namespace {

/// `other * alpha` for add/sub/rsub; `other` unchanged when alpha is 1.
Arg scaledByAlpha(LoweringContext& ctx, const Arg& other) {
    if (!ctx.hasArg("alpha")) return other;
    const Arg& alpha = ctx.arg("alpha");
    if (isNumberLiteral(alpha) && literalNumber(alpha) == 1.0) return other;
    if (isNumberLiteral(other) && isNumberLiteral(alpha)) {
        const bool real = argDType(other) == DType::Float32 || argDType(alpha) == DType::Float32;
        const double v = literalNumber(other) * literalNumber(alpha);
        return Arg::constant(real ? mil::Literal(v) : mil::Literal(static_cast<int64_t>(v)));
    }
    auto [o, a] = binaryOperands(ctx, other, alpha);
    return Arg::tensor(ctx.builder().add("mul", {{"x", o}, {"y", a}}));
}

/// A lowering `self (op) other` for a MIL elementwise_binary op.
LoweringFn binaryOp(const char* milOp) {
    return [milOp](LoweringContext& ctx) {
        auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
        ctx.bind(0, ctx.builder().add(milOp, {{"x", x}, {"y", y}}));
    };
}

void lowerAdd(LoweringContext& ctx) {
    auto [x, y] = binaryOperands(ctx, ctx.arg("self"), scaledByAlpha(ctx, ctx.arg("other")));
    ctx.bind(0, ctx.builder().add("add", {{"x", x}, {"y", y}}));
}

void lowerSub(LoweringContext& ctx) {
    auto [x, y] = binaryOperands(ctx, ctx.arg("self"), scaledByAlpha(ctx, ctx.arg("other")));
    ctx.bind(0, ctx.builder().add("sub", {{"x", x}, {"y", y}}));
}

// rsub(self, other, alpha) = other - alpha * self
void lowerRsub(LoweringContext& ctx) {
    auto [x, y] = binaryOperands(ctx, ctx.arg("other"), scaledByAlpha(ctx, ctx.arg("self")));
    ctx.bind(0, ctx.builder().add("sub", {{"x", x}, {"y", y}}));
}

/// Both operands as floats (true division and friends promote ints).
std::pair<mil::Value*, mil::Value*> floatOperands(LoweringContext& ctx, const Arg& a, const Arg& b) {
    auto [x, y] = binaryOperands(ctx, a, b);
    return {toFloat(ctx.builder(), x), toFloat(ctx.builder(), y)};
}

// trunc(v) = v < 0 ? ceil(v) : floor(v)
mil::Value* truncate(mil::Builder& b, mil::Value* v) {
    mil::Value* negative = b.add("less", {{"x", v}, {"y", scalarLike(b, 0.0, v)}});
    return b.add("select", {{"cond", negative}, {"a", b.add("ceil", {{"x", v}})}, {"b", b.add("floor", {{"x", v}})}});
}

// div: true division; rounding_mode "floor" / "trunc" rounds the quotient and keeps integer dtypes.
void lowerDiv(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const std::string mode =
        ctx.hasArg("rounding_mode") && !ctx.isNone("rounding_mode") ? ctx.getString("rounding_mode") : "";
    if (mode.empty()) {
        auto [x, y] = floatOperands(ctx, ctx.arg("self"), ctx.arg("other"));
        return ctx.bind(0, b.add("real_div", {{"x", x}, {"y", y}}));
    }
    if (mode != "floor" && mode != "trunc") ctx.fail("div rounding_mode='" + mode + "' is not supported");
    auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
    const DType dtype = x->type().dtype;
    if (mode == "floor" && !isFloat(dtype)) return ctx.bind(0, b.add("floor_div", {{"x", x}, {"y", y}}));
    mil::Value* q = b.add("real_div", {{"x", toFloat(b, x)}, {"y", toFloat(b, y)}});
    q = mode == "floor" ? b.add("floor", {{"x", q}}) : truncate(b, q);
    ctx.bind(0, castTo(b, q, dtype));
}

// floor_divide rounds toward negative infinity (torch >= 1.13).
void lowerFloorDivide(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
    if (!isFloat(x->type().dtype)) return ctx.bind(0, b.add("floor_div", {{"x", x}, {"y", y}}));
    ctx.bind(0, b.add("floor", {{"x", b.add("real_div", {{"x", x}, {"y", y}})}}));
}

// remainder(x, y) = x - floor(x / y) * y: the result has the sign of y, like Python's %.
void lowerRemainder(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
    mil::Value* q = isFloat(x->type().dtype) ? b.add("floor", {{"x", b.add("real_div", {{"x", x}, {"y", y}})}})
                                             : b.add("floor_div", {{"x", x}, {"y", y}});
    ctx.bind(0, b.add("sub", {{"x", x}, {"y", b.add("mul", {{"x", q}, {"y", y}})}}));
}

// pow: small integral exponents become products (MIL pow of a negative base is NaN for real exponents).
void lowerPow(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const Arg& exponent = ctx.arg("exponent");
    if (ctx.arg("self").isTensor() && isNumberLiteral(exponent)) {
        mil::Value* x = ctx.tensor("self");
        const double e = literalNumber(exponent);
        if (e == 1.0) return ctx.bind(0, x);
        if (e == 2.0) return ctx.bind(0, b.add("mul", {{"x", x}, {"y", x}}));
        if (e == 3.0) return ctx.bind(0, b.add("mul", {{"x", b.add("mul", {{"x", x}, {"y", x}})}, {"y", x}}));
        if (e == 0.5) return ctx.bind(0, b.add("sqrt", {{"x", toFloat(b, x)}}));
        if (e == -1.0) {
            mil::Value* fx = toFloat(b, x);
            return ctx.bind(0, b.add("real_div", {{"x", scalarLike(b, 1.0, fx)}, {"y", fx}}));
        }
    }
    auto [x, y] = floatOperands(ctx, ctx.arg("self"), exponent);
    ctx.bind(0, b.add("pow", {{"x", x}, {"y", y}}));
}

void lowerNeg(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    ctx.bind(0, b.add("mul", {{"x", x}, {"y", scalarLike(b, -1.0, x)}}));
}

// reciprocal(x) = 1 / x (MIL inverse adds an epsilon to x).
void lowerReciprocal(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, ctx.tensor("self"));
    ctx.bind(0, b.add("real_div", {{"x", scalarLike(b, 1.0, x)}, {"y", x}}));
}

// abs of a complex tensor is its magnitude.
void lowerAbs(LoweringContext& ctx) {
    const Arg& self = ctx.arg("self");
    if (self.isComplex()) return ctx.bind(0, complexMagnitude(ctx.builder(), self.value()));
    ctx.bind(0, ctx.builder().add("abs", {{"x", ctx.tensor("self")}}));
}

void lowerSquare(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    ctx.bind(0, ctx.builder().add("mul", {{"x", x}, {"y", x}}));
}

// trunc(x): rounds toward zero.
void lowerTrunc(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    ctx.bind(0, isFloat(x->type().dtype) ? truncate(ctx.builder(), x) : x);
}

/// A comparison `self (op) other` giving a bool tensor. MIL compares numbers only: bools become int32.
LoweringFn comparisonOp(const char* milOp) {
    return [milOp](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
        if (x->type().dtype == DType::Bool) {
            x = castTo(b, x, DType::Int32);
            y = castTo(b, y, DType::Int32);
        }
        ctx.bind(0, b.add(milOp, {{"x", x}, {"y", y}}));
    };
}

/// A logical op on bool tensors; other dtypes are compared with zero, as torch does.
LoweringFn logicalOp(const char* milOp) {
    return [milOp](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = castTo(b, ctx.tensor("self"), DType::Bool);
        mil::Value* y = castTo(b, ctx.tensor("other"), DType::Bool);
        ctx.bind(0, b.add(milOp, {{"x", x}, {"y", y}}));
    };
}

void lowerLogicalNot(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    ctx.bind(0, b.add("logical_not", {{"x", castTo(b, ctx.tensor("self"), DType::Bool)}}));
}

// where(condition, self, other) = condition ? self : other
void lowerWhere(LoweringContext& ctx) {
    if (!ctx.hasArg("self")) ctx.fail("where(condition) (the indices of non-zero elements) is not supported");
    mil::Builder& b = ctx.builder();
    mil::Value* cond = castTo(b, ctx.tensor("condition"), DType::Bool);
    auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
    ctx.bind(0, b.add("select", {{"cond", cond}, {"a", x}, {"b", y}}));
}

// masked_fill(self, mask, value) = mask ? value : self, in self's dtype.
void lowerMaskedFill(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* mask = castTo(b, ctx.tensor("mask"), DType::Bool);
    mil::Value* x = ctx.tensor("self");
    const Arg& value = ctx.arg("value");
    mil::Value* fill = isNumberLiteral(value) ? scalarLike(b, literalNumber(value), x)
                                              : castTo(b, ctx.materialize(value), x->type().dtype);
    ctx.bind(0, b.add("select", {{"cond", mask}, {"a", fill}, {"b", x}}));
}

}  // namespace

void populateElementwiseLowerings(Registry& r) {
    r.add("aten::add", lowerAdd);
    r.add("aten::sub", lowerSub);
    r.add("aten::subtract", lowerSub);
    r.add("aten::rsub", lowerRsub);
    r.add("aten::mul", binaryOp("mul"));
    r.add("aten::multiply", binaryOp("mul"));
    r.add("aten::div", lowerDiv);
    r.add("aten::divide", lowerDiv);
    r.add("aten::true_divide", lowerDiv);
    r.add("aten::floor_divide", lowerFloorDivide);
    r.add("aten::remainder", lowerRemainder);
    r.add("aten::pow", lowerPow);
    r.add("aten::maximum", binaryOp("maximum"));
    r.add("aten::minimum", binaryOp("minimum"));
    r.add("aten::max.other", binaryOp("maximum"));
    r.add("aten::min.other", binaryOp("minimum"));

    r.add("aten::eq", comparisonOp("equal"));
    r.add("aten::ne", comparisonOp("not_equal"));
    r.add("aten::lt", comparisonOp("less"));
    r.add("aten::le", comparisonOp("less_equal"));
    r.add("aten::gt", comparisonOp("greater"));
    r.add("aten::ge", comparisonOp("greater_equal"));
    r.add("aten::logical_and", logicalOp("logical_and"));
    r.add("aten::logical_or", logicalOp("logical_or"));
    r.add("aten::logical_xor", logicalOp("logical_xor"));
    r.add("aten::logical_not", lowerLogicalNot);
    r.add("aten::where", lowerWhere);
    r.add("aten::masked_fill", lowerMaskedFill);

    r.add("aten::neg", lowerNeg);
    r.add("aten::abs", lowerAbs);
    r.add("aten::square", lowerSquare);
    r.add("aten::reciprocal", lowerReciprocal);
    r.add("aten::trunc", lowerTrunc);
    r.add("aten::sqrt", unaryFloatOp("sqrt"));
    r.add("aten::rsqrt", unaryFloatOp("rsqrt"));
    r.add("aten::exp", unaryFloatOp("exp"));
    r.add("aten::log", unaryFloatOp("log"));
    r.add("aten::sin", unaryFloatOp("sin"));
    r.add("aten::cos", unaryFloatOp("cos"));
    r.add("aten::tan", unaryFloatOp("tan"));
    r.add("aten::asin", unaryFloatOp("asin"));
    r.add("aten::acos", unaryFloatOp("acos"));
    r.add("aten::atan", unaryFloatOp("atan"));
    r.add("aten::sinh", unaryFloatOp("sinh"));
    r.add("aten::cosh", unaryFloatOp("cosh"));
    r.add("aten::erf", unaryFloatOp("erf"));
    r.add("aten::floor", unaryFloatOp("floor"));
    r.add("aten::ceil", unaryFloatOp("ceil"));
    r.add("aten::sign", unaryFloatOp("sign"));
}

TS2COREML_FAMILY(Registry, Elementwise, populateElementwiseLowerings)

}  // namespace ts2coreml::lowering
