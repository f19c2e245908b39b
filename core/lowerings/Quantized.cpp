// Quantized tensors and ops (torch.ao.quantization's eager mode: quantize_per_tensor, quantized::conv2d,
// quantized::linear, ...). Core ML has no quantized activations before iOS17, so a quantized tensor is
// carried as a float tensor of the values it stands for, (q - zero_point) * scale. Quantizing x with
// (scale, zero_point) into [qmin, qmax] is then
//
//     clip(round(x * (1 / scale)), qmin - zero_point, qmax - zero_point) * scale
//
// which is torch's q = clamp(round(x * inv_scale) + zero_point, qmin, qmax) with inv_scale = 1 / scale
// in fp32 and rounding halves to even, as MIL's `round` does. Every quantized op computes in float on
// its inputs' values and quantizes its result with the op's output scale and zero point; torch
// computes the same with integers, so the two agree up to results that fall within float rounding
// of a half quantum (one quantum of the output scale apart).
//
// Weights arrive from the frontend already dequantized (torch's own dequantize) inside the packed
// parameters: a list whose first element names its kind, ("conv2d", weight, bias, stride, padding,
// dilation, groups), ("linear", weight, bias) or ("embedding", weight). The dtype of a quantized
// input, which its float value no longer carries, is the argument `NAME.qdtype` (torch's ScalarType
// code) the frontend adds to every quantized:: op.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>
#include <optional>

namespace ts2coreml::lowering {
namespace {

/// The integers a quantized dtype holds.
struct QuantRange {
    double low;
    double high;
};

// torch's ScalarType codes of the quantized dtypes.
constexpr int64_t kQInt8 = 12, kQUInt8 = 13, kQInt32 = 14;

std::optional<QuantRange> rangeOfCode(int64_t code) {
    switch (code) {
        case kQInt8: return QuantRange{-128, 127};
        case kQUInt8: return QuantRange{0, 255};
        case kQInt32: return QuantRange{-2147483648.0, 2147483647.0};
        default: return std::nullopt;
    }
}

/// The range of the dtype named by the constant argument `argName` (quantize's `dtype`).
QuantRange dtypeArgRange(const LoweringContext& ctx, const std::string& argName) {
    const int64_t code = ctx.getInt(argName);
    if (auto r = rangeOfCode(code)) return *r;
    ctx.fail("'" + argName + "' must be torch.quint8, torch.qint8 or torch.qint32 (ScalarType " + std::to_string(code) +
             ")");
}

/// The range of the quantized tensor argument `argName` (the dtype of the op's result too).
QuantRange inputRange(const LoweringContext& ctx, const std::string& argName) {
    if (!ctx.hasArg(argName + ".qdtype"))
        ctx.fail("cannot tell the quantized dtype of '" + argName +
                 "' (it must come from quantize_per_tensor, quantize_per_channel or another quantized op)");
    if (auto r = rangeOfCode(ctx.getInt(argName + ".qdtype"))) return *r;
    ctx.fail("'" + argName + "' has an unsupported quantized dtype (ScalarType " +
             std::to_string(ctx.getInt(argName + ".qdtype")) + ")");
}

/// A number argument, or a one-element constant tensor (quantize_per_tensor.tensor_qparams).
double scalarParam(const LoweringContext& ctx, const std::string& argName) {
    const Arg& a = ctx.arg(argName);
    if (isNumberLiteral(a)) return literalNumber(a);
    if (const mil::ConstData* d = constantData(a); d && d->numel() == 1) return d->asDouble(0);
    ctx.fail("'" + argName +
             "' must be a constant number (a quantization parameter computed at run time is not "
             "supported), got " +
             a.describe());
}

/// `x` quantized per tensor and given back as the values it stands for (see the top of the file).
mil::Value* quantizePerTensor(LoweringContext& ctx, mil::Value* x, double scale, int64_t zeroPoint, QuantRange range) {
    if (!(scale > 0) || !std::isfinite(scale)) ctx.fail("the scale must be positive, got " + numberText(scale));
    mil::Builder& b = ctx.builder();
    const float inverse = 1.0f / static_cast<float>(scale);
    mil::Value* steps = b.add("round", {{"x", b.add("mul", {{"x", toFloat(b, x)}, {"y", inverse}})}});
    mil::Value* q = b.add("clip", {{"x", steps},
                                   {"alpha", static_cast<float>(range.low - static_cast<double>(zeroPoint))},
                                   {"beta", static_cast<float>(range.high - static_cast<double>(zeroPoint))}});
    return b.add("mul", {{"x", q}, {"y", static_cast<float>(scale)}});
}

/// The result of a quantized op: `y` quantized with the op's (scale, zero_point) arguments, in the
/// dtype of its quantized input `inputName`.
void bindRequantized(LoweringContext& ctx, mil::Value* y, const std::string& inputName,
                     const std::string& scaleName = "scale", const std::string& zeroPointName = "zero_point") {
    ctx.bind(
        0, quantizePerTensor(ctx, y, ctx.getDouble(scaleName), ctx.getInt(zeroPointName), inputRange(ctx, inputName)));
}

// quantize_per_tensor(self, scale, zero_point, dtype), also with scale and zero_point as tensors.
void lowerQuantizePerTensor(LoweringContext& ctx) {
    if (ctx.hasArg("tensors")) ctx.fail("quantizing a list of tensors (quantize_per_tensor.tensors) is not supported");
    const double zeroPoint = scalarParam(ctx, "zero_point");
    ctx.bind(0, quantizePerTensor(ctx, ctx.tensor("self"), scalarParam(ctx, "scale"),
                                  static_cast<int64_t>(std::llround(zeroPoint)), dtypeArgRange(ctx, "dtype")));
}

// quantize_per_channel(self, scales, zero_points, axis, dtype): the quantization of the top of the
// file with one (scale, zero_point) per index along `axis`.
void lowerQuantizePerChannel(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, ctx.tensor("self"));
    const int64_t rank = rankOf(x);
    const int64_t axis = normalizeDim(ctx, ctx.getInt("axis"), rank, "axis");
    const mil::ConstData* scales = constantData(ctx.arg("scales"));
    const mil::ConstData* zeroPoints = constantData(ctx.arg("zero_points"));
    if (!scales || !zeroPoints) ctx.fail("'scales' and 'zero_points' must be constant tensors");
    if (isFloat(zeroPoints->dtype)) ctx.fail("'zero_points' must be integers, got floats");
    const int64_t channels = scales->numel();
    if (zeroPoints->numel() != channels)
        ctx.fail("'scales' has " + std::to_string(channels) + " values but 'zero_points' has " +
                 std::to_string(zeroPoints->numel()));
    if (auto size = staticDim(x, axis); size && *size != channels)
        ctx.fail("'scales' has " + std::to_string(channels) + " values for a dim of size " + std::to_string(*size));
    const QuantRange range = dtypeArgRange(ctx, "dtype");
    std::vector<float> inverse, scale, low, high;
    for (int64_t c = 0; c < channels; ++c) {
        const double s = scales->asDouble(static_cast<size_t>(c));
        if (!(s > 0) || !std::isfinite(s)) ctx.fail("'scales' must be positive, got " + numberText(s));
        const auto zp = static_cast<double>(zeroPoints->asInt(static_cast<size_t>(c)));
        inverse.push_back(1.0f / static_cast<float>(s));
        scale.push_back(static_cast<float>(s));
        low.push_back(static_cast<float>(range.low - zp));
        high.push_back(static_cast<float>(range.high - zp));
    }
    std::vector<int64_t> along(static_cast<size_t>(rank), 1);  // broadcasts against x along `axis`
    along[static_cast<size_t>(axis)] = channels;
    auto perChannel = [&](const std::vector<float>& v) { return b.constant(mil::ConstData::fromFloats(v, along)); };
    mil::Value* steps = b.add("round", {{"x", b.add("mul", {{"x", x}, {"y", perChannel(inverse)}})}});
    mil::Value* q =
        b.add("minimum", {{"x", b.add("maximum", {{"x", steps}, {"y", perChannel(low)}})}, {"y", perChannel(high)}});
    ctx.bind(0, b.add("mul", {{"x", q}, {"y", perChannel(scale)}}));
}

// dequantize(self) is the value the quantized tensor already carries (a list's too).
void lowerDequantize(LoweringContext& ctx) {
    for (const char* name : {"self", "qtensor", "tensors", "qtensors"})
        if (ctx.hasArg(name)) return ctx.bind(0, ctx.arg(name));
    ctx.fail("unsupported overload '" + ctx.overload() + "'");
}

/// The elements of packed parameters of `kind` (see the top of the file); fails on anything else.
std::vector<Arg> packedParams(const LoweringContext& ctx, const std::string& argName, const std::string& kind,
                              size_t count) {
    const Arg& a = ctx.arg(argName);
    const bool fits = a.isList() && a.elements().size() == count && a.elements()[0].isConstant() &&
                      std::holds_alternative<std::string>(a.elements()[0].literal()) &&
                      std::get<std::string>(a.elements()[0].literal()) == kind;
    if (!fits) ctx.fail("'" + argName + "' must be quantized " + kind + " parameters, got " + a.describe());
    return a.elements();
}

/// A binary quantized op of one overload only: (qa, qb, scale, zero_point).
void requireTensorOverload(const LoweringContext& ctx) {
    if (!ctx.overload().empty())
        ctx.fail("the '" + ctx.overload() + "' overload is not supported (only " + ctx.opName() +
                 "(qa, qb, scale, zero_point))");
}

/// quantized::add, add_relu, mul: `milOp` on the inputs' values, ReLU'd when `relu`, then quantized.
LoweringFn quantizedBinary(const char* milOp, bool relu) {
    return [milOp, relu](LoweringContext& ctx) {
        requireTensorOverload(ctx);
        mil::Builder& b = ctx.builder();
        mil::Value* y = b.add(milOp, {{"x", ctx.tensor("qa")}, {"y", ctx.tensor("qb")}});
        if (relu) y = b.add("relu", {{"x", y}});
        bindRequantized(ctx, y, "qa");
    };
}

// quantized::matmul(qa, qb, scale, zero_point) = quantize(qa @ qb)
void lowerQuantizedMatmul(LoweringContext& ctx) {
    requireTensorOverload(ctx);
    auto [a, c] = binaryOperands(ctx, ctx.arg("qa"), ctx.arg("qb"));
    bindRequantized(ctx, ctx.builder().add("matmul", {{"x", a}, {"y", c}}), "qa");
}

/// quantized::conv2d and conv2d_relu: with packed parameters (`packed_weight`, the `new` overload) or
/// with stride, padding, dilation and groups as arguments beside them (the older overload).
LoweringFn quantizedConv2d(bool relu) {
    return [relu](LoweringContext& ctx) {
        const bool packedGeometry = ctx.hasArg("packed_weight");
        const std::vector<Arg> p = packedParams(ctx, packedGeometry ? "packed_weight" : "weight", "conv2d", 7);
        auto geometry = [&](size_t index, const char* name) { return packedGeometry ? p[index] : ctx.arg(name); };
        mil::Value* y = callTensor(ctx, "aten::conv2d",
                                   {{"input", ctx.arg("qx")},
                                    {"weight", p[1]},
                                    {"bias", p[2]},
                                    {"stride", geometry(3, "stride")},
                                    {"padding", geometry(4, "padding")},
                                    {"dilation", geometry(5, "dilation")},
                                    {"groups", geometry(6, "groups")}});
        if (relu) y = ctx.builder().add("relu", {{"x", y}});
        bindRequantized(ctx, y, "qx", "output_scale", "output_zero_point");
    };
}

/// quantized::linear and linear_relu(X, W_prepack, Y_scale_i, Y_zero_point_i).
LoweringFn quantizedLinear(bool relu) {
    return [relu](LoweringContext& ctx) {
        const std::vector<Arg> p = packedParams(ctx, "W_prepack", "linear", 3);
        mil::Value* y = callTensor(ctx, "aten::linear", {{"input", ctx.arg("X")}, {"weight", p[1]}, {"bias", p[2]}});
        if (relu) y = ctx.builder().add("relu", {{"x", y}});
        bindRequantized(ctx, y, "X", "Y_scale_i", "Y_zero_point_i");
    };
}

// quantized::linear_prepack(W, B): the packed parameters quantized::linear reads, here when W is
// computed in forward (torch folds the prepacking of constant weights).
void lowerLinearPrepack(LoweringContext& ctx) {
    ctx.bind(0, Arg::list({Arg::constant(std::string("linear")), ctx.arg("W"), ctx.arg("B")}));
}

// quantized::embedding_byte(weight, indices, pruned_weights): the rows of the dequantized 8-bit table.
void lowerEmbeddingByte(LoweringContext& ctx) {
    if (ctx.getBool("pruned_weights")) ctx.fail("pruned embedding tables (pruned_weights=True) are not supported");
    const std::vector<Arg> p = packedParams(ctx, "weight", "embedding", 2);
    ctx.bind(0, callTensor(ctx, "aten::embedding", {{"weight", p[1]}, {"indices", ctx.arg("indices")}}));
}

}  // namespace

void populateQuantizedLowerings(Registry& r) {
    r.add("aten::quantize_per_tensor", lowerQuantizePerTensor);
    r.add("aten::quantize_per_channel", lowerQuantizePerChannel);
    r.add("aten::dequantize", lowerDequantize);
    r.add("quantized::add", quantizedBinary("add", false));
    r.add("quantized::add_relu", quantizedBinary("add", true));
    r.add("quantized::mul", quantizedBinary("mul", false));
    r.add("quantized::matmul", lowerQuantizedMatmul);
    r.add("quantized::conv2d", quantizedConv2d(false));
    r.add("quantized::conv2d_relu", quantizedConv2d(true));
    r.add("quantized::linear", quantizedLinear(false));
    r.add("quantized::linear_relu", quantizedLinear(true));
    r.add("quantized::linear_prepack", lowerLinearPrepack);
    r.add("quantized::embedding_byte", lowerEmbeddingByte);
}

TS2COREML_FAMILY(Registry, Quantized, populateQuantizedLowerings)

}  // namespace ts2coreml::lowering
