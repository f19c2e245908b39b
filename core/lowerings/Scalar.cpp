// TorchScript's own numbers and lists: int/float/bool arithmetic and comparisons (aten::add.int,
// aten::floordiv, aten::gt.int, ...), len, list indexing and concatenation, range lengths and None
// tests. Scripted models use them to compute sizes from `x.size()`. Constant operands fold at
// conversion time; an operand known only at run time (a dynamic size) makes the result a rank-0
// MIL value.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>
#include <functional>

namespace ts2coreml::lowering {
namespace {

/// A constant TorchScript number.
struct Number {
    bool isInt = true;
    int64_t i = 0;
    double d = 0.0;
    double real() const { return isInt ? static_cast<double>(i) : d; }
};

std::optional<Number> constantNumber(const Arg& a) {
    if (!a.isConstant()) return std::nullopt;
    const auto& l = a.literal();
    if (auto* i = std::get_if<int64_t>(&l)) return Number{true, *i, 0.0};
    if (auto* b = std::get_if<bool>(&l)) return Number{true, *b ? 1 : 0, 0.0};
    if (auto* d = std::get_if<double>(&l)) return Number{false, 0, *d};
    return std::nullopt;
}

Arg intResult(int64_t v) { return Arg::constant(mil::Literal(v)); }
Arg realResult(double v) { return Arg::constant(mil::Literal(v)); }
Arg boolResult(bool v) { return Arg::constant(mil::Literal(v)); }

int64_t floorDivInt(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// Folds `a (op) b` when both are constants.
using Fold = std::function<Arg(const LoweringContext&, const Number&, const Number&)>;
/// Emits `a (op) b` on rank-0 MIL values.
using Emit = std::function<mil::Value*(LoweringContext&, const Arg&, const Arg&)>;

LoweringFn numberBinary(Fold fold, Emit emit) {
    return [fold, emit](LoweringContext& ctx) {
        const Arg& a = ctx.arg("a");
        const Arg& b = ctx.arg("b");
        auto x = constantNumber(a), y = constantNumber(b);
        if (x && y) return ctx.bind(0, fold(ctx, *x, *y));
        ctx.bind(0, Arg::dynamicScalar(emit(ctx, a, b)));
    };
}

Emit milBinary(const char* op) {
    return [op](LoweringContext& ctx, const Arg& a, const Arg& b) {
        auto [x, y] = binaryOperands(ctx, a, b);
        return ctx.builder().add(op, {{"x", x}, {"y", y}});
    };
}

Emit milRealBinary(const char* op) {
    return [op](LoweringContext& ctx, const Arg& a, const Arg& b) {
        auto [x, y] = binaryOperands(ctx, a, b);
        mil::Builder& bld = ctx.builder();
        return bld.add(op, {{"x", toFloat(bld, x)}, {"y", toFloat(bld, y)}});
    };
}

void nonZero(const LoweringContext& ctx, const Number& y) {
    if (y.real() == 0.0) ctx.fail("division by zero");
}

/// An arithmetic op on ints (exact, int result) or reals.
Fold arithmetic(std::function<int64_t(int64_t, int64_t)> onInts, std::function<double(double, double)> onReals) {
    return [=](const LoweringContext&, const Number& x, const Number& y) {
        return x.isInt && y.isInt ? intResult(onInts(x.i, y.i)) : realResult(onReals(x.real(), y.real()));
    };
}

Fold comparison(std::function<bool(double, double)> cmp) {
    return
        [=](const LoweringContext&, const Number& x, const Number& y) { return boolResult(cmp(x.real(), y.real())); };
}

// floordiv / remainder: Python's, rounding toward negative infinity.
mil::Value* emitFloorDiv(LoweringContext& ctx, const Arg& a, const Arg& b) {
    mil::Builder& bld = ctx.builder();
    auto [x, y] = binaryOperands(ctx, a, b);
    if (!isFloat(x->type().dtype)) return bld.add("floor_div", {{"x", x}, {"y", y}});
    return bld.add("floor", {{"x", bld.add("real_div", {{"x", x}, {"y", y}})}});
}

mil::Value* emitRemainder(LoweringContext& ctx, const Arg& a, const Arg& b) {
    mil::Builder& bld = ctx.builder();
    auto [x, y] = binaryOperands(ctx, a, b);
    mil::Value* q = emitFloorDiv(ctx, Arg::tensor(x), Arg::tensor(y));
    return bld.add("sub", {{"x", x}, {"y", bld.add("mul", {{"x", q}, {"y", y}})}});
}

mil::Value* emitComparison(LoweringContext& ctx, const Arg& a, const Arg& b, const char* op) {
    mil::Builder& bld = ctx.builder();
    auto [x, y] = binaryOperands(ctx, a, b);
    if (x->type().dtype == DType::Bool) {
        x = castTo(bld, x, DType::Int32);
        y = castTo(bld, y, DType::Int32);
    }
    return bld.add(op, {{"x", x}, {"y", y}});
}

void registerComparison(Registry& r, const std::string& name, const char* milOp,
                        std::function<bool(double, double)> cmp) {
    const Emit emit = [milOp](LoweringContext& ctx, const Arg& a, const Arg& b) {
        return emitComparison(ctx, a, b, milOp);
    };
    for (const char* overload : {"int", "float", "int_float", "float_int", "bool"})
        r.add("aten::" + name + "." + overload, numberBinary(comparison(cmp), emit));
}

void registerArithmetic(Registry& r, const std::string& name, const Fold& fold, const Emit& emit) {
    for (const char* overload : {"int", "float", "int_float", "float_int"})
        r.add("aten::" + name + "." + overload, numberBinary(fold, emit));
}

// neg.int / neg.float
void lowerNeg(LoweringContext& ctx) {
    const Arg& a = ctx.arg("a");
    if (auto x = constantNumber(a)) return ctx.bind(0, x->isInt ? intResult(-x->i) : realResult(-x->d));
    mil::Builder& b = ctx.builder();
    mil::Value* v = ctx.materialize(a);
    ctx.bind(0, Arg::dynamicScalar(b.add("mul", {{"x", v}, {"y", scalarLike(b, -1.0, v)}})));
}

/// floor.float / ceil.float: a float rounded to an int.
LoweringFn rounding(const char* milOp, double (*fn)(double)) {
    return [=](LoweringContext& ctx) {
        const Arg& a = ctx.arg("a");
        if (auto x = constantNumber(a)) return ctx.bind(0, intResult(x->isInt ? x->i : static_cast<int64_t>(fn(x->d))));
        mil::Builder& b = ctx.builder();
        mil::Value* v = ctx.materialize(a);
        if (isFloat(v->type().dtype)) v = castTo(b, b.add(milOp, {{"x", v}}), DType::Int32);
        ctx.bind(0, Arg::dynamicScalar(v));
    };
}

void lowerNot(LoweringContext& ctx) {
    if (auto x = constantNumber(ctx.arg("self"))) return ctx.bind(0, boolResult(x->real() == 0.0));
    mil::Builder& b = ctx.builder();
    ctx.bind(0, Arg::dynamicScalar(b.add("logical_not", {{"x", castTo(b, ctx.tensor("self"), DType::Bool)}})));
}

LoweringFn logicalBool(const char* milOp, bool (*fn)(bool, bool)) {
    return [=](LoweringContext& ctx) {
        auto x = constantNumber(ctx.arg("a")), y = constantNumber(ctx.arg("b"));
        if (x && y) return ctx.bind(0, boolResult(fn(x->real() != 0.0, y->real() != 0.0)));
        mil::Builder& b = ctx.builder();
        mil::Value* va = castTo(b, ctx.tensor("a"), DType::Bool);
        mil::Value* vb = castTo(b, ctx.tensor("b"), DType::Bool);
        ctx.bind(0, Arg::dynamicScalar(b.add(milOp, {{"x", va}, {"y", vb}})));
    };
}

// len(a) of a list; len.Tensor(t) = t.size(0).
void lowerLen(LoweringContext& ctx) {
    if (ctx.hasArg("t")) {
        mil::Value* t = ctx.tensor("t");
        if (rankOf(t) == 0) ctx.fail("len() of a 0-d tensor");
        return ctx.bind(0, dimArg(ctx.builder(), t, 0));
    }
    ctx.bind(0, intResult(static_cast<int64_t>(listElements(ctx, ctx.arg("a")).size())));
}

// __getitem__.t(list, idx)
void lowerGetItem(LoweringContext& ctx) {
    if (!ctx.hasArg("list")) ctx.fail("only list indexing is supported");
    const std::vector<Arg> items = listElements(ctx, ctx.arg("list"));
    const int64_t n = static_cast<int64_t>(items.size());
    const int64_t i = ctx.getInt("idx");
    if (i < -n || i >= n)
        ctx.fail("list index " + std::to_string(i) + " out of range for a list of " + std::to_string(n));
    ctx.bind(0, items[static_cast<size_t>(i < 0 ? i + n : i)]);
}

// list.t(l): a copy of a list, which is the list itself here (nothing mutates it after lowering).
void lowerListCopy(LoweringContext& ctx) { ctx.bind(0, ctx.arg("l")); }

// add.t(a, b): list concatenation.
void lowerListConcat(LoweringContext& ctx) {
    std::vector<Arg> items = listElements(ctx, ctx.arg("a"));
    for (const Arg& e : listElements(ctx, ctx.arg("b"))) items.push_back(e);
    ctx.bind(0, makeList(std::move(items)));
}

// mul.left_t(l, n): the list repeated n times (none when n <= 0), as torch.stft's `[1] * (3 - dim)`.
void lowerListRepeat(LoweringContext& ctx) {
    const std::vector<Arg> items = listElements(ctx, ctx.arg("l"));
    std::vector<Arg> repeated;
    for (int64_t i = 0; i < ctx.getInt("n"); ++i) repeated.insert(repeated.end(), items.begin(), items.end());
    ctx.bind(0, makeList(std::move(repeated)));
}

// __contains__.int_list(l, item)
void lowerListContains(LoweringContext& ctx) {
    const int64_t item = ctx.getInt("item");
    for (const Arg& e : listElements(ctx, ctx.arg("l"))) {
        if (!isIntConstant(e)) ctx.fail("'in' over a list with run-time elements is not supported");
        if (std::get<int64_t>(e.literal()) == item) return ctx.bind(0, boolResult(true));
    }
    ctx.bind(0, boolResult(false));
}

// __range_length(lo, hi, step): len(range(lo, hi, step)), the trip count of a TorchScript for loop.
void lowerRangeLength(LoweringContext& ctx) {
    const int64_t lo = ctx.getInt("lo"), hi = ctx.getInt("hi"), step = ctx.getInt("step");
    if (step == 0) ctx.fail("range() step must not be zero");
    int64_t n = 0;
    if (step > 0 && lo < hi) n = 1 + (hi - 1 - lo) / step;
    if (step < 0 && lo > hi) n = 1 + (lo - 1 - hi) / -step;
    ctx.bind(0, intResult(n));
}

// __derive_index(index, start, step) = start + index * step: the loop variable of a for over range().
void lowerDeriveIndex(LoweringContext& ctx) {
    ctx.bind(0, intResult(ctx.getInt("start") + ctx.getInt("index") * ctx.getInt("step")));
}

// __is__ / __isnot__: identity tests, which in a converted graph are None tests.
LoweringFn identityTest(bool negate) {
    return [negate](LoweringContext& ctx) {
        const bool aNone = ctx.isNone("self"), bNone = ctx.isNone("obj");
        if (!aNone && !bNone)
            ctx.fail("'is' between two values that are not None cannot be decided at conversion time");
        ctx.bind(0, boolResult((aNone && bNone) != negate));
    };
}

}  // namespace

void populateScalarLowerings(Registry& r) {
    registerArithmetic(r, "add", arithmetic(std::plus<int64_t>(), std::plus<double>()), milBinary("add"));
    registerArithmetic(r, "sub", arithmetic(std::minus<int64_t>(), std::minus<double>()), milBinary("sub"));
    registerArithmetic(r, "mul", arithmetic(std::multiplies<int64_t>(), std::multiplies<double>()), milBinary("mul"));
    // div of two ints is a float in Python 3.
    registerArithmetic(
        r, "div",
        [](const LoweringContext& ctx, const Number& x, const Number& y) {
            nonZero(ctx, y);
            return realResult(x.real() / y.real());
        },
        milRealBinary("real_div"));
    const Fold floorDiv = [](const LoweringContext& ctx, const Number& x, const Number& y) {
        nonZero(ctx, y);
        return x.isInt && y.isInt ? intResult(floorDivInt(x.i, y.i)) : realResult(std::floor(x.real() / y.real()));
    };
    r.add("aten::floordiv", numberBinary(floorDiv, emitFloorDiv));
    registerArithmetic(
        r, "remainder",
        [](const LoweringContext& ctx, const Number& x, const Number& y) {
            nonZero(ctx, y);
            if (x.isInt && y.isInt) return intResult(x.i - floorDivInt(x.i, y.i) * y.i);
            return realResult(x.real() - std::floor(x.real() / y.real()) * y.real());
        },
        emitRemainder);
    // pow.int(int a, int b) -> float, like every pow overload except int_to_int.
    registerArithmetic(
        r, "pow",
        [](const LoweringContext&, const Number& x, const Number& y) {
            return realResult(std::pow(x.real(), y.real()));
        },
        milRealBinary("pow"));
    r.add("aten::pow.int_to_int",
          numberBinary(
              [](const LoweringContext&, const Number& x, const Number& y) {
                  return intResult(static_cast<int64_t>(std::llround(std::pow(x.real(), y.real()))));
              },
              milBinary("pow")));

    registerComparison(r, "eq", "equal", [](double a, double b) { return a == b; });
    registerComparison(r, "ne", "not_equal", [](double a, double b) { return a != b; });
    registerComparison(r, "lt", "less", [](double a, double b) { return a < b; });
    registerComparison(r, "le", "less_equal", [](double a, double b) { return a <= b; });
    registerComparison(r, "gt", "greater", [](double a, double b) { return a > b; });
    registerComparison(r, "ge", "greater_equal", [](double a, double b) { return a >= b; });

    r.add("aten::neg.int", lowerNeg);
    r.add("aten::neg.float", lowerNeg);
    r.add("aten::floor.float", rounding("floor", [](double v) { return std::floor(v); }));
    r.add("aten::ceil.float", rounding("ceil", [](double v) { return std::ceil(v); }));
    r.add("aten::floor.int", rounding("floor", [](double v) { return v; }));
    r.add("aten::ceil.int", rounding("ceil", [](double v) { return v; }));
    r.add("aten::__not__", lowerNot);
    r.add("aten::__and__.bool", logicalBool("logical_and", [](bool a, bool b) { return a && b; }));
    r.add("aten::__or__.bool", logicalBool("logical_or", [](bool a, bool b) { return a || b; }));
    r.add("aten::__is__", identityTest(false));
    r.add("aten::__isnot__", identityTest(true));
    r.add("aten::len", lowerLen);
    r.add("aten::__getitem__", lowerGetItem);
    r.add("aten::list", lowerListCopy);
    r.add("aten::add.t", lowerListConcat);
    r.add("aten::mul.left_t", lowerListRepeat);
    r.add("aten::__contains__.int_list", lowerListContains);
    r.add("aten::__range_length", lowerRangeLength);
    r.add("aten::__derive_index", lowerDeriveIndex);
}

TS2COREML_FAMILY(Registry, Scalar, populateScalarLowerings)

}  // namespace ts2coreml::lowering
