// Dtype conversions: Tensor.to(dtype), type_as, and the TorchScript scalar conversions Int, Float
// and ScalarImplicit that turn a one-element tensor into a number.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>

namespace ts2coreml::lowering {
namespace {

DType dtypeArg(LoweringContext& ctx, const std::string& name) {
    const int64_t code = ctx.getInt(name);
    auto dtype = dtypeFromTorch(code);
    if (!dtype)
        ctx.fail("conversion to torch dtype " + std::to_string(code) + " is not supported (no such Core ML type)");
    return *dtype;
}

// to(self, dtype | other, ...): a cast; device, layout and copy flags do not matter to Core ML.
void lowerTo(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    if (ctx.hasArg("other")) return ctx.bind(0, castTo(b, ctx.tensor("self"), ctx.tensor("other")->type().dtype));
    if (!ctx.hasArg("dtype") || ctx.isNone("dtype")) return ctx.bind(0, ctx.arg("self"));
    ctx.bind(0, castTo(b, ctx.tensor("self"), dtypeArg(ctx, "dtype")));
}

void lowerTypeAs(LoweringContext& ctx) {
    ctx.bind(0, castTo(ctx.builder(), ctx.tensor("self"), ctx.tensor("other")->type().dtype));
}

/// A TorchScript number from `a`: folded when constant, else the one element of a tensor as a
/// dynamic rank-0 scalar of `dtype` (Int truncates toward zero, as cast does; Bool is "non-zero").
LoweringFn toNumber(DType dtype) {
    return [dtype](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        const Arg& a = ctx.arg("a");
        auto fold = [dtype](double v) {
            if (dtype == DType::Bool) return mil::Literal(v != 0.0);
            if (dtype == DType::Int32) return mil::Literal(static_cast<int64_t>(std::trunc(v)));
            return mil::Literal(v);
        };
        if (isNumberLiteral(a)) return ctx.bind(0, Arg::constant(fold(literalNumber(a))));
        if (a.isTensor() && !a.value() && a.constData()->numel() == 1)
            return ctx.bind(0, Arg::constant(fold(a.constData()->asDouble(0))));
        mil::Value* x = ctx.materialize(a);
        const int64_t n = x->type().numel();
        if (n > 1) ctx.fail("only a one-element tensor converts to a number, got " + x->type().str());
        if (x->type().rank() > 0) x = b.add("reshape", {{"x", x}, {"shape", std::vector<int64_t>{}}});
        ctx.bind(0, Arg::dynamicScalar(castTo(b, x, dtype)));
    };
}

// ScalarImplicit(a): a rank-0 tensor used where a Scalar is expected; keeps its dtype.
void lowerScalarImplicit(LoweringContext& ctx) {
    const Arg& a = ctx.arg("a");
    if (a.isTensor() && !a.value() && a.constData()->numel() == 1) {
        const mil::ConstData& c = *a.constData();
        return ctx.bind(0, Arg::constant(isFloat(c.dtype) ? mil::Literal(c.asDouble(0)) : mil::Literal(c.asInt(0))));
    }
    mil::Value* x = ctx.tensor("a");
    if (x->type().rank() > 0) x = ctx.builder().add("reshape", {{"x", x}, {"shape", std::vector<int64_t>{}}});
    ctx.bind(0, Arg::dynamicScalar(x));
}

}  // namespace

void populateCastLowerings(Registry& r) {
    r.add("aten::to", lowerTo);
    r.add("aten::type_as", lowerTypeAs);
    r.add("aten::Int", toNumber(DType::Int32));
    r.add("aten::Float", toNumber(DType::Float32));
    r.add("aten::Bool", toNumber(DType::Bool));
    r.add("aten::IntImplicit", toNumber(DType::Int32));
    r.add("aten::FloatImplicit", toNumber(DType::Float32));
    r.add("aten::ScalarImplicit", lowerScalarImplicit);
}

TS2COREML_FAMILY(Registry, Cast, populateCastLowerings)

}  // namespace ts2coreml::lowering
