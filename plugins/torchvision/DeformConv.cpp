// torchvision::deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias,
//     int stride_h, int stride_w, int pad_h, int pad_w, int dilation_h, int dilation_w, int groups,
//     int offset_groups, bool use_mask) -> Tensor
//
// torchvision's im2col reads, for channel c of offset group g = c / (C / offset_groups), kernel tap
// k = i * kw + j and output position p = (oy, ox):
//   y = oy * stride_h - pad_h + i * dilation_h + offset[b, g * 2K + 2k,     oy, ox]
//   x = ox * stride_w - pad_w + j * dilation_w + offset[b, g * 2K + 2k + 1, oy, ox]
//   column[c * K + k, p] = mask[b, g * K + k, oy, ox] (1 without use_mask) * bilinear(input[b, c], y, x)
// where a bilinear corner outside the image reads 0; then out = weight (per conv group, [C_out / groups,
// C / groups * K]) @ column + bias. Core ML has no deformable convolution, so: the four corners'
// flat indices and weights per (b, g, k, p), one gather of channel rows [C / offset_groups] from the
// input laid out [B * offset_groups * H * W, C / offset_groups], the weighted sum, and the matmul as
// a grouped 1x1 conv over the columns laid out [B, C * K, H_out, W_out].
#include "TorchvisionLowerings.h"

#include <ts2coreml/LoweringSupport.h>

#include <memory>
#include <optional>

namespace ts2coreml::torchvision {

namespace {

using namespace ts2coreml::lowering;

struct Sizes {
    int64_t batch, channels, height, width;    // input
    int64_t outChannels, kernelH, kernelW;     // weight
    int64_t outH, outW, groups, offsetGroups;  // output, groups
    int64_t taps() const { return kernelH * kernelW; }
    int64_t points() const { return outH * outW; }
};

std::vector<int64_t> staticSizes(LoweringContext& ctx, const char* name, mil::Value* v, int64_t rank) {
    if (rankOf(v) != rank)
        ctx.fail("deform_conv2d's " + std::string(name) + " must have rank " + std::to_string(rank) + ", got " +
                 typeOf(v).str());
    std::vector<int64_t> sizes;
    for (int64_t axis = 0; axis < rank; ++axis) {
        std::optional<int64_t> d = staticDim(v, axis);
        if (!d)
            ctx.fail("deform_conv2d needs static sizes (its sampling positions are laid out at conversion), got " +
                     std::string(name) + " " + typeOf(v).str() + "; give fixed --input sizes");
        sizes.push_back(*d);
    }
    return sizes;
}

/// x * 0 + lo when the range is empty (a size-1 dim), since MIL's clip needs alpha < beta.
mil::Value* clipTo(mil::Builder& b, mil::Value* x, int64_t size) {
    if (size <= 1) return b.add("mul", {{"x", x}, {"y", 0.0f}});
    return b.add("clip", {{"x", x}, {"alpha", 0.0f}, {"beta", static_cast<float>(size - 1)}});
}

/// 1 where 0 <= c <= size - 1, else 0.
mil::Value* inside(mil::Builder& b, mil::Value* c, int64_t size) {
    mil::Value* in =
        b.add("logical_and", {{"x", b.add("greater_equal", {{"x", c}, {"y", 0.0f}})},
                              {"y", b.add("less_equal", {{"x", c}, {"y", static_cast<float>(size - 1)}})}});
    return b.add("cast", {{"x", in}, {"dtype", "fp32"}});
}

/// Coordinate `axis` (0: dy, 1: dx) of the offsets [B * G, K, 2, P] as [B * G, K, P].
mil::Value* offsetAxis(mil::Builder& b, mil::Value* offsets, int64_t axis) {
    return b.add("slice_by_index", {{"x", offsets},
                                    {"begin", std::vector<int64_t>{0, 0, axis, 0}},
                                    {"end", std::vector<int64_t>{0, 0, axis + 1, 0}},
                                    {"begin_mask", boolVector(b, {true, true, false, true})},
                                    {"end_mask", boolVector(b, {true, true, false, true})},
                                    {"squeeze_mask", boolVector(b, {false, false, true, false})}});
}

/// The undeformed sampling position along one axis, [K, P]: out * stride - pad + tap * dilation.
mil::Value* basePositions(mil::Builder& b, const Sizes& s, bool rows, int64_t stride, int64_t pad, int64_t dilation) {
    std::vector<float> v;
    v.reserve(static_cast<size_t>(s.taps() * s.points()));
    for (int64_t i = 0; i < s.kernelH; ++i)
        for (int64_t j = 0; j < s.kernelW; ++j)
            for (int64_t oy = 0; oy < s.outH; ++oy)
                for (int64_t ox = 0; ox < s.outW; ++ox)
                    v.push_back(
                        static_cast<float>(rows ? oy * stride - pad + i * dilation : ox * stride - pad + j * dilation));
    return b.constant(mil::ConstData::fromFloats(std::move(v), {s.taps(), s.points()}));
}

/// One bilinear corner along one axis: the integral coordinate and its weight times inside(coord).
struct Corner {
    mil::Value* index;   // int32, clamped into range
    mil::Value* weight;  // fp32
};

std::vector<Corner> axisCorners(mil::Builder& b, mil::Value* at, int64_t size) {
    mil::Value* lo = b.add("floor", {{"x", at}});
    mil::Value* frac = b.add("sub", {{"x", at}, {"y", lo}});
    mil::Value* hi = b.add("add", {{"x", lo}, {"y", 1.0f}});
    std::vector<Corner> corners;
    for (auto [c, w] : {std::pair{lo, b.add("sub", {{"x", 1.0f}, {"y", frac}})}, {hi, frac}})
        corners.push_back(
            {castTo(b, clipTo(b, c, size), DType::Int32), b.add("mul", {{"x", w}, {"y", inside(b, c, size)}})});
    return corners;
}

/// The weight reshaped for the 1x1 conv. A constant stays a constant: a NeuralNetwork conv layer
/// holds its weight.
mil::Value* kernelWeight(mil::Builder& b, mil::Value* weight, std::vector<int64_t> shape) {
    if (const mil::ConstData* data = weight->constant()) {
        auto reshaped = std::make_shared<mil::ConstData>(*data);  // shares the owner of the values
        reshaped->sizes = std::move(shape);
        return b.constant(reshaped);
    }
    return b.add("reshape", {{"x", weight}, {"shape", std::move(shape)}});
}

void lowerDeformConv2d(LoweringContext& ctx) {
    auto& b = ctx.builder();
    mil::Value* input = toFloat(b, ctx.tensor("input"));    // [B, C, H, W]
    mil::Value* weight = toFloat(b, ctx.tensor("weight"));  // [C_out, C / groups, kh, kw]
    mil::Value* offset = toFloat(b, ctx.tensor("offset"));  // [B, offset_groups * 2 * kh * kw, H_out, W_out]
    const bool useMask = ctx.getBool("use_mask");
    const int64_t strideH = ctx.getInt("stride_h"), strideW = ctx.getInt("stride_w");
    const int64_t padH = ctx.getInt("pad_h"), padW = ctx.getInt("pad_w");
    const int64_t dilationH = ctx.getInt("dilation_h"), dilationW = ctx.getInt("dilation_w");
    const std::vector<int64_t> in = staticSizes(ctx, "input", input, 4);
    const std::vector<int64_t> w = staticSizes(ctx, "weight", weight, 4);
    const std::vector<int64_t> off = staticSizes(ctx, "offset", offset, 4);
    Sizes s{in[0],
            in[1],
            in[2],
            in[3],
            w[0],
            w[2],
            w[3],
            off[2],
            off[3],
            ctx.getInt("groups"),
            ctx.getInt("offset_groups")};
    if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || padH < 0 || padW < 0)
        ctx.fail("deform_conv2d needs positive strides and dilations and non-negative padding");
    if (s.groups < 1 || s.channels % s.groups != 0 || s.outChannels % s.groups != 0 || w[1] * s.groups != s.channels)
        ctx.fail("deform_conv2d's groups " + std::to_string(s.groups) + " do not match input " + typeOf(input).str() +
                 " and weight " + typeOf(weight).str());
    if (s.offsetGroups < 1 || s.channels % s.offsetGroups != 0)
        ctx.fail("deform_conv2d's offset_groups " + std::to_string(s.offsetGroups) + " must divide the " +
                 std::to_string(s.channels) + " input channels");
    const int64_t outH = (s.height + 2 * padH - (dilationH * (s.kernelH - 1) + 1)) / strideH + 1;
    const int64_t outW = (s.width + 2 * padW - (dilationW * (s.kernelW - 1) + 1)) / strideW + 1;
    if (off[0] != s.batch || off[1] != s.offsetGroups * 2 * s.taps() || off[2] != outH || off[3] != outW)
        ctx.fail("deform_conv2d's offset must be [" + std::to_string(s.batch) + ", " +
                 std::to_string(s.offsetGroups * 2 * s.taps()) + ", " + std::to_string(outH) + ", " +
                 std::to_string(outW) + "], got " + typeOf(offset).str());
    const int64_t bg = s.batch * s.offsetGroups, cg = s.channels / s.offsetGroups;
    const int64_t taps = s.taps(), points = s.points(), pixels = s.height * s.width;

    // Sampling positions [B * G, K, P].
    mil::Value* offsets = b.add("reshape", {{"x", offset}, {"shape", std::vector<int64_t>{bg, taps, 2, points}}});
    mil::Value* ys =
        b.add("add", {{"x", basePositions(b, s, true, strideH, padH, dilationH)}, {"y", offsetAxis(b, offsets, 0)}});
    mil::Value* xs =
        b.add("add", {{"x", basePositions(b, s, false, strideW, padW, dilationW)}, {"y", offsetAxis(b, offsets, 1)}});
    mil::Value* modulation = nullptr;
    if (useMask) {
        mil::Value* mask = toFloat(b, ctx.tensor("mask"));  // [B, offset_groups * K, H_out, W_out]
        const std::vector<int64_t> m = staticSizes(ctx, "mask", mask, 4);
        if (m != std::vector<int64_t>{s.batch, s.offsetGroups * taps, outH, outW})
            ctx.fail("deform_conv2d's mask must be [" + std::to_string(s.batch) + ", " +
                     std::to_string(s.offsetGroups * taps) + ", " + std::to_string(outH) + ", " + std::to_string(outW) +
                     "], got " + typeOf(mask).str());
        modulation = b.add("reshape", {{"x", mask}, {"shape", std::vector<int64_t>{bg, taps, points}}});
    }

    // The four corners: flat row (b * G + g) * H * W + y * W + x, weight wy * wx (* mask).
    mil::Value* firstRow = b.constant(mil::ConstData::fromInts(
        [&] {
            std::vector<int32_t> v;
            for (int64_t i = 0; i < bg; ++i) v.push_back(static_cast<int32_t>(i * pixels));
            return v;
        }(),
        {bg, 1, 1}));
    std::vector<mil::Value*> rows, weights;
    for (const Corner& y : axisCorners(b, ys, s.height))
        for (const Corner& x : axisCorners(b, xs, s.width)) {
            mil::Value* row =
                b.add("add", {{"x", b.add("mul", {{"x", y.index},
                                                  {"y", scalarConst(b, static_cast<double>(s.width), DType::Int32)}})},
                              {"y", x.index}});
            rows.push_back(b.add("add", {{"x", row}, {"y", firstRow}}));
            mil::Value* wt = b.add("mul", {{"x", y.weight}, {"y", x.weight}});
            weights.push_back(modulation ? b.add("mul", {{"x", wt}, {"y", modulation}}) : wt);
        }
    auto corners = [&](const std::vector<mil::Value*>& v, std::vector<int64_t> shape) {
        return b.add("reshape",
                     {{"x", b.add("stack", {{"values", v}, {"axis", int64_t{1}}})}, {"shape", std::move(shape)}});
    };
    mil::Value* indices = corners(rows, {bg, 4, taps * points});  // [B * G, 4, K * P]
    mil::Value* cornerWeights = corners(weights, {bg, 4, taps * points, 1});

    // Input rows [B * G * H * W, C / G]: channels of one offset group at one pixel.
    mil::Value* table = b.add("reshape", {{"x", input}, {"shape", std::vector<int64_t>{bg, cg, pixels}}});
    table = b.add("transpose", {{"x", table}, {"perm", std::vector<int64_t>{0, 2, 1}}});
    table = b.add("reshape", {{"x", table}, {"shape", std::vector<int64_t>{bg * pixels, cg}}});
    mil::Value* samples =
        b.add("gather", {{"x", table}, {"indices", indices}, {"axis", int64_t{0}}});  // [BG, 4, KP, C/G]
    samples = b.add("reduce_sum", {{"x", b.add("mul", {{"x", samples}, {"y", cornerWeights}})},
                                   {"axes", std::vector<int64_t>{1}},
                                   {"keep_dims", false}});  // [B * G, K * P, C / G]

    // Columns [B, C * K, H_out, W_out], row c * K + k, then the grouped 1x1 conv with the weight as
    // [C_out, C / groups * K, 1, 1] (the same c * K + k order within a group).
    mil::Value* columns = b.add("transpose", {{"x", samples}, {"perm", std::vector<int64_t>{0, 2, 1}}});
    columns =
        b.add("reshape", {{"x", columns}, {"shape", std::vector<int64_t>{s.batch, s.channels * taps, outH, outW}}});
    mil::Value* kernel = kernelWeight(b, weight, {s.outChannels, w[1] * taps, 1, 1});
    mil::Value* out = b.add("conv", {{"x", columns}, {"weight", kernel}, {"pad_type", "valid"}, {"groups", s.groups}});
    if (!ctx.isNone("bias")) {
        mil::Value* bias = toFloat(b, ctx.tensor("bias"));
        if (rankOf(bias) != 1 || staticDim(bias, 0) != std::optional<int64_t>(s.outChannels))
            ctx.fail("deform_conv2d's bias must be [" + std::to_string(s.outChannels) + "], got " + typeOf(bias).str());
        out = b.add("add",
                    {{"x", out}, {"y", b.add("reshape", {{"x", bias}, {"shape", std::vector<int64_t>{-1, 1, 1}}})}});
    }
    ctx.bind(0, out);
}

}  // namespace

void populateDeformConvLowerings(Registry& registry) { registry.add("torchvision::deform_conv2d", lowerDeformConv2d); }

}  // namespace ts2coreml::torchvision
