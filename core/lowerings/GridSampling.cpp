// Sampling at computed positions: grid_sampler (F.grid_sample, 2-D: bilinear, nearest and bicubic,
// zeros / border / reflection padding) and affine_grid_generator (F.affine_grid, 2-D).
//
// Core ML's `resample` reads its grid only from iOS16 on and has no NeuralNetwork layer, so the
// sampler is composed: each output position reads a few taps (1 nearest, 4 bilinear, 16 bicubic)
// whose positions and weights are computed from the grid as torch does, then gathers them from
// the input laid out as rows [N * H * W, C] and sums them weighted. A tap outside the input has
// weight 0 (its index is clamped only so that the gather stays in range).
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>

namespace ts2coreml::lowering {
namespace {

enum class Interpolation : int64_t { Bilinear = 0, Nearest = 1, Bicubic = 2 };
enum class Padding : int64_t { Zeros = 0, Border = 1, Reflection = 2 };

/// Elementwise arithmetic on one axis' coordinates, [N, P] fp32 values.
struct Coords {
    mil::Builder& b;

    mil::Value* k(double v) { return b.scalar(static_cast<float>(v)); }
    mil::Value* add(mil::Value* x, mil::Value* y) { return b.add("add", {{"x", x}, {"y", y}}); }
    mil::Value* sub(mil::Value* x, mil::Value* y) { return b.add("sub", {{"x", x}, {"y", y}}); }
    mil::Value* mul(mil::Value* x, mil::Value* y) { return b.add("mul", {{"x", x}, {"y", y}}); }
    mil::Value* div(mil::Value* x, mil::Value* y) { return b.add("real_div", {{"x", x}, {"y", y}}); }
    mil::Value* floor(mil::Value* x) { return b.add("floor", {{"x", x}}); }
    mil::Value* clip(mil::Value* x, double lo, double hi) {
        // MIL's clip needs lo < hi; a dim of size 1 clips everything to 0
        if (lo >= hi) return add(mul(x, k(0)), k(lo));
        return b.add("clip", {{"x", x}, {"alpha", k(lo)}, {"beta", k(hi)}});
    }
    mil::Value* cast(mil::Value* x) { return b.add("cast", {{"x", x}, {"dtype", "fp32"}}); }

    /// grid value in [-1, 1] -> pixel coordinate
    mil::Value* unnormalize(mil::Value* g, int64_t size, bool alignCorners) {
        const auto n = static_cast<double>(size);
        if (alignCorners) return mul(div(add(g, k(1)), k(2)), k(n - 1));
        return div(sub(mul(add(g, k(1)), k(n)), k(1)), k(2));
    }

    /// torch's reflect_coordinates: c reflected into [twiceLow / 2, twiceHigh / 2].
    mil::Value* reflect(mil::Value* c, int64_t twiceLow, int64_t twiceHigh) {
        if (twiceLow == twiceHigh) return mul(c, k(0));
        const double lo = static_cast<double>(twiceLow) / 2, span = static_cast<double>(twiceHigh - twiceLow) / 2;
        mil::Value* a = b.add("abs", {{"x", sub(c, k(lo))}});
        mil::Value* extra = b.add("mod", {{"x", a}, {"y", k(span)}});
        mil::Value* flips = floor(div(a, k(span)));
        mil::Value* even = b.add("equal", {{"x", b.add("mod", {{"x", flips}, {"y", k(2)}})}, {"y", k(0)}});
        return b.add("select", {{"cond", even}, {"a", add(extra, k(lo))}, {"b", add(sub(k(span), extra), k(lo))}});
    }

    /// torch's compute_coordinates: the padding mode applied to a coordinate.
    mil::Value* pad(mil::Value* c, int64_t size, Padding padding, bool alignCorners) {
        if (padding == Padding::Border) return clip(c, 0, static_cast<double>(size - 1));
        if (padding == Padding::Reflection) {
            c = alignCorners ? reflect(c, 0, 2 * (size - 1)) : reflect(c, -1, 2 * size - 1);
            return clip(c, 0, static_cast<double>(size - 1));
        }
        return c;
    }

    // Keys' cubic convolution with A = -0.75, for |x| <= 1 and 1 < |x| < 2.
    mil::Value* cubicNear(mil::Value* x) {
        const double a = -0.75;
        return add(mul(mul(sub(mul(k(a + 2), x), k(a + 3)), x), x), k(1));
    }
    mil::Value* cubicFar(mil::Value* x) {
        const double a = -0.75;
        return sub(mul(add(mul(sub(mul(k(a), x), k(5 * a)), x), k(8 * a)), x), k(4 * a));
    }
};

/// One tap along one axis: an integral coordinate (maybe outside the input) and its weight.
struct Tap {
    mil::Value* coord;
    mil::Value* weight;
};

std::vector<Tap> axisTaps(Coords& c, mil::Value* g, int64_t size, Interpolation mode, Padding padding,
                          bool alignCorners) {
    mil::Value* at = c.unnormalize(g, size, alignCorners);
    if (mode == Interpolation::Nearest) {
        // nearbyint: halves to even, as MIL's round
        mil::Value* nearest = c.b.add("round", {{"x", c.pad(at, size, padding, alignCorners)}});
        return {{nearest, nullptr}};
    }
    if (mode == Interpolation::Bilinear) {
        at = c.pad(at, size, padding, alignCorners);
        mil::Value* lo = c.floor(at);
        mil::Value* frac = c.sub(at, lo);
        return {{lo, c.sub(c.k(1), frac)}, {c.add(lo, c.k(1)), frac}};
    }
    // bicubic: the padding applies to each of the four taps around floor(at)
    mil::Value* lo = c.floor(at);
    mil::Value* t = c.sub(at, lo);
    mil::Value* weights[4] = {c.cubicFar(c.add(t, c.k(1))), c.cubicNear(t), c.cubicNear(c.sub(c.k(1), t)),
                              c.cubicFar(c.sub(c.k(2), t))};
    std::vector<Tap> taps;
    for (int i = 0; i < 4; ++i) taps.push_back({c.pad(c.add(lo, c.k(i - 1)), size, padding, alignCorners), weights[i]});
    return taps;
}

/// The tap's weight times 1 when its coordinate lies inside [0, size), else 0; and the coordinate
/// clamped into range, as int32 (flat indices beyond 2048 are not exact in an fp16 program).
std::pair<mil::Value*, mil::Value*> maskedTap(Coords& c, const Tap& tap, int64_t size) {
    const auto last = static_cast<double>(size - 1);
    mil::Value* inside = c.b.add("logical_and", {{"x", c.b.add("greater_equal", {{"x", tap.coord}, {"y", c.k(0)}})},
                                                 {"y", c.b.add("less_equal", {{"x", tap.coord}, {"y", c.k(last)}})}});
    mil::Value* mask = c.cast(inside);
    return {tap.weight ? c.mul(tap.weight, mask) : mask, castTo(c.b, c.clip(tap.coord, 0, last), DType::Int32)};
}

/// Grid column `axis` (0: x, 1: y) of g [N, P, 2] as [N, P].
mil::Value* gridColumn(mil::Builder& b, mil::Value* g, int64_t axis) {
    return b.add("slice_by_index", {{"x", g},
                                    {"begin", std::vector<int64_t>{0, 0, axis}},
                                    {"end", std::vector<int64_t>{0, 0, axis + 1}},
                                    {"begin_mask", boolVector(b, {true, true, false})},
                                    {"end_mask", boolVector(b, {true, true, false})},
                                    {"squeeze_mask", boolVector(b, {false, false, true})}});
}

// grid_sampler(input [N, C, H, W], grid [N, Ho, Wo, 2], interpolation_mode, padding_mode, align_corners)
void lowerGridSampler(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, ctx.tensor("input"));
    mil::Value* grid = toFloat(b, ctx.tensor("grid"));
    if (rankOf(x) != 4) ctx.fail("only 2-D grid sampling (a 4-D input) is supported, got input " + x->type().str());
    if (rankOf(grid) != 4 || staticDim(grid, 3) != std::optional<int64_t>(2))
        ctx.fail("grid must be [N, H_out, W_out, 2], got " + grid->type().str());
    const int64_t modeCode = ctx.getInt("interpolation_mode"), paddingCode = ctx.getInt("padding_mode");
    if (modeCode < 0 || modeCode > 2) ctx.fail("unknown interpolation_mode " + std::to_string(modeCode));
    if (paddingCode < 0 || paddingCode > 2) ctx.fail("unknown padding_mode " + std::to_string(paddingCode));
    const auto mode = static_cast<Interpolation>(modeCode);
    const auto padding = static_cast<Padding>(paddingCode);
    const bool alignCorners = ctx.getBool("align_corners");
    std::vector<int64_t> sizes;  // C, H, W, Ho, Wo
    for (auto [v, axis] : {std::pair{x, 1}, {x, 2}, {x, 3}, {grid, 1}, {grid, 2}}) {
        auto d = staticDim(v, axis);
        if (!d)
            ctx.fail("grid sampling needs static channels, input sizes and grid sizes, got input " + x->type().str() +
                     " and grid " + grid->type().str());
        sizes.push_back(*d);
    }
    const int64_t channels = sizes[0], height = sizes[1], width = sizes[2], points = sizes[3] * sizes[4];

    Coords c{b};
    mil::Value* g = b.add("reshape", {{"x", grid}, {"shape", std::vector<int64_t>{-1, points, 2}}});
    const std::vector<Tap> xs = axisTaps(c, gridColumn(b, g, 0), width, mode, padding, alignCorners);
    const std::vector<Tap> ys = axisTaps(c, gridColumn(b, g, 1), height, mode, padding, alignCorners);
    std::vector<std::pair<mil::Value*, mil::Value*>> mx, my;
    for (const Tap& t : xs) mx.push_back(maskedTap(c, t, width));
    for (const Tap& t : ys) my.push_back(maskedTap(c, t, height));
    std::vector<mil::Value*> weights, rows;
    for (const auto& [wy, y] : my)
        for (const auto& [wx, xc] : mx) {
            weights.push_back(c.mul(wy, wx));
            rows.push_back(c.add(c.mul(y, scalarConst(b, static_cast<double>(width), DType::Int32)), xc));
        }
    auto stacked = [&](const std::vector<mil::Value*>& v) {
        return v.size() == 1 ? b.add("expand_dims", {{"x", v.front()}, {"axes", std::vector<int64_t>{2}}})
                             : b.add("stack", {{"values", v}, {"axis", int64_t{2}}});
    };
    // rows of image n start at n * H * W
    mil::Value* first = b.add("mul", {{"x", countTo(ctx, dimArg(b, x, 0))},
                                      {"y", scalarConst(b, static_cast<double>(height * width), DType::Int32)}});
    mil::Value* indices = b.add(
        "add",
        {{"x", stacked(rows)}, {"y", b.add("reshape", {{"x", first}, {"shape", std::vector<int64_t>{-1, 1, 1}}})}});

    mil::Value* table =
        b.add("reshape", {{"x", b.add("transpose", {{"x", x}, {"perm", std::vector<int64_t>{0, 2, 3, 1}}})},
                          {"shape", std::vector<int64_t>{-1, channels}}});
    mil::Value* taps = b.add("gather", {{"x", table}, {"indices", indices}, {"axis", int64_t{0}}});  // [N, P, K, C]
    mil::Value* w = b.add("expand_dims", {{"x", stacked(weights)}, {"axes", std::vector<int64_t>{3}}});
    mil::Value* sum =
        b.add("reduce_sum", {{"x", c.mul(taps, w)}, {"axes", std::vector<int64_t>{2}}, {"keep_dims", false}});
    mil::Value* y = b.add("transpose", {{"x", sum}, {"perm", std::vector<int64_t>{0, 2, 1}}});
    ctx.bind(0, b.add("reshape", {{"x", y}, {"shape", std::vector<int64_t>{-1, channels, sizes[3], sizes[4]}}}));
}

/// torch's linspace(-1, 1, n) (scaled by (n - 1) / n unless align_corners), in float.
std::vector<float> baseCoordinates(int64_t n, bool alignCorners) {
    if (n <= 1) return {0.0f};
    std::vector<float> v(static_cast<size_t>(n));
    const float step = 2.0f / static_cast<float>(n - 1);
    for (int64_t i = 0; i < n; ++i)
        v[static_cast<size_t>(i)] =
            i < n / 2 ? -1.0f + step * static_cast<float>(i) : 1.0f - step * static_cast<float>(n - 1 - i);
    if (!alignCorners)
        for (float& e : v) e = e * static_cast<float>(n - 1) / static_cast<float>(n);
    return v;
}

// affine_grid_generator(theta [N, 2, 3], size [N, C, H, W], align_corners) -> [N, H, W, 2]:
// base [H * W, 3] rows (x, y, 1) times theta^T.
void lowerAffineGrid(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* theta = toFloat(b, ctx.tensor("theta"));
    const std::vector<int64_t> size = intList(ctx, "size");
    if (size.size() != 4)
        ctx.fail("only 2-D affine grids (a size of 4 entries) are supported, got " + std::to_string(size.size()) +
                 " entries");
    if (rankOf(theta) != 3 || staticDim(theta, 1) != std::optional<int64_t>(2) ||
        staticDim(theta, 2) != std::optional<int64_t>(3))
        ctx.fail("theta must be [N, 2, 3], got " + theta->type().str());
    const int64_t height = size[2], width = size[3];
    const bool alignCorners = ctx.getBool("align_corners");
    const std::vector<float> xs = baseCoordinates(width, alignCorners), ys = baseCoordinates(height, alignCorners);
    std::vector<float> base;
    for (int64_t h = 0; h < height; ++h)
        for (int64_t w = 0; w < width; ++w) {
            base.push_back(xs[static_cast<size_t>(w)]);
            base.push_back(ys[static_cast<size_t>(h)]);
            base.push_back(1.0f);
        }
    mil::Value* baseGrid =
        castTo(b, b.constant(mil::ConstData::fromFloats(base, {height * width, 3})), typeOf(theta).dtype);
    mil::Value* grid = b.add("matmul", {{"x", baseGrid}, {"y", theta}, {"transpose_x", false}, {"transpose_y", true}});
    ctx.bind(0, b.add("reshape", {{"x", grid}, {"shape", std::vector<int64_t>{-1, height, width, 2}}}));
}

}  // namespace

void populateGridSamplingLowerings(Registry& r) {
    r.add("aten::grid_sampler", lowerGridSampler);
    r.add("aten::grid_sampler_2d", lowerGridSampler);
    r.add("aten::affine_grid_generator", lowerAffineGrid);
}

TS2COREML_FAMILY(Registry, GridSampling, populateGridSamplingLowerings)

}  // namespace ts2coreml::lowering
