// Resampling beyond Resize.cpp: upsample_nearest1d/3d, _upsample_nearest_exact1d/2d/3d,
// upsample_linear1d, upsample_bicubic2d, _upsample_bilinear2d_aa and _upsample_bicubic2d_aa, each in
// both overloads (an output size with optional scales, or `.vec` with scale factors).
//
// torch resamples separably: along each spatial axis, output i is a weighted sum of input taps
// whose positions and weights depend only on (in, out, scale, align_corners). With the spatial
// sizes static they are computed here, in torch's own float arithmetic, and applied per axis as
//   nearest:                      gather with constant indices,
//   linear, cubic, antialiased:   matmul with a constant [out, in] interpolation matrix
// (one op per axis whatever the number of taps, which antialiasing makes depend on the scale).
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace ts2coreml::lowering {
namespace {

enum class Mode { Nearest, NearestExact, Linear, Cubic, LinearAntialias, CubicAntialias };

/// What a torch upsample asks for: per spatial axis the output size and torch's `scales_*`
/// argument (which, when given, replaces in / out in the sampling).
struct Request {
    mil::Value* x = nullptr;
    std::vector<int64_t> inSize, outSize;
    std::vector<std::optional<double>> scales;
    bool alignCorners = false;
};

const char* kScaleNames1d[] = {"scales"};
const char* kScaleNames2d[] = {"scales_h", "scales_w"};
const char* kScaleNames3d[] = {"scales_d", "scales_h", "scales_w"};

Request readRequest(LoweringContext& ctx, size_t spatial, bool hasAlignCorners) {
    Request r;
    const bool vec = ctx.hasArg("scale_factors");
    r.x = ctx.tensor(vec ? "input" : "self");
    const int64_t rank = rankOf(r.x);
    if (rank != static_cast<int64_t>(spatial) + 2)
        ctx.fail("expects a " + std::to_string(spatial + 2) + "-D input (N, C and " + std::to_string(spatial) +
                 " spatial dims), got " + r.x->type().str());
    for (size_t i = 0; i < spatial; ++i) {
        auto d = staticDim(r.x, 2 + static_cast<int64_t>(i));
        if (!d) ctx.fail("needs static spatial sizes, got " + r.x->type().str());
        r.inSize.push_back(*d);
    }
    if (hasAlignCorners) r.alignCorners = ctx.getBool("align_corners");

    std::vector<double> factors;
    if (vec && !ctx.isNone("scale_factors")) {
        for (const Arg& e : listElements(ctx, ctx.arg("scale_factors"))) {
            if (!isNumberLiteral(e)) ctx.fail("scale_factors must be constants, got " + e.describe());
            factors.push_back(literalNumber(e));
        }
        if (factors.size() != spatial)
            ctx.fail("scale_factors has " + std::to_string(factors.size()) + " entries; expected " +
                     std::to_string(spatial));
    }
    if (!ctx.isNone("output_size")) {
        const Arg& size = ctx.arg("output_size");
        if (size.isList())
            for (const Arg& e : size.elements())
                if (!e.isConstant()) ctx.fail("resampling to a size computed at run time is not supported");
        r.outSize = expandList(ctx, "output_size", spatial);
        if (!vec) {
            const char* const* names = spatial == 1 ? kScaleNames1d : spatial == 2 ? kScaleNames2d : kScaleNames3d;
            for (size_t i = 0; i < spatial; ++i) r.scales.push_back(ctx.optDouble(names[i]));
        } else {
            r.scales.assign(spatial, std::nullopt);
        }
    } else if (!factors.empty()) {
        // torch: out = floor(in * scale), and the scale itself drives the sampling.
        for (size_t i = 0; i < spatial; ++i) {
            r.outSize.push_back(static_cast<int64_t>(static_cast<double>(r.inSize[i]) * factors[i]));
            r.scales.emplace_back(factors[i]);
        }
    } else {
        ctx.fail("needs output_size or scale_factors");
    }
    for (int64_t o : r.outSize)
        if (o <= 0) ctx.fail("output size must be positive, got " + std::to_string(o));
    return r;
}

// ---- torch's sampling, per axis (ATen's UpSample.h and its CPU kernels) -----------------------

/// compute_scales_value: 1 / scale when a positive scale is given, else in / out; in float.
float scaleValue(std::optional<double> scale, int64_t in, int64_t out) {
    return scale && *scale > 0 ? static_cast<float>(1.0 / *scale) : static_cast<float>(in) / static_cast<float>(out);
}

/// area_pixel_compute_scale: align_corners maps the corner pixels' centres onto each other.
float areaScale(int64_t in, int64_t out, bool alignCorners, std::optional<double> scale) {
    if (alignCorners) return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
    return scaleValue(scale, in, out);
}

/// Source index of each output for nearest (floor(i * s), with torch's shortcuts for x1 and x2)
/// and nearest-exact (floor((i + 0.5) * s)).
std::vector<int32_t> nearestIndices(Mode mode, int64_t in, int64_t out, std::optional<double> scale) {
    std::vector<int32_t> idx;
    const float s = scaleValue(scale, in, out);
    for (int64_t i = 0; i < out; ++i) {
        int64_t src = 0;
        if (mode == Mode::NearestExact)
            src = static_cast<int64_t>(std::floor((static_cast<double>(i) + 0.5) * static_cast<double>(s)));
        else if (out == in)
            src = i;
        else if (out == 2 * in)
            src = i >> 1;
        else
            src = static_cast<int64_t>(std::floor(static_cast<float>(i) * s));
        idx.push_back(static_cast<int32_t>(std::min(src, in - 1)));
    }
    return idx;
}

/// The [out, in] matrix of weights, row i holding output i's taps.
using Weights = std::vector<float>;

void linearRow(Weights& m, int64_t row, int64_t in, int64_t out, float scale, bool alignCorners) {
    float* w = &m[static_cast<size_t>(row * in)];
    if (in == out) {
        w[row] = 1.0f;
        return;
    }
    double src = alignCorners ? static_cast<double>(scale) * static_cast<double>(row)
                              : static_cast<double>(scale) * (static_cast<double>(row) + 0.5) - 0.5;
    if (src < 0) src = 0;
    const auto i0 = static_cast<int64_t>(src);
    const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
    const auto lambda1 = static_cast<float>(src - static_cast<double>(i0));
    w[i0] += 1.0f - lambda1;
    w[i1] += lambda1;
}

// Keys' cubic convolution kernel with parameter A, |x| <= 1 and 1 < |x| < 2.
float cubicNear(float x, float a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }
float cubicFar(float x, float a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }

// Four taps around floor(src), clamped to the border (A = -0.75, as OpenCV).
void cubicRow(Weights& m, int64_t row, int64_t in, float scale, bool alignCorners) {
    float* w = &m[static_cast<size_t>(row * in)];
    const float src = alignCorners ? scale * static_cast<float>(row) : scale * (static_cast<float>(row) + 0.5f) - 0.5f;
    const float floorSrc = std::floor(src);
    const float t = src - floorSrc;
    const float a = -0.75f;
    const float coeffs[4] = {cubicFar(t + 1.0f, a), cubicNear(t, a), cubicNear(1.0f - t, a), cubicFar(2.0f - t, a)};
    for (int64_t j = 0; j < 4; ++j) {
        const int64_t at = std::clamp(static_cast<int64_t>(floorSrc) - 1 + j, int64_t{0}, in - 1);
        w[at] += coeffs[j];
    }
}

float triangleFilter(float x) {
    x = std::abs(x);
    return x < 1.0f ? 1.0f - x : 0.0f;
}
// Cubic with A = -0.5, as PIL's antialiased bicubic.
float cubicFilter(float x) {
    x = std::abs(x);
    const float a = -0.5f;
    if (x < 1.0f) return cubicNear(x, a);
    if (x < 2.0f) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0f;
}

// Antialiasing: a filter stretched by the scale when downsampling, normalized over the taps that
// fall inside the input.
void antialiasRow(Weights& m, int64_t row, int64_t in, float scale, bool cubic) {
    float* w = &m[static_cast<size_t>(row * in)];
    const float halfWidth = cubic ? 2.0f : 1.0f;
    const float support = scale >= 1.0f ? halfWidth * scale : halfWidth;
    const float invScale = scale >= 1.0f ? 1.0f / scale : 1.0f;
    const float center = scale * (static_cast<float>(row) + 0.5f);
    const int64_t lo = std::max(static_cast<int64_t>(static_cast<double>(center - support) + 0.5), int64_t{0});
    const int64_t hi = std::min(static_cast<int64_t>(static_cast<double>(center + support) + 0.5), in);
    float total = 0;
    for (int64_t j = lo; j < hi; ++j) {
        const double arg = (static_cast<double>(static_cast<float>(j) - center) + 0.5) * invScale;
        const float v = cubic ? cubicFilter(static_cast<float>(arg)) : triangleFilter(static_cast<float>(arg));
        w[j] = v;
        total += v;
    }
    if (total != 0.0f)
        for (int64_t j = lo; j < hi; ++j) w[j] /= total;
}

Weights interpolationMatrix(Mode mode, int64_t in, int64_t out, std::optional<double> scale, bool alignCorners) {
    Weights m(static_cast<size_t>(in * out), 0.0f);
    const float s = areaScale(in, out, alignCorners, scale);
    for (int64_t i = 0; i < out; ++i) {
        switch (mode) {
            case Mode::Linear: linearRow(m, i, in, out, s, alignCorners); break;
            case Mode::Cubic: cubicRow(m, i, in, s, alignCorners); break;
            case Mode::LinearAntialias: antialiasRow(m, i, in, s, false); break;
            case Mode::CubicAntialias: antialiasRow(m, i, in, s, true); break;
            default: break;
        }
    }
    return m;
}

bool isIdentity(const Weights& m, int64_t in, int64_t out) {
    if (in != out) return false;
    for (int64_t r = 0; r < out; ++r)
        for (int64_t c = 0; c < in; ++c)
            if (m[static_cast<size_t>(r * in + c)] != (r == c ? 1.0f : 0.0f)) return false;
    return true;
}

// ---- emission ---------------------------------------------------------------------------------

mil::Value* floatConstant(mil::Builder& b, const std::vector<float>& v, std::vector<int64_t> sizes, DType dtype) {
    return castTo(b, b.constant(mil::ConstData::fromFloats(v, std::move(sizes))), dtype);
}

/// x resampled along `axis` (one of the last two) by the [out, in] matrix `m`.
mil::Value* applyMatrix(mil::Builder& b, mil::Value* x, int64_t axis, const Weights& m, int64_t in, int64_t out) {
    const DType dtype = typeOf(x).dtype;
    if (axis == rankOf(x) - 1) {
        // x [..., in] @ m^T [in, out]
        std::vector<float> t(m.size());
        for (int64_t r = 0; r < out; ++r)
            for (int64_t c = 0; c < in; ++c) t[static_cast<size_t>(c * out + r)] = m[static_cast<size_t>(r * in + c)];
        return b.add("matmul", {{"x", x}, {"y", floatConstant(b, t, {in, out}, dtype)}});
    }
    // m [out, in] @ x [..., in, W], broadcast over the leading dims
    return b.add("matmul", {{"x", floatConstant(b, m, {out, in}, dtype)}, {"y", x}});
}

/// 1-D nearest or linear resampling of a dynamic length by a scale factor: the 2-D op over a unit
/// height, which Resize.cpp lowers to MIL's upsampling by scale factors.
void resampleDynamicLength(LoweringContext& ctx, Mode mode) {
    mil::Builder& b = ctx.builder();
    if (!ctx.hasArg("scale_factors") || ctx.isNone("scale_factors") || !ctx.isNone("output_size"))
        ctx.fail("resampling a dynamic length needs scale factors (not an output size)");
    std::vector<double> factors{1.0};
    for (const Arg& e : listElements(ctx, ctx.arg("scale_factors"))) {
        if (!isNumberLiteral(e)) ctx.fail("scale_factors must be constants, got " + e.describe());
        factors.push_back(literalNumber(e));
    }
    if (factors.size() != 2) ctx.fail("scale_factors must have 1 entry");
    mil::Value* x = b.add("expand_dims", {{"x", ctx.tensor("input")}, {"axes", std::vector<int64_t>{2}}});
    std::vector<std::pair<std::string, Arg>> args{{"input", Arg::tensor(x)}, {"output_size", Arg::none()}};
    if (mode == Mode::Linear) args.emplace_back("align_corners", ctx.arg("align_corners"));
    args.emplace_back("scale_factors", Arg::constant(factors));
    mil::Value* y =
        callTensor(ctx, mode == Mode::Linear ? "aten::upsample_bilinear2d.vec" : "aten::upsample_nearest2d.vec", args);
    ctx.bind(0, b.add("squeeze", {{"x", y}, {"axes", std::vector<int64_t>{2}}}));
}

LoweringFn resample(Mode mode, size_t spatial) {
    return [mode, spatial](LoweringContext& ctx) {
        const bool nearest = mode == Mode::Nearest || mode == Mode::NearestExact;
        if (spatial == 1 && (mode == Mode::Nearest || mode == Mode::Linear)) {
            mil::Value* x = ctx.tensor(ctx.hasArg("scale_factors") ? "input" : "self");
            if (rankOf(x) == 3 && !staticDim(x, 2)) return resampleDynamicLength(ctx, mode);
        }
        Request r = readRequest(ctx, spatial, !nearest);
        mil::Builder& b = ctx.builder();
        mil::Value* y = nearest ? r.x : toFloat(b, r.x);
        if (!nearest && spatial > 2) ctx.fail("3-D interpolation other than nearest is not supported");
        for (size_t i = 0; i < spatial; ++i) {
            const int64_t axis = static_cast<int64_t>(i) + 2, in = r.inSize[i], out = r.outSize[i];
            if (nearest) {
                std::vector<int32_t> idx = nearestIndices(mode, in, out, r.scales[i]);
                bool identity = in == out;
                for (int64_t j = 0; identity && j < out; ++j) identity = idx[static_cast<size_t>(j)] == j;
                if (identity) continue;
                mil::Value* indices = b.constant(mil::ConstData::fromInts(idx, {out}));
                y = b.add("gather", {{"x", y}, {"indices", indices}, {"axis", axis}});
                continue;
            }
            const Weights m = interpolationMatrix(mode, in, out, r.scales[i], r.alignCorners);
            if (!isIdentity(m, in, out)) y = applyMatrix(b, y, axis, m, in, out);
        }
        ctx.bind(0, y == r.x ? b.add("identity", {{"x", y}}) : y);
    };
}

}  // namespace

void populateResamplingLowerings(Registry& r) {
    r.add("aten::upsample_nearest1d", resample(Mode::Nearest, 1));
    r.add("aten::upsample_nearest3d", resample(Mode::Nearest, 3));
    r.add("aten::_upsample_nearest_exact1d", resample(Mode::NearestExact, 1));
    r.add("aten::_upsample_nearest_exact2d", resample(Mode::NearestExact, 2));
    r.add("aten::_upsample_nearest_exact3d", resample(Mode::NearestExact, 3));
    r.add("aten::upsample_linear1d", resample(Mode::Linear, 1));
    r.add("aten::upsample_bicubic2d", resample(Mode::Cubic, 2));
    r.add("aten::_upsample_bilinear2d_aa", resample(Mode::LinearAntialias, 2));
    r.add("aten::_upsample_bicubic2d_aa", resample(Mode::CubicAntialias, 2));
}

TS2COREML_FAMILY(Registry, Resampling, populateResamplingLowerings)

}  // namespace ts2coreml::lowering
