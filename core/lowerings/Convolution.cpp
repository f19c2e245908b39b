// Convolutions: aten::_convolution (what tracing records), conv1d/2d/3d (what scripting records),
// their string-padding overloads, and transposed convolutions.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

/// A torch convolution, whatever op spelled it.
struct ConvSpec {
    mil::Value* x = nullptr;
    std::vector<int64_t> kernel;  ///< spatial sizes of the weight
    std::vector<int64_t> strides, dilations;
    std::vector<int64_t> pad;  ///< MIL layout: begin, end per spatial dim
    std::vector<int64_t> outputPadding;
    int64_t groups = 1;
    bool transposed = false;
    bool unbatched = false;  ///< torch's (C, *D) input, given a batch dimension for MIL
};

std::vector<int64_t> weightSizes(LoweringContext& ctx) {
    const Arg& w = ctx.arg("weight");
    if (!w.isTensor()) ctx.fail("'weight' must be a tensor, got " + w.describe());
    if (!w.value()) return w.constData()->sizes;
    if (!w.value()->type().isStatic())
        ctx.fail("convolution weight must have a static shape, got " + w.value()->type().str());
    return w.value()->type().sizes();
}

/// Reads the arguments every convolution op shares. `padding` may be an int list or (the
/// `.padding` overloads) "valid" / "same".
ConvSpec readConv(LoweringContext& ctx, bool transposed) {
    ConvSpec c;
    c.transposed = transposed;
    const std::vector<int64_t> w = weightSizes(ctx);
    if (w.size() < 3 || w.size() > 5)
        ctx.fail("convolution weight must have rank 3 to 5, got rank " + std::to_string(w.size()));
    const size_t n = w.size() - 2;
    c.kernel.assign(w.begin() + 2, w.end());
    c.strides = expandList(ctx, "stride", n);
    c.dilations = expandList(ctx, "dilation", n);
    c.groups = ctx.getInt("groups");
    c.outputPadding = transposed ? expandList(ctx, "output_padding", n) : std::vector<int64_t>(n, 0);

    const Arg& padding = ctx.arg("padding");
    if (padding.isConstant() && std::holds_alternative<std::string>(padding.literal())) {
        const std::string mode = ctx.getString("padding");
        if (mode == "valid") {
            c.pad.assign(2 * n, 0);
        } else if (mode == "same") {
            // torch pads d*(k-1) in total, the odd element at the end.
            for (size_t i = 0; i < n; ++i) {
                const int64_t total = c.dilations[i] * (c.kernel[i] - 1);
                c.pad.push_back(total / 2);
                c.pad.push_back(total - total / 2);
            }
        } else {
            ctx.fail("padding='" + mode + "' is not supported (expected 'valid' or 'same')");
        }
    } else {
        c.pad = symmetricPad(expandList(ctx, "padding", n));
    }

    // torch accepts an unbatched input (C, *D); MIL needs the batch dimension.
    mil::Value* x = ctx.tensor("input");
    const int64_t rank = rankOf(x);
    if (rank == static_cast<int64_t>(n) + 1) {
        x = ctx.builder().add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
        c.unbatched = true;
    } else if (rank != static_cast<int64_t>(n) + 2) {
        ctx.fail("convolution input " + x->type().str() + " does not match a weight with " + std::to_string(n) +
                 " spatial dimensions");
    }
    c.x = x;
    return c;
}

bool allZero(const std::vector<int64_t>& v) {
    for (int64_t e : v)
        if (e != 0) return false;
    return true;
}

/// Bias as a MIL value, or null; a bias computed at run time is added after the op instead.
mil::Value* constantBias(LoweringContext& ctx, mil::Value*& lateBias) {
    if (ctx.isNone("bias")) return nullptr;
    mil::Value* bias = ctx.tensor("bias");
    if (bias->constant()) return bias;
    lateBias = bias;
    return nullptr;
}

mil::Value* addChannelBias(mil::Builder& b, mil::Value* y, mil::Value* bias) {
    // bias [C] broadcast over [N, C, *D] as [C, 1, ..., 1]
    std::vector<int64_t> shape{-1};
    for (int64_t i = 2; i < rankOf(y); ++i) shape.push_back(1);
    mil::Value* reshaped = b.add("reshape", {{"x", bias}, {"shape", shape}});
    return b.add("add", {{"x", y}, {"y", reshaped}});
}

mil::Value* emitConv(LoweringContext& ctx, const ConvSpec& c) {
    mil::Builder& b = ctx.builder();
    mil::Value* lateBias = nullptr;
    mil::Value* bias = constantBias(ctx, lateBias);
    mil::OperandList in{{"x", c.x},
                        {"weight", ctx.tensor("weight")},
                        {"strides", c.strides},
                        {"dilations", c.dilations},
                        {"groups", c.groups}};
    if (allZero(c.pad)) {
        in.emplace_back("pad_type", "valid");
    } else {
        in.emplace_back("pad_type", "custom");
        in.emplace_back("pad", c.pad);
    }
    if (bias) in.emplace_back("bias", bias);
    mil::Value* y = b.add("conv", in);
    return lateBias ? addChannelBias(b, y, lateBias) : y;
}

// torch: out = (in - 1) * stride - 2 * pad + dilation * (k - 1) + output_padding + 1, i.e. the full
// ("valid") transposed convolution cropped by `pad` at the start and `pad - output_padding` at the
// end, where a negative crop appends rows that only the bias reaches.
mil::Value* emitConvTranspose(LoweringContext& ctx, const ConvSpec& c) {
    mil::Builder& b = ctx.builder();
    mil::Value* weight = ctx.tensor("weight");
    if (!weight->constant())
        ctx.fail("transposed convolution needs a constant weight (MIL conv_transpose requires one)");
    mil::Value* lateBias = nullptr;
    mil::Value* bias = constantBias(ctx, lateBias);
    const size_t n = c.kernel.size();
    mil::OperandList in{
        {"x", c.x}, {"weight", weight}, {"strides", c.strides}, {"dilations", c.dilations}, {"groups", c.groups}};
    if (allZero(c.outputPadding)) {
        if (allZero(c.pad)) {
            in.emplace_back("pad_type", "valid");
        } else {
            in.emplace_back("pad_type", "custom");
            in.emplace_back("pad", c.pad);
        }
        if (bias) in.emplace_back("bias", bias);
        mil::Value* y = b.add("conv_transpose", in);
        return lateBias ? addChannelBias(b, y, lateBias) : y;
    }

    in.emplace_back("pad_type", "valid");
    mil::Value* y = b.add("conv_transpose", in);
    std::vector<int64_t> extra(2 * n, 0);  // zeros appended where output_padding exceeds the crop
    std::vector<int64_t> begin(2 + n, 0), end(2 + n, 0);
    std::vector<bool> beginMask(2 + n, false), endMask(2 + n, false);
    beginMask[0] = beginMask[1] = endMask[0] = endMask[1] = true;
    for (size_t i = 0; i < n; ++i) {
        const int64_t p = c.pad[2 * i], op = c.outputPadding[i];
        if (op > p) extra[2 * i + 1] = op - p;
        begin[2 + i] = p;
        if (p > op)
            end[2 + i] = -(p - op);
        else
            endMask[2 + i] = true;
    }
    if (!allZero(extra))
        y = b.add("pad", {{"x", y}, {"pad", extra}, {"mode", "constant"}, {"constant_val", scalarLike(b, 0.0, y)}});
    y = b.add("slice_by_index", {{"x", y},
                                 {"begin", begin},
                                 {"end", end},
                                 {"begin_mask", boolVector(b, beginMask)},
                                 {"end_mask", boolVector(b, endMask)}});
    if (bias) y = addChannelBias(b, y, bias);
    return lateBias ? addChannelBias(b, y, lateBias) : y;
}

void bindConv(LoweringContext& ctx, const ConvSpec& c) {
    mil::Value* y = c.transposed ? emitConvTranspose(ctx, c) : emitConv(ctx, c);
    if (c.unbatched) y = ctx.builder().add("squeeze", {{"x", y}, {"axes", std::vector<int64_t>{0}}});
    ctx.bind(0, y);
}

// aten::_convolution / aten::convolution: `transposed` chooses the op.
void lowerConvolution(LoweringContext& ctx) { bindConv(ctx, readConv(ctx, ctx.getBool("transposed"))); }

// aten::conv1d/2d/3d, their `.padding` overloads and aten::_convolution_mode.
void lowerConvNd(LoweringContext& ctx) { bindConv(ctx, readConv(ctx, false)); }

// aten::conv_transpose1d/2d/3d
void lowerConvTransposeNd(LoweringContext& ctx) { bindConv(ctx, readConv(ctx, true)); }

}  // namespace

void populateConvolutionLowerings(Registry& r) {
    r.add("aten::_convolution", lowerConvolution);
    r.add("aten::convolution", lowerConvolution);
    r.add("aten::_convolution_mode", lowerConvNd);
    r.add("aten::conv1d", lowerConvNd);
    r.add("aten::conv2d", lowerConvNd);
    r.add("aten::conv3d", lowerConvNd);
    r.add("aten::conv_transpose1d", lowerConvTransposeNd);
    r.add("aten::conv_transpose2d", lowerConvTransposeNd);
    r.add("aten::conv_transpose3d", lowerConvTransposeNd);
}

TS2COREML_FAMILY(Registry, Convolution, populateConvolutionLowerings)

}  // namespace ts2coreml::lowering
