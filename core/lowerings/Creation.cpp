// Tensors made from sizes and numbers rather than from input elements, beyond zeros/ones/full/
// arange (Factory.cpp, which the tensor-method spellings here call): eye, linspace, logspace,
// one_hot, new_zeros/new_ones/new_full/new_empty, empty, empty_like, fill, scalar_tensor and
// tensor (of numbers, as `x[mask] = 0.5` makes one).
// `empty` has no defined values: it is zeros.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>
#include <string>
#include <vector>

namespace ts2coreml::lowering {
namespace {

/// The `dtype` argument, or `whenNone` when it is None or absent.
DType dtypeArg(LoweringContext& ctx, DType whenNone) {
    if (!ctx.hasArg("dtype") || ctx.isNone("dtype")) return whenNone;
    auto dtype = dtypeFromTorch(ctx.getInt("dtype"));
    if (!dtype) ctx.fail("torch dtype " + std::to_string(ctx.getInt("dtype")) + " has no Core ML type");
    return *dtype;
}

/// A constant of `values` and `sizes` in `dtype` (computed in double, converted as torch converts).
mil::Value* constantOf(mil::Builder& b, const std::vector<double>& values, std::vector<int64_t> sizes, DType dtype) {
    if (dtype == DType::Bool) {
        std::vector<bool> v;
        for (double x : values) v.push_back(x != 0.0);
        return b.constant(mil::ConstData::fromBools(v, std::move(sizes)));
    }
    if (dtype == DType::Int32) {
        std::vector<int32_t> v;
        for (double x : values) v.push_back(static_cast<int32_t>(x));
        return b.constant(mil::ConstData::fromInts(v, std::move(sizes)));
    }
    std::vector<float> v(values.begin(), values.end());
    return castTo(b, b.constant(mil::ConstData::fromFloats(v, std::move(sizes))), dtype);
}

// eye(n, m, dtype): ones where row == column. A constant when the sizes are; sizes known at run time
// compare two ranges.
void lowerEye(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const Arg& n = ctx.arg("n");
    const Arg& m = ctx.hasArg("m") ? ctx.arg("m") : n;
    const DType dtype = dtypeArg(ctx, DType::Float32);
    if (isIntConstant(n) && isIntConstant(m)) {
        const int64_t rows = std::get<int64_t>(n.literal()), cols = std::get<int64_t>(m.literal());
        std::vector<double> values;
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < cols; ++j) values.push_back(i == j ? 1.0 : 0.0);
        return ctx.bind(0, constantOf(b, values, {rows, cols}, dtype));
    }
    mil::Value* rows = b.add("expand_dims", {{"x", countTo(ctx, n)}, {"axes", std::vector<int64_t>{1}}});
    ctx.bind(0, castTo(b, b.add("equal", {{"x", rows}, {"y", countTo(ctx, m)}}), dtype));
}

/// torch's linspace values: from both ends towards the middle, as its kernel computes them.
std::vector<double> linspaceValues(double start, double end, int64_t steps) {
    std::vector<double> v;
    const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    for (int64_t i = 0; i < steps; ++i)
        v.push_back(i < steps / 2 ? start + step * static_cast<double>(i)
                                  : end - step * static_cast<double>(steps - i - 1));
    return v;
}

/// linspace (base = nullopt) or logspace: constant bounds give a constant; bounds computed at run time
/// give start + range * step (and base ** that).
mil::Value* spaced(LoweringContext& ctx, std::optional<double> base) {
    mil::Builder& b = ctx.builder();
    const int64_t steps = ctx.getInt("steps");
    if (steps <= 0) ctx.fail(ctx.opName() + " needs a positive number of steps, got " + std::to_string(steps));
    const DType dtype = dtypeArg(ctx, DType::Float32);
    const Arg &start = ctx.arg("start"), &end = ctx.arg("end");
    if (isNumberLiteral(start) && isNumberLiteral(end)) {
        std::vector<double> values = linspaceValues(literalNumber(start), literalNumber(end), steps);
        if (base)
            for (double& v : values) v = std::pow(*base, v);
        return constantOf(b, values, {steps}, dtype);
    }
    auto bound = [&](const Arg& a) {
        return isNumberLiteral(a) ? scalarConst(b, literalNumber(a), DType::Float32)
                                  : castTo(b, ctx.materialize(a), DType::Float32);
    };
    mil::Value* first = bound(start);
    mil::Value* span = b.add("sub", {{"x", bound(end)}, {"y", first}});
    mil::Value* step =
        b.add("real_div", {{"x", span}, {"y", scalarConst(b, std::max<double>(steps - 1, 1), DType::Float32)}});
    mil::Value* index = castTo(b, countTo(ctx, intArg(steps)), DType::Float32);
    mil::Value* values = b.add("add", {{"x", b.add("mul", {{"x", index}, {"y", step}})}, {"y", first}});
    if (base) values = b.add("pow", {{"x", scalarConst(b, *base, DType::Float32)}, {"y", values}});
    return castTo(b, values, dtype);
}

void lowerLinspace(LoweringContext& ctx) { ctx.bind(0, spaced(ctx, std::nullopt)); }

void lowerLogspace(LoweringContext& ctx) { ctx.bind(0, spaced(ctx, ctx.getDouble("base"))); }

// one_hot(self, num_classes): int 1 where the class equals the index, along a new last dim.
// num_classes = -1 (max + 1) is known only from the data: it needs a constant input.
void lowerOneHot(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    if (isFloat(x->type().dtype) || x->type().dtype == DType::Bool)
        ctx.fail("one_hot needs an integer tensor, got " + x->type().str());
    int64_t classes = ctx.getInt("num_classes");
    if (classes < 0) {
        const mil::ConstData* data = x->constant();
        if (!data) ctx.fail("one_hot with num_classes=-1 takes the class count from the data; give num_classes");
        for (int64_t i = 0; i < data->numel(); ++i)
            classes = std::max(classes, data->asInt(static_cast<size_t>(i)) + 1);
    }
    mil::Value* column = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{-1}}});
    mil::Value* hot = b.add("equal", {{"x", column}, {"y", countTo(ctx, intArg(classes))}});
    ctx.bind(0, castTo(b, hot, DType::Int32));
}

/// new_zeros / new_ones / new_full / new_empty (self, size, dtype): aten::full of `size`, of self's
/// dtype unless one is given.
LoweringFn newFilled(std::optional<double> value) {
    return [value](LoweringContext& ctx) {
        const DType dtype = dtypeArg(ctx, ctx.tensor("self")->type().dtype);
        const Arg fill = value ? Arg::constant(mil::Literal(*value)) : ctx.arg("fill_value");
        ctx.bind(0, callTensor(ctx, "aten::full",
                               {{"size", ctx.arg("size")}, {"fill_value", fill}, {"dtype", intArg(torchCode(dtype))}}));
    };
}

// empty(size, dtype) and empty_like(self, dtype): zeros (an empty tensor's values are undefined).
void lowerEmpty(LoweringContext& ctx) {
    const DType dtype = dtypeArg(ctx, DType::Float32);
    ctx.bind(0, callTensor(ctx, "aten::zeros", {{"size", ctx.arg("size")}, {"dtype", intArg(torchCode(dtype))}}));
}

void lowerEmptyLike(LoweringContext& ctx) {
    const DType dtype = dtypeArg(ctx, ctx.tensor("self")->type().dtype);
    ctx.bind(0, callTensor(ctx, "aten::zeros_like", {{"self", ctx.arg("self")}, {"dtype", intArg(torchCode(dtype))}}));
}

// fill(self, value): self's shape and dtype, every element value: a number (full_like), or a 0-D
// tensor expanded to self's shape.
void lowerFill(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const Arg& value = ctx.arg("value");
    if (isNumberLiteral(value))
        return ctx.bind(0, callTensor(ctx, "aten::full_like", {{"self", ctx.arg("self")}, {"fill_value", value}}));
    mil::Value* self = ctx.tensor("self");
    mil::Value* v = castTo(b, ctx.materialize(value), self->type().dtype);
    if (v->type().numel() != 1) ctx.fail("fill needs a single value, got " + v->type().str());
    v = b.add("reshape", {{"x", v}, {"shape", std::vector<int64_t>(static_cast<size_t>(rankOf(self)), 1)}});
    ctx.bind(0, callTensor(ctx, "aten::expand_as", {{"self", Arg::tensor(v)}, {"other", Arg::tensor(self)}}));
}

// scalar_tensor(s, dtype): a 0-D tensor, fp32 unless a dtype is given.
void lowerScalarTensor(LoweringContext& ctx) {
    const DType dtype = dtypeArg(ctx, DType::Float32);
    ctx.bind(0, callTensor(ctx, "aten::full",
                           {{"size", Arg::constant(mil::Literal(std::vector<int64_t>{}))},
                            {"fill_value", ctx.arg("s")},
                            {"dtype", intArg(torchCode(dtype))}}));
}

// tensor(t | data, dtype): a 0-D tensor of a number, or a 1-D one of a list whose entries may be
// computed at run time (sizes). The dtype defaults to the entries': float, else int, else bool.
void lowerTensor(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const bool scalar = ctx.hasArg("t");
    const std::vector<Arg> entries = scalar ? std::vector<Arg>{ctx.arg("t")} : listElements(ctx, ctx.arg("data"));
    bool constant = true, anyFloat = false, allBool = !entries.empty();
    for (const Arg& e : entries) {
        if (!isNumberLiteral(e) && !e.isScalar())
            ctx.fail("tensor() takes numbers or a flat list of them, got " + e.describe());
        constant = constant && isNumberLiteral(e);
        anyFloat = anyFloat || isFloat(argDType(e));
        allBool = allBool && argDType(e) == DType::Bool;
    }
    const DType dtype = dtypeArg(ctx, anyFloat ? DType::Float32 : allBool ? DType::Bool : DType::Int32);
    std::vector<int64_t> sizes;
    if (!scalar) sizes.push_back(static_cast<int64_t>(entries.size()));
    if (constant) {
        std::vector<double> values;
        for (const Arg& e : entries) values.push_back(literalNumber(e));
        return ctx.bind(0, constantOf(b, values, sizes, dtype));
    }
    std::vector<mil::Value*> parts;
    for (const Arg& e : entries) {
        mil::Value* v =
            isNumberLiteral(e) ? scalarConst(b, literalNumber(e), dtype) : castTo(b, ctx.materialize(e), dtype);
        parts.push_back(scalar ? v : toVector(b, v));
    }
    ctx.bind(0, parts.size() == 1 ? parts.front() : b.add("concat", {{"values", parts}, {"axis", int64_t{0}}}));
}

}  // namespace

void populateCreationLowerings(Registry& r) {
    r.add("aten::eye", lowerEye);
    r.add("aten::linspace", lowerLinspace);
    r.add("aten::logspace", lowerLogspace);
    r.add("aten::one_hot", lowerOneHot);
    r.add("aten::new_zeros", newFilled(0.0));
    r.add("aten::new_ones", newFilled(1.0));
    r.add("aten::new_full", newFilled(std::nullopt));
    r.add("aten::new_empty", newFilled(0.0));
    r.add("aten::empty", lowerEmpty);
    r.add("aten::empty_like", lowerEmptyLike);
    r.add("aten::fill", lowerFill);
    r.add("aten::scalar_tensor", lowerScalarTensor);
    r.add("aten::tensor", lowerTensor);
}

TS2COREML_FAMILY(Registry, Creation, populateCreationLowerings)

}  // namespace ts2coreml::lowering
