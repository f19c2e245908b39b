// Activations: relu family, hard sigmoid/swish, gelu, softmax and clamping.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>
#include <limits>

namespace ts2coreml::lowering {
namespace {

mil::Value* floatSelf(LoweringContext& ctx) { return toFloat(ctx.builder(), ctx.tensor("self")); }

// hardtanh(x) = clip(x, min_val, max_val); relu6 when the bounds are 0 and 6 (MobileNetV2's ReLU6).
// Integer inputs stay integers, as in torch, and equal bounds are no range for clip: both are
// min(max(x, min_val), max_val).
void lowerHardtanh(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const double lo = ctx.getDouble("min_val");
    const double hi = ctx.getDouble("max_val");
    if (lo > hi) ctx.fail("min_val (" + numberText(lo) + ") is greater than max_val (" + numberText(hi) + ")");
    mil::Value* x = ctx.tensor("self");
    if (x->type().dtype != DType::Int32) x = toFloat(b, x);
    if (x->type().dtype == DType::Int32 || lo == hi) {
        mil::Value* low = b.add("maximum", {{"x", x}, {"y", scalarLike(b, lo, x)}});
        return ctx.bind(0, b.add("minimum", {{"x", low}, {"y", scalarLike(b, hi, x)}}));
    }
    if (lo == 0.0 && hi == 6.0) {
        ctx.bind(0, b.add("relu6", {{"x", x}}));
        return;
    }
    ctx.bind(0, b.add("clip", {{"x", x}, {"alpha", scalarLike(b, lo, x)}, {"beta", scalarLike(b, hi, x)}}));
}

mil::Value* hardSigmoid(mil::Builder& b, mil::Value* x) {
    // hardsigmoid(x) = relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1)
    return b.add("sigmoid_hard", {{"x", x}, {"alpha", scalarLike(b, 1.0 / 6.0, x)}, {"beta", scalarLike(b, 0.5, x)}});
}

void lowerHardsigmoid(LoweringContext& ctx) { ctx.bind(0, hardSigmoid(ctx.builder(), floatSelf(ctx))); }

// hardswish(x) = x * relu6(x + 3) / 6 = x * hardsigmoid(x); MIL has no hardswish before iOS17.
void lowerHardswish(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    ctx.bind(0, b.add("mul", {{"x", x}, {"y", hardSigmoid(b, x)}}));
}

void lowerGelu(LoweringContext& ctx) {
    const std::string approximate = ctx.hasArg("approximate") ? ctx.getString("approximate") : "none";
    const char* mode = approximate == "none" ? "EXACT" : approximate == "tanh" ? "TANH_APPROXIMATION" : nullptr;
    if (!mode) ctx.fail("gelu approximate='" + approximate + "' is not supported (expected 'none' or 'tanh')");
    ctx.bind(0, ctx.builder().add("gelu", {{"x", floatSelf(ctx)}, {"mode", mode}}));
}

void lowerLeakyRelu(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    ctx.bind(0, b.add("leaky_relu", {{"x", x}, {"alpha", scalarLike(b, ctx.getDouble("negative_slope"), x)}}));
}

// elu(x) = scale * (x > 0 ? x : alpha * (exp(input_scale * x) - 1))
void lowerElu(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    if (ctx.getDouble("input_scale") != 1.0) ctx.fail("elu with input_scale != 1 is not supported");
    mil::Value* y = b.add("elu", {{"x", x}, {"alpha", scalarLike(b, ctx.getDouble("alpha"), x)}});
    const double scale = ctx.getDouble("scale");
    if (scale != 1.0) y = b.add("mul", {{"x", y}, {"y", scalarLike(b, scale, y)}});
    ctx.bind(0, y);
}

// celu(x, alpha) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = alpha * elu(x / alpha).
void lowerCelu(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    const double alpha = ctx.getDouble("alpha");
    if (alpha == 0) ctx.fail("celu with alpha = 0 divides by zero (torch refuses it too)");
    mil::Value* scaled = b.add("real_div", {{"x", x}, {"y", scalarLike(b, alpha, x)}});
    mil::Value* elu = b.add("elu", {{"x", scaled}, {"alpha", scalarLike(b, 1.0, x)}});
    ctx.bind(0, b.add("mul", {{"x", elu}, {"y", scalarLike(b, alpha, x)}}));
}

// rrelu in evaluation: a leaky relu of slope (lower + upper) / 2. Training draws a slope per
// element at random, which a converted model (always in evaluation) cannot reproduce.
void lowerRrelu(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    if (ctx.getBool("training"))
        ctx.fail("rrelu with training=True draws random slopes; convert the model in eval() mode");
    mil::Value* x = floatSelf(ctx);
    const double slope = (ctx.getDouble("lower") + ctx.getDouble("upper")) / 2.0;
    ctx.bind(0, b.add("leaky_relu", {{"x", x}, {"alpha", scalarLike(b, slope, x)}}));
}

// selu(x) = 1.0507... * elu(x, alpha=1.6732...)
void lowerSelu(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    mil::Value* y = b.add("elu", {{"x", x}, {"alpha", scalarLike(b, 1.6732632423543772848170429916717, x)}});
    ctx.bind(0, b.add("mul", {{"x", y}, {"y", scalarLike(b, 1.0507009873554804934193349852946, y)}}));
}

// softplus(x) = log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold.
void lowerSoftplus(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    const double beta = ctx.getDouble("beta");
    const double threshold = ctx.getDouble("threshold");
    if (beta == 0.0) ctx.fail("softplus with beta = 0 is undefined");
    mil::Value* bx = beta == 1.0 ? x : b.add("mul", {{"x", x}, {"y", scalarLike(b, beta, x)}});
    mil::Value* y = b.add("softplus", {{"x", bx}});
    if (beta != 1.0) y = b.add("real_div", {{"x", y}, {"y", scalarLike(b, beta, y)}});
    // Past threshold 20 the linear branch differs from softplus by < exp(-20): not worth a select.
    if (threshold < 20.0) {
        mil::Value* linear = b.add("greater", {{"x", bx}, {"y", scalarLike(b, threshold, bx)}});
        y = b.add("select", {{"cond", linear}, {"a", x}, {"b", y}});
    }
    ctx.bind(0, y);
}

// mish(x) = x * tanh(softplus(x))
void lowerMish(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    mil::Value* t = b.add("tanh", {{"x", b.add("softplus", {{"x", x}})}});
    ctx.bind(0, b.add("mul", {{"x", x}, {"y", t}}));
}

mil::Value* softmaxInput(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    if (ctx.hasArg("dtype") && !ctx.isNone("dtype")) {
        auto dtype = dtypeFromTorch(ctx.getInt("dtype"));
        if (!dtype || !isFloat(*dtype)) ctx.fail("softmax dtype must be a floating type");
        return castTo(ctx.builder(), x, *dtype);
    }
    return toFloat(ctx.builder(), x);
}

void lowerSoftmax(LoweringContext& ctx) {
    mil::Value* x = softmaxInput(ctx);
    const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    ctx.bind(0, ctx.builder().add("softmax", {{"x", x}, {"axis", axis}}));
}

// log_softmax(x) = x - log(sum(exp(x))), with the stable reduce_log_sum_exp (no log_softmax in MIL).
void lowerLogSoftmax(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = softmaxInput(ctx);
    const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    mil::Value* lse =
        b.add("reduce_log_sum_exp", {{"x", x}, {"axes", std::vector<int64_t>{axis}}, {"keep_dims", true}});
    ctx.bind(0, b.add("sub", {{"x", x}, {"y", lse}}));
}

// clamp(x, min, max) with either bound None; bounds may be scalars or (clamp.Tensor) tensors.
void emitClamp(LoweringContext& ctx, const Arg* lo, const Arg* hi) {
    mil::Builder& b = ctx.builder();
    const Arg& self = ctx.arg("self");
    const bool literalBounds = (!lo || isNumberLiteral(*lo)) && (!hi || isNumberLiteral(*hi));
    if (lo && hi && literalBounds && isFloat(argDType(self))) {
        mil::Value* x = ctx.tensor("self");
        const double vlo = literalNumber(*lo), vhi = literalNumber(*hi);
        if (vlo == 0.0 && vhi == 6.0) return ctx.bind(0, b.add("relu6", {{"x", x}}));
        if (vlo <= vhi)
            return ctx.bind(
                0, b.add("clip", {{"x", x}, {"alpha", scalarLike(b, vlo, x)}, {"beta", scalarLike(b, vhi, x)}}));
    }
    // torch: min(max(x, lo), hi), so hi wins when lo > hi.
    mil::Value* y = nullptr;
    Arg current = self;
    if (lo) {
        auto [x, l] = binaryOperands(ctx, current, *lo);
        y = b.add("maximum", {{"x", x}, {"y", l}});
        current = Arg::tensor(y);
    }
    if (hi) {
        auto [x, h] = binaryOperands(ctx, current, *hi);
        y = b.add("minimum", {{"x", x}, {"y", h}});
    }
    ctx.bind(0, y ? y : ctx.tensor("self"));
}

const Arg* optionalArg(const LoweringContext& ctx, const char* name) {
    return ctx.hasArg(name) && !ctx.isNone(name) ? &ctx.arg(name) : nullptr;
}

void lowerClamp(LoweringContext& ctx) { emitClamp(ctx, optionalArg(ctx, "min"), optionalArg(ctx, "max")); }
void lowerClampMin(LoweringContext& ctx) { emitClamp(ctx, &ctx.arg("min"), nullptr); }
void lowerClampMax(LoweringContext& ctx) { emitClamp(ctx, nullptr, &ctx.arg("max")); }

// prelu(x) = max(0, x) + weight * min(0, x), weight per channel (dim 1) or one value.
// Core ML's prelu takes a per-channel alpha on rank-4 inputs only: ranks 2 and 3 get trailing
// unit dims, rank 5 is composed.
void lowerPrelu(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = floatSelf(ctx);
    const Arg& w = ctx.arg("weight");
    if (!w.isTensor() || w.value()) ctx.fail("prelu needs a constant weight, got " + w.describe());
    const mil::ConstData& data = *w.constData();
    if (data.numel() == 1)
        return ctx.bind(0, b.add("leaky_relu", {{"x", x}, {"alpha", scalarLike(b, data.asDouble(0), x)}}));
    const int64_t rank = rankOf(x);
    if (rank < 2) ctx.fail("prelu with one weight per channel needs an input of rank >= 2, got " + x->type().str());
    mil::Value* alpha = castTo(b, ctx.tensor("weight"), x->type().dtype);
    if (rank <= 4) {
        std::vector<int64_t> axes;
        for (int64_t i = rank; i < 4; ++i) axes.push_back(i);
        mil::Value* in = axes.empty() ? x : b.add("expand_dims", {{"x", x}, {"axes", axes}});
        mil::Value* y = b.add("prelu", {{"x", in}, {"alpha", alpha}});
        return ctx.bind(0, axes.empty() ? y : b.add("squeeze", {{"x", y}, {"axes", axes}}));
    }
    std::vector<int64_t> perChannel{-1};
    for (int64_t i = 2; i < rank; ++i) perChannel.push_back(1);
    mil::Value* zero = scalarLike(b, 0.0, x);
    mil::Value* negative = b.add("mul", {{"x", b.add("minimum", {{"x", x}, {"y", zero}})},
                                         {"y", b.add("reshape", {{"x", alpha}, {"shape", perChannel}})}});
    ctx.bind(0, b.add("add", {{"x", b.add("maximum", {{"x", x}, {"y", zero}})}, {"y", negative}}));
}

}  // namespace

void populateActivationLowerings(Registry& r) {
    r.add("aten::relu", unaryFloatOp("relu"));
    r.add("aten::relu6", unaryFloatOp("relu6"));
    r.add("aten::sigmoid", unaryFloatOp("sigmoid"));
    r.add("aten::tanh", unaryFloatOp("tanh"));
    r.add("aten::silu", unaryFloatOp("silu"));
    r.add("aten::hardtanh", lowerHardtanh);
    r.add("aten::hardsigmoid", lowerHardsigmoid);
    r.add("aten::hardswish", lowerHardswish);
    r.add("aten::gelu", lowerGelu);
    r.add("aten::leaky_relu", lowerLeakyRelu);
    r.add("aten::elu", lowerElu);
    r.add("aten::selu", lowerSelu);
    r.add("aten::celu", lowerCelu);
    r.add("aten::rrelu", lowerRrelu);
    r.add("aten::softplus", lowerSoftplus);
    r.add("aten::mish", lowerMish);
    r.add("aten::softmax", lowerSoftmax);
    r.add("aten::log_softmax", lowerLogSoftmax);
    r.add("aten::clamp", lowerClamp);
    r.add("aten::clip", lowerClamp);
    r.add("aten::clamp_min", lowerClampMin);
    r.add("aten::clamp_max", lowerClampMax);
    r.add("aten::prelu", lowerPrelu);
}

TS2COREML_FAMILY(Registry, Activation, populateActivationLowerings)

}  // namespace ts2coreml::lowering
