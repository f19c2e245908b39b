// Spatial resizing: upsample_bilinear2d and upsample_nearest2d, in both overloads (an output size,
// or scale factors).
//
// torch samples output pixel i of a dimension at source coordinate
//   align_corners=True : i * (in - 1) / (out - 1)
//   align_corners=False: (i + 0.5) * r - 0.5, with r = 1 / scale_factor when a scale is given, else in / out
// MIL's upsample_bilinear and resize_bilinear both use r = in / out, so a given scale must make
// in * scale an integer for the two to agree.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>

namespace ts2coreml::lowering {
namespace {

/// What a torch upsample asks for, per spatial dim (height, width).
struct Resize {
    mil::Value* x = nullptr;
    std::vector<int64_t> outSize;  ///< set when the output size is static
    std::vector<double> scales;    ///< set when torch samples by scale factors
};

bool integral(double v) { return std::abs(v - std::round(v)) < 1e-6; }

/// Reads `output_size` (an int list or None) and the scales: `scale_factors` in the .vec overloads,
/// else the optional `scales_h` and `scales_w`.
Resize readResize(LoweringContext& ctx, const char* inputName, bool vecOverload) {
    Resize r;
    r.x = ctx.tensor(inputName);
    if (rankOf(r.x) != 4) ctx.fail("upsampling 2-D expects a 4-D input, got " + r.x->type().str());
    if (vecOverload) {
        if (!ctx.isNone("scale_factors")) {
            for (const Arg& e : listElements(ctx, ctx.arg("scale_factors"))) {
                if (!isNumberLiteral(e)) ctx.fail("scale_factors must be constants, got " + e.describe());
                r.scales.push_back(literalNumber(e));
            }
            if (r.scales.size() == 1) r.scales.push_back(r.scales.front());
            if (r.scales.size() != 2) ctx.fail("scale_factors must have 2 entries");
        }
    } else {
        auto h = ctx.optDouble("scales_h"), w = ctx.optDouble("scales_w");
        if (h && w) r.scales = {*h, *w};
    }
    if (!ctx.isNone("output_size")) {
        const Arg& size = ctx.arg("output_size");
        if (size.isList())
            for (const Arg& e : size.elements())
                if (!e.isConstant()) ctx.fail("upsampling to a size computed at run time is not supported");
        r.outSize = expandList(ctx, "output_size", 2);
    } else if (r.scales.empty()) {
        ctx.fail("upsampling needs output_size or scale_factors");
    }
    return r;
}

/// Integer scale per dim when the output is a whole multiple of a static input, else nullopt.
std::optional<std::vector<int64_t>> integerRatio(const Resize& r) {
    std::vector<int64_t> ratio;
    for (int64_t i = 0; i < 2; ++i) {
        auto in = staticDim(r.x, 2 + i);
        if (!in || *in == 0 || r.outSize[static_cast<size_t>(i)] % *in != 0) return std::nullopt;
        ratio.push_back(r.outSize[static_cast<size_t>(i)] / *in);
    }
    return ratio;
}

/// Fails when torch would sample with r = 1 / scale but MIL with in / out and the two differ.
void checkScaleSampling(LoweringContext& ctx, const Resize& r) {
    for (int64_t i = 0; i < 2; ++i) {
        const double s = r.scales[static_cast<size_t>(i)];
        auto in = staticDim(r.x, 2 + i);
        const bool exact = in ? integral(static_cast<double>(*in) * s) : integral(s);
        if (!exact)
            ctx.fail("scale factor " + numberText(s) +
                     " gives a fractional output size; torch then samples "
                     "differently from Core ML (use an output size, or recompute_scale_factor=True)");
    }
}

void emitBilinear(LoweringContext& ctx, const Resize& r, bool alignCorners) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, r.x);
    const bool byScale = r.outSize.empty() || (!alignCorners && !r.scales.empty());
    if (byScale) {
        if (!alignCorners) checkScaleSampling(ctx, r);
        return ctx.bind(0, b.add("upsample_bilinear", {{"x", x},
                                                       {"scale_factor_height", r.scales[0]},
                                                       {"scale_factor_width", r.scales[1]},
                                                       {"align_corners", alignCorners}}));
    }
    if (auto ratio = integerRatio(r))
        return ctx.bind(0, b.add("upsample_bilinear", {{"x", x},
                                                       {"scale_factor_height", static_cast<double>((*ratio)[0])},
                                                       {"scale_factor_width", static_cast<double>((*ratio)[1])},
                                                       {"align_corners", alignCorners}}));
    ctx.bind(0,
             b.add("resize_bilinear", {{"x", x},
                                       {"target_size_height", r.outSize[0]},
                                       {"target_size_width", r.outSize[1]},
                                       {"sampling_mode", alignCorners ? "STRICT_ALIGN_CORNERS" : "UNALIGN_CORNERS"}}));
}

// nearest: source index floor(i * r); exact in MIL for whole-number scale factors.
void emitNearest(LoweringContext& ctx, const Resize& r) {
    mil::Builder& b = ctx.builder();
    std::vector<double> scales;
    if (!r.scales.empty() && (r.outSize.empty() || !integerRatio(r))) {
        for (double s : r.scales)
            if (!integral(s))
                ctx.fail("nearest upsampling by a fractional scale factor (" + numberText(s) + ") is not supported");
        scales = r.scales;
    } else if (auto ratio = integerRatio(r)) {
        scales = {static_cast<double>((*ratio)[0]), static_cast<double>((*ratio)[1])};
    } else {
        ctx.fail("nearest upsampling supports output sizes that are whole multiples of a static input size");
    }
    ctx.bind(0, b.add("upsample_nearest_neighbor",
                      {{"x", r.x}, {"scale_factor_height", scales[0]}, {"scale_factor_width", scales[1]}}));
}

// upsample_bilinear2d.vec(input, output_size, align_corners, scale_factors)
void lowerBilinearVec(LoweringContext& ctx) {
    emitBilinear(ctx, readResize(ctx, "input", true), ctx.getBool("align_corners"));
}
// upsample_bilinear2d(self, output_size, align_corners, scales_h, scales_w)
void lowerBilinear(LoweringContext& ctx) {
    emitBilinear(ctx, readResize(ctx, "self", false), ctx.getBool("align_corners"));
}
// upsample_nearest2d.vec(input, output_size, scale_factors)
void lowerNearestVec(LoweringContext& ctx) { emitNearest(ctx, readResize(ctx, "input", true)); }
// upsample_nearest2d(self, output_size, scales_h, scales_w)
void lowerNearest(LoweringContext& ctx) { emitNearest(ctx, readResize(ctx, "self", false)); }

}  // namespace

void populateResizeLowerings(Registry& r) {
    r.add("aten::upsample_bilinear2d", lowerBilinear);
    r.add("aten::upsample_bilinear2d.vec", lowerBilinearVec);
    r.add("aten::upsample_nearest2d", lowerNearest);
    r.add("aten::upsample_nearest2d.vec", lowerNearestVec);
}

TS2COREML_FAMILY(Registry, Resize, populateResizeLowerings)

}  // namespace ts2coreml::lowering
