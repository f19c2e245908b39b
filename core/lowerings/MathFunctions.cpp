// Real functions Core ML has no op for, composed from those it has: rounding to decimals, the
// inverse hyperbolic functions, atan2, copysign, and the tests and replacement of NaN and infinity.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>
#include <limits>

namespace ts2coreml::lowering {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kInf = std::numeric_limits<double>::infinity();

mil::Value* floatSelf(LoweringContext& ctx) { return toFloat(ctx.builder(), ctx.tensor("self")); }

// round(x), halves to even; round(x, decimals=d) = round(x * 10^d) / 10^d, and for d < 0
// round(x / 10^-d) * 10^-d, as torch computes it. Integers are already round.
void lowerRound(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    if (!isFloat(x->type().dtype)) return ctx.bind(0, x);
    const int64_t decimals = ctx.hasArg("decimals") ? ctx.getInt("decimals") : 0;
    if (decimals == 0) return ctx.bind(0, b.add("round", {{"x", x}}));
    mil::Value* scale = scalarLike(b, std::pow(10.0, static_cast<double>(std::abs(decimals))), x);
    const bool finer = decimals > 0;
    mil::Value* scaled = b.add(finer ? "mul" : "real_div", {{"x", x}, {"y", scale}});
    ctx.bind(0, b.add(finer ? "real_div" : "mul", {{"x", b.add("round", {{"x", scaled}})}, {"y", scale}}));
}

// asinh(x) = sign(x) * ln(|x| + sqrt(x^2 + 1)), on |x| so that large negative x do not cancel.
void lowerAsinh(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    mil::Value* a = b.add("abs", {{"x", x}});
    mil::Value* hyp =
        b.add("sqrt", {{"x", b.add("add", {{"x", b.add("mul", {{"x", a}, {"y", a}})}, {"y", scalarLike(b, 1.0, x)}})}});
    mil::Value* ln = b.add("log", {{"x", b.add("add", {{"x", a}, {"y", hyp}})}});
    ctx.bind(0, b.add("mul", {{"x", b.add("sign", {{"x", x}})}, {"y", ln}}));
}

// acosh(x) = ln(x + sqrt((x - 1)(x + 1))), NaN below 1 (the square root of a negative).
void lowerAcosh(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    mil::Value* one = scalarLike(b, 1.0, x);
    mil::Value* product =
        b.add("mul", {{"x", b.add("sub", {{"x", x}, {"y", one}})}, {"y", b.add("add", {{"x", x}, {"y", one}})}});
    ctx.bind(0, b.add("log", {{"x", b.add("add", {{"x", x}, {"y", b.add("sqrt", {{"x", product}})}})}}));
}

/// Whether v's sign bit is set: v < 0, or v is -0 (1 / -0 = -inf).
mil::Value* signBit(mil::Builder& b, mil::Value* v) {
    mil::Value* zero = scalarLike(b, 0.0, v);
    mil::Value* inverse = b.add("real_div", {{"x", scalarLike(b, 1.0, v)}, {"y", v}});
    return b.add("logical_or",
                 {{"x", b.add("less", {{"x", v}, {"y", zero}})}, {"y", b.add("less", {{"x", inverse}, {"y", zero}})}});
}

// atan2(y, x) = atan(y / x), plus pi when x's sign bit is set (minus pi when y's is too), which
// gives torch's values on the axes and at the signed zeros: x = 0 gives atan(+-inf) = +-pi/2, and
// at y = x = 0, x taken as 1 leaves +-0 or +-pi. Both infinite: NaN (torch: odd multiples of pi/4).
void lowerAtan2(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    auto [y, x] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
    y = toFloat(b, y);
    x = toFloat(b, x);
    mil::Value* zero = scalarLike(b, 0.0, x);
    mil::Value* origin = b.add("logical_and", {{"x", b.add("equal", {{"x", x}, {"y", zero}})},
                                               {"y", b.add("equal", {{"x", y}, {"y", zero}})}});
    mil::Value* safeX = b.add("select", {{"cond", origin}, {"a", scalarLike(b, 1.0, x)}, {"b", x}});
    mil::Value* angle = b.add("atan", {{"x", b.add("real_div", {{"x", y}, {"y", safeX}})}});
    mil::Value* halfTurn =
        b.add("select", {{"cond", signBit(b, y)}, {"a", scalarLike(b, -kPi, x)}, {"b", scalarLike(b, kPi, x)}});
    mil::Value* turned = b.add("add", {{"x", angle}, {"y", halfTurn}});
    ctx.bind(0, b.add("select", {{"cond", signBit(b, x)}, {"a", turned}, {"b", angle}}));
}

// copysign(a, b) = |a| with b's sign bit (-0 and -inf count as negative).
void lowerCopysign(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    auto [a, s] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
    mil::Value* magnitude = b.add("abs", {{"x", toFloat(b, a)}});
    mil::Value* minus = b.add("mul", {{"x", magnitude}, {"y", scalarLike(b, -1.0, magnitude)}});
    const Arg& other = ctx.arg("other");
    if (isNumberLiteral(other)) return ctx.bind(0, std::signbit(literalNumber(other)) ? minus : magnitude);
    ctx.bind(0, b.add("select", {{"cond", signBit(b, toFloat(b, s))}, {"a", minus}, {"b", magnitude}}));
}

/// `x` as a number MIL compares: bools become int32.
mil::Value* comparable(mil::Builder& b, mil::Value* x) {
    return x->type().dtype == DType::Bool ? castTo(b, x, DType::Int32) : x;
}

// isnan(x) = x != x; integers are never NaN (x != x is false for them too).
mil::Value* isNan(mil::Builder& b, mil::Value* x) { return b.add("not_equal", {{"x", x}, {"y", x}}); }

void lowerIsnan(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    ctx.bind(0, isNan(b, comparable(b, ctx.tensor("self"))));
}

/// A lowering testing `cmp(f(x), inf)`: isinf |x| == inf, isposinf x == inf, isneginf x == -inf,
/// isfinite |x| < inf (false for NaN). Integers: x == x (true) or x != x (false) keep the shape.
LoweringFn infinityTest(const char* cmp, bool magnitude, double infinity, bool integerResult) {
    return [=](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = comparable(b, ctx.tensor("self"));
        if (!isFloat(x->type().dtype))
            return ctx.bind(0, b.add(integerResult ? "equal" : "not_equal", {{"x", x}, {"y", x}}));
        mil::Value* v = magnitude ? b.add("abs", {{"x", x}}) : x;
        ctx.bind(0, b.add(cmp, {{"x", v}, {"y", scalarLike(b, infinity, x)}}));
    };
}

// nan_to_num(x, nan=0, posinf=None, neginf=None): NaN, inf and -inf replaced; None infinities
// become the largest and lowest finite values of x's dtype.
void lowerNanToNum(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    if (!isFloat(x->type().dtype)) return ctx.bind(0, x);
    const double largest = x->type().dtype == DType::Float16 ? 65504.0 : std::numeric_limits<float>::max();
    const double nan = ctx.optDouble("nan").value_or(0.0);
    const double posinf = ctx.optDouble("posinf").value_or(largest);
    const double neginf = ctx.optDouble("neginf").value_or(-largest);
    mil::Value* y = b.add("select", {{"cond", isNan(b, x)}, {"a", scalarLike(b, nan, x)}, {"b", x}});
    for (double infinity : {kInf, -kInf}) {
        mil::Value* hit = b.add("equal", {{"x", x}, {"y", scalarLike(b, infinity, x)}});
        y = b.add("select", {{"cond", hit}, {"a", scalarLike(b, infinity > 0 ? posinf : neginf, x)}, {"b", y}});
    }
    ctx.bind(0, y);
}

/// `fn` for the tensor overloads of an op whose other overloads take Python numbers (round.float,
/// atan2.int, ...): those are refused by name.
LoweringFn tensorsOnly(LoweringFn fn) {
    return [fn](LoweringContext& ctx) {
        if (!ctx.hasArg("self")) ctx.fail(ctx.opName() + "." + ctx.overload() + " on Python numbers is not supported");
        fn(ctx);
    };
}

}  // namespace

void populateMathFunctionLowerings(Registry& r) {
    r.add("aten::round", tensorsOnly(lowerRound));
    r.add("aten::special_round", lowerRound);
    r.add("aten::asinh", tensorsOnly(lowerAsinh));
    r.add("aten::arcsinh", lowerAsinh);
    r.add("aten::acosh", tensorsOnly(lowerAcosh));
    r.add("aten::arccosh", lowerAcosh);
    r.add("aten::atanh", tensorsOnly(unaryFloatOp("atanh")));
    r.add("aten::arctanh", unaryFloatOp("atanh"));
    r.add("aten::atan2", tensorsOnly(lowerAtan2));
    r.add("aten::arctan2", lowerAtan2);
    r.add("aten::copysign.Tensor", lowerCopysign);
    r.add("aten::copysign.Scalar", lowerCopysign);
    r.add("aten::isnan", tensorsOnly(lowerIsnan));
    r.add("aten::isinf", tensorsOnly(infinityTest("equal", true, kInf, false)));
    r.add("aten::isposinf", infinityTest("equal", false, kInf, false));
    r.add("aten::isneginf", infinityTest("equal", false, -kInf, false));
    r.add("aten::isfinite", tensorsOnly(infinityTest("less", true, kInf, true)));
    r.add("aten::nan_to_num", lowerNanToNum);
}

TS2COREML_FAMILY(Registry, MathFunctions, populateMathFunctionLowerings)

}  // namespace ts2coreml::lowering
