// Tensor factories: zeros, ones, full, arange and their *_like forms. Sizes and range bounds may be
// known only at run time (`torch.arange(x.size(0))` in a traced model): those become MIL `fill` and
// `range_1d` on dynamic scalars, so the result's length follows the input instead of the trace.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

/// The dtype argument of a factory; None gives torch's default, fp32 (arange of ints: int).
DType factoryDType(LoweringContext& ctx, DType whenNone) {
    if (!ctx.hasArg("dtype") || ctx.isNone("dtype")) return whenNone;
    const int64_t code = ctx.getInt("dtype");
    auto dtype = dtypeFromTorch(code);
    if (!dtype) ctx.fail("torch dtype " + std::to_string(code) + " has no Core ML type");
    return *dtype;
}

/// A tensor of `sizes` (constants or dynamic scalars) filled with `value`, of `dtype`.
mil::Value* filled(LoweringContext& ctx, const std::vector<Arg>& sizes, const Arg& value, DType dtype) {
    mil::Builder& b = ctx.builder();
    bool isStatic = true;
    for (const Arg& s : sizes) {
        isStatic = isStatic && isIntConstant(s);
        if (isIntConstant(s) && std::get<int64_t>(s.literal()) < 0)
            ctx.fail("sizes must not be negative, got " + std::to_string(std::get<int64_t>(s.literal())));
    }
    if (isStatic && isNumberLiteral(value)) {
        std::vector<int64_t> shape;
        for (const Arg& s : sizes) shape.push_back(std::get<int64_t>(s.literal()));
        const double v = literalNumber(value);
        int64_t n = 1;
        for (int64_t s : shape) n *= s;
        const auto count = static_cast<size_t>(n);
        if (dtype == DType::Bool)
            return b.constant(mil::ConstData::fromBools(std::vector<bool>(count, v != 0.0), shape));
        if (dtype == DType::Int32)
            return b.constant(mil::ConstData::fromInts(std::vector<int32_t>(count, static_cast<int32_t>(v)), shape));
        return castTo(
            b, b.constant(mil::ConstData::fromFloats(std::vector<float>(count, static_cast<float>(v)), shape)), dtype);
    }
    mil::Value* out = nullptr;
    if (isNumberLiteral(value)) {
        out =
            b.add("fill", {{"shape", shapeTensor(ctx, sizes)}, {"value", scalarConst(b, literalNumber(value), dtype)}});
    } else {
        // fill takes a constant value: a run-time one is added to zeros (in int32 for a bool result).
        const DType compute = dtype == DType::Bool ? DType::Int32 : dtype;
        mil::Value* v = castTo(b, ctx.materialize(value), compute);
        if (rankOf(v) != 0) v = b.add("reshape", {{"x", v}, {"shape", std::vector<int64_t>{}}});
        mil::Value* zeros =
            b.add("fill", {{"shape", shapeTensor(ctx, sizes)}, {"value", scalarConst(b, 0.0, compute)}});
        out = castTo(b, b.add("add", {{"x", zeros}, {"y", v}}), dtype);
    }
    // fill of a computed shape knows none of its sizes; a reshape with one unknown entry restores
    // the static ones.
    size_t dynamic = 0;
    for (const Arg& s : sizes) dynamic += !isIntConstant(s);
    return dynamic == 1 ? reshapeTo(ctx, out, sizes) : out;
}

std::vector<Arg> sizeArgs(LoweringContext& ctx) {
    const Arg& size = ctx.arg("size");
    if (size.isList()) return size.elements();
    std::vector<Arg> out;
    for (int64_t s : intList(ctx, "size")) out.push_back(Arg::constant(mil::Literal(s)));
    return out;
}

std::vector<Arg> sizesOf(LoweringContext& ctx, mil::Value* x) {
    std::vector<Arg> out;
    for (int64_t i = 0; i < rankOf(x); ++i) out.push_back(dimArg(ctx.builder(), x, i));
    return out;
}

// zeros(size, dtype...) / ones(size, dtype...)
LoweringFn constantFactory(double value) {
    return [value](LoweringContext& ctx) {
        ctx.bind(0, filled(ctx, sizeArgs(ctx), Arg::constant(mil::Literal(value)), factoryDType(ctx, DType::Float32)));
    };
}

// zeros_like(self, dtype...) / ones_like(self, dtype...)
LoweringFn constantLikeFactory(double value) {
    return [value](LoweringContext& ctx) {
        mil::Value* self = ctx.tensor("self");
        const DType dtype = factoryDType(ctx, self->type().dtype);
        ctx.bind(0, filled(ctx, sizesOf(ctx, self), Arg::constant(mil::Literal(value)), dtype));
    };
}

// full(size, fill_value, dtype...): the dtype defaults to the fill value's (a Python int: int).
void lowerFull(LoweringContext& ctx) {
    const Arg& value = ctx.arg("fill_value");
    ctx.bind(0, filled(ctx, sizeArgs(ctx), value, factoryDType(ctx, argDType(value))));
}

void lowerFullLike(LoweringContext& ctx) {
    mil::Value* self = ctx.tensor("self");
    const DType dtype = factoryDType(ctx, self->type().dtype);
    ctx.bind(0, filled(ctx, sizesOf(ctx, self), ctx.arg("fill_value"), dtype));
}

// arange(end) / arange(start, end) / arange(start, end, step), by overload; every bound may be a
// dynamic scalar. The dtype defaults to int when every bound is an int, else fp32.
void lowerArange(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const Arg zero = Arg::constant(mil::Literal(int64_t{0})), one = Arg::constant(mil::Literal(int64_t{1}));
    const Arg& end = ctx.arg("end");
    const Arg& start = ctx.hasArg("start") ? ctx.arg("start") : zero;
    const Arg& step = ctx.hasArg("step") ? ctx.arg("step") : one;
    bool ints = true;
    for (const Arg* a : {&start, &end, &step})
        ints = ints && argDType(*a) != DType::Float32 && argDType(*a) != DType::Float16;
    const DType dtype = factoryDType(ctx, ints ? DType::Int32 : DType::Float32);
    // range_1d computes in its operands' dtype; an int result of real bounds is the cast of a real range.
    const DType compute = ints ? DType::Int32 : DType::Float32;
    auto operand = [&](const Arg& a) {
        mil::Value* v =
            isNumberLiteral(a) ? scalarConst(b, literalNumber(a), compute) : castTo(b, ctx.materialize(a), compute);
        return rankOf(v) == 0 ? v : b.add("reshape", {{"x", v}, {"shape", std::vector<int64_t>{}}});
    };
    mil::Value* range = b.add("range_1d", {{"end", operand(end)}, {"start", operand(start)}, {"step", operand(step)}});
    ctx.bind(0, castTo(b, range, dtype));
}

}  // namespace

void populateFactoryLowerings(Registry& r) {
    r.add("aten::zeros", constantFactory(0.0));
    r.add("aten::ones", constantFactory(1.0));
    r.add("aten::full", lowerFull);
    r.add("aten::zeros_like", constantLikeFactory(0.0));
    r.add("aten::ones_like", constantLikeFactory(1.0));
    r.add("aten::full_like", lowerFullLike);
    r.add("aten::arange", lowerArange);
}

TS2COREML_FAMILY(Registry, Factory, populateFactoryLowerings)

}  // namespace ts2coreml::lowering
