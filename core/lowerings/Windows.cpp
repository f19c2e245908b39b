// Sliding windows: Tensor.unfold, im2col (F.unfold), col2im (F.fold), max pooling that also
// returns the argmax indices, and _adaptive_avg_pool2d.
//
// The windows of a static spatial volume are known when converting: each (kernel offset, output
// position) pair reads one flat input position. unfold and im2col gather those positions with a
// constant index table; col2im, which sums the windows back, is a transposed convolution whose
// weight routes channel (c, offset) to channel c at that offset (a one-hot weight), so that
// overlapping windows add up.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>

namespace ts2coreml::lowering {
namespace {

int64_t product(const std::vector<int64_t>& v) {
    return std::accumulate(v.begin(), v.end(), int64_t{1}, std::multiplies<>());
}

/// Windows over a spatial volume of static sizes `in` (already padded).
struct WindowGrid {
    std::vector<int64_t> in, kernel, dilation, stride, out;

    int64_t kernelVolume() const { return product(kernel); }
    int64_t outVolume() const { return product(out); }

    /// table[k * outVolume + l] = flat(pos), pos being the position in the padded volume that
    /// kernel offset k reads for output position l (both row-major).
    std::vector<int32_t> table(const std::function<int64_t(const std::vector<int64_t>&)>& flat) const {
        const size_t n = in.size();
        std::vector<int32_t> t(static_cast<size_t>(kernelVolume() * outVolume()));
        std::vector<int64_t> kIdx(n, 0), pos(n);
        for (int64_t k = 0; k < kernelVolume(); ++k) {
            std::vector<int64_t> oIdx(n, 0);
            for (int64_t l = 0; l < outVolume(); ++l) {
                for (size_t d = 0; d < n; ++d) pos[d] = oIdx[d] * stride[d] + kIdx[d] * dilation[d];
                t[static_cast<size_t>(k * outVolume() + l)] = static_cast<int32_t>(flat(pos));
                for (size_t d = n; d-- > 0;)
                    if (++oIdx[d] < out[d])
                        break;
                    else
                        oIdx[d] = 0;
            }
            for (size_t d = n; d-- > 0;)
                if (++kIdx[d] < kernel[d])
                    break;
                else
                    kIdx[d] = 0;
        }
        return t;
    }

    /// Positions in the padded volume, row-major.
    std::vector<int32_t> paddedTable() const {
        return table([this](const std::vector<int64_t>& pos) {
            int64_t f = 0;
            for (size_t d = 0; d < in.size(); ++d) f = f * in[d] + pos[d];
            return f;
        });
    }
};

/// Static sizes of dims [first, first + n) of x; fails naming `what` when one is dynamic.
std::vector<int64_t> staticSizes(LoweringContext& ctx, mil::Value* x, int64_t first, size_t n, const char* what) {
    std::vector<int64_t> out;
    for (size_t i = 0; i < n; ++i) {
        auto d = staticDim(x, first + static_cast<int64_t>(i));
        if (!d) ctx.fail(std::string(what) + " needs static sizes, got " + x->type().str());
        out.push_back(*d);
    }
    return out;
}

/// `x` [..., *spatial] padded on its trailing spatial dims by `before` and `after` with `value`.
mil::Value* padTrailing(mil::Builder& b, mil::Value* x, const std::vector<int64_t>& before,
                        const std::vector<int64_t>& after, double value) {
    std::vector<int64_t> pad;
    bool any = false;
    for (size_t i = 0; i < before.size(); ++i) {
        pad.push_back(before[i]);
        pad.push_back(after[i]);
        any |= before[i] != 0 || after[i] != 0;
    }
    if (!any) return x;
    return b.add("pad", {{"x", x}, {"pad", pad}, {"mode", "constant"}, {"constant_val", scalarLike(b, value, x)}});
}

/// The windows of x [N, C, *padded] as [N, C, kernelVolume, outVolume].
mil::Value* gatherWindows(mil::Builder& b, mil::Value* x, int64_t channels, const WindowGrid& g) {
    mil::Value* flat = b.add("reshape", {{"x", x}, {"shape", std::vector<int64_t>{-1, channels, product(g.in)}}});
    mil::Value* indices = b.constant(mil::ConstData::fromInts(g.paddedTable(), {g.kernelVolume(), g.outVolume()}));
    return b.add("gather", {{"x", flat}, {"indices", indices}, {"axis", int64_t{2}}});
}

// ---- Tensor.unfold ----------------------------------------------------------------------------

// unfold(self, dimension, size, step): windows along `dimension` become that dim, their elements
// a new last dim.
void lowerUnfold(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    if (rank == 0) ctx.fail("unfold of a rank-0 tensor is not supported");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dimension"), rank, "dimension");
    const int64_t size = ctx.getInt("size"), step = ctx.getInt("step");
    auto length = staticDim(x, dim);
    if (!length)
        ctx.fail("unfold needs a static size along dimension " + std::to_string(dim) + ", got " + x->type().str());
    if (size < 1 || size > *length)
        ctx.fail("size " + std::to_string(size) + " must be in [1, " + std::to_string(*length) + "]");
    if (step < 1) ctx.fail("step must be positive, got " + std::to_string(step));
    const int64_t windows = (*length - size) / step + 1;
    std::vector<int32_t> idx;
    for (int64_t w = 0; w < windows; ++w)
        for (int64_t k = 0; k < size; ++k) idx.push_back(static_cast<int32_t>(w * step + k));
    mil::Value* y = b.add(
        "gather", {{"x", x}, {"indices", b.constant(mil::ConstData::fromInts(idx, {windows, size}))}, {"axis", dim}});
    // [..., windows, size, rest...] -> [..., windows, rest..., size]
    std::vector<int64_t> perm;
    for (int64_t i = 0; i <= rank; ++i)
        if (i != dim + 1) perm.push_back(i);
    perm.push_back(dim + 1);
    ctx.bind(0, permuted(b, y, perm));
}

// ---- im2col / col2im --------------------------------------------------------------------------

/// The window arguments of im2col and col2im, 2-D.
WindowGrid readGrid(LoweringContext& ctx) {
    WindowGrid g;
    g.kernel = expandList(ctx, "kernel_size", 2);
    g.dilation = expandList(ctx, "dilation", 2);
    g.stride = expandList(ctx, "stride", 2);
    for (size_t i = 0; i < 2; ++i)
        if (g.kernel[i] < 1 || g.dilation[i] < 1 || g.stride[i] < 1)
            ctx.fail("kernel_size, dilation and stride must be positive");
    return g;
}

/// Output positions along one dim: windows of extent d * (k - 1) + 1 every s over `padded`.
int64_t windowCount(LoweringContext& ctx, int64_t padded, int64_t k, int64_t d, int64_t s) {
    const int64_t extent = d * (k - 1) + 1;
    if (padded < extent)
        ctx.fail("the kernel (extent " + std::to_string(extent) + ") is larger than the padded input (" +
                 std::to_string(padded) + ")");
    return (padded - extent) / s + 1;
}

// im2col(self [N, C, H, W], kernel_size, dilation, padding, stride) -> [N, C * kH * kW, L]
void lowerIm2col(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const bool unbatched = rankOf(x) == 3;
    if (!unbatched && rankOf(x) != 4) ctx.fail("expects a 3-D or 4-D input, got " + x->type().str());
    if (unbatched) x = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
    WindowGrid g = readGrid(ctx);
    const std::vector<int64_t> pad = expandList(ctx, "padding", 2);
    const std::vector<int64_t> sizes = staticSizes(ctx, x, 1, 3, "im2col");
    for (size_t i = 0; i < 2; ++i) {
        g.in.push_back(sizes[i + 1] + 2 * pad[i]);
        g.out.push_back(windowCount(ctx, g.in[i], g.kernel[i], g.dilation[i], g.stride[i]));
    }
    mil::Value* windows = gatherWindows(b, padTrailing(b, x, pad, pad, 0.0), sizes[0], g);
    mil::Value* y = b.add(
        "reshape", {{"x", windows}, {"shape", std::vector<int64_t>{-1, sizes[0] * g.kernelVolume(), g.outVolume()}}});
    if (unbatched) y = b.add("squeeze", {{"x", y}, {"axes", std::vector<int64_t>{0}}});
    ctx.bind(0, y);
}

// col2im(self [N, C * kH * kW, L], output_size, kernel_size, dilation, padding, stride) -> [N, C, H, W]:
// conv_transpose of [N, C * kH * kW, oH, oW] with the one-hot weight [C * kH * kW, 1, kH, kW] in C
// groups gives the padded canvas (cropped or extended to H + 2 * pad), then the padding is cut.
void lowerCol2im(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, ctx.tensor("self"));
    const bool unbatched = rankOf(x) == 2;
    if (!unbatched && rankOf(x) != 3) ctx.fail("expects a 2-D or 3-D input, got " + x->type().str());
    if (unbatched) x = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
    WindowGrid g = readGrid(ctx);
    const std::vector<int64_t> pad = expandList(ctx, "padding", 2);
    const std::vector<int64_t> outSize = expandList(ctx, "output_size", 2);
    const std::vector<int64_t> sizes = staticSizes(ctx, x, 1, 2, "col2im");
    const int64_t k = g.kernelVolume();
    if (sizes[0] % k != 0)
        ctx.fail("input dim 1 (" + std::to_string(sizes[0]) + ") must be divisible by the kernel size " +
                 std::to_string(k));
    const int64_t channels = sizes[0] / k;
    for (size_t i = 0; i < 2; ++i) {
        g.in.push_back(outSize[i] + 2 * pad[i]);
        g.out.push_back(windowCount(ctx, g.in[i], g.kernel[i], g.dilation[i], g.stride[i]));
    }
    if (g.outVolume() != sizes[1])
        ctx.fail("input dim 2 (" + std::to_string(sizes[1]) + ") must be the number of windows, " +
                 std::to_string(g.outVolume()));

    std::vector<float> weight(static_cast<size_t>(channels * k * k), 0.0f);
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t o = 0; o < k; ++o) weight[static_cast<size_t>((c * k + o) * k + o)] = 1.0f;
    mil::Value* w =
        castTo(b, b.constant(mil::ConstData::fromFloats(weight, {channels * k, 1, g.kernel[0], g.kernel[1]})),
               typeOf(x).dtype);
    mil::Value* cols = b.add("reshape", {{"x", x}, {"shape", std::vector<int64_t>{-1, sizes[0], g.out[0], g.out[1]}}});
    mil::Value* y = b.add("conv_transpose", {{"x", cols},
                                             {"weight", w},
                                             {"strides", g.stride},
                                             {"dilations", g.dilation},
                                             {"groups", channels},
                                             {"pad_type", "valid"}});
    // The full output covers (o - 1) * s + d * (k - 1) + 1 of the padded canvas; zeros beyond.
    std::vector<int64_t> extra(2, 0), begin{0, 0, pad[0], pad[1]}, end{0, 0, 0, 0};
    for (size_t i = 0; i < 2; ++i) {
        const int64_t full = (g.out[i] - 1) * g.stride[i] + g.dilation[i] * (g.kernel[i] - 1) + 1;
        extra[i] = std::max<int64_t>(0, pad[i] + outSize[i] - full);
        end[i + 2] = pad[i] + outSize[i];
    }
    y = padTrailing(b, y, {0, 0}, extra, 0.0);
    y = b.add("slice_by_index", {{"x", y},
                                 {"begin", begin},
                                 {"end", end},
                                 {"begin_mask", boolVector(b, {true, true, false, false})},
                                 {"end_mask", boolVector(b, {true, true, false, false})}});
    if (unbatched) y = b.add("squeeze", {{"x", y}, {"axes", std::vector<int64_t>{0}}});
    ctx.bind(0, y);
}

// ---- max pooling with indices -----------------------------------------------------------------

/// torch's pooled size along one dim (the last window must start inside the input or its left
/// padding).
int64_t pooledSize(int64_t in, int64_t k, int64_t d, int64_t s, int64_t p, bool ceil) {
    const int64_t extent = d * (k - 1) + 1;
    int64_t out = (in + 2 * p - extent + (ceil ? s - 1 : 0)) / s + 1;
    if (ceil && (out - 1) * s >= in + p) --out;
    return out;
}

/// The pooling windows of x [N, C, *spatial] gathered as [N, C, kernelVolume, outVolume], padded
/// with the lowest value so that padding never wins.
struct PoolWindows {
    mil::Value* windows = nullptr;  ///< null when the sizes are not static
    WindowGrid grid;
    std::vector<int64_t> sizes, pad;  ///< sizes: C, *spatial
};

PoolWindows poolWindows(LoweringContext& ctx, mil::Value* x, size_t spatial) {
    mil::Builder& b = ctx.builder();
    PoolWindows p;
    for (size_t i = 0; i < spatial + 1; ++i) {
        auto d = staticDim(x, 1 + static_cast<int64_t>(i));
        if (!d) return p;
        p.sizes.push_back(*d);
    }
    WindowGrid& g = p.grid;
    g.kernel = expandList(ctx, "kernel_size", spatial);
    g.stride = intList(ctx, "stride").empty() ? g.kernel : expandList(ctx, "stride", spatial);
    g.dilation = expandList(ctx, "dilation", spatial);
    p.pad = expandList(ctx, "padding", spatial);
    const bool ceil = ctx.getBool("ceil_mode");
    std::vector<int64_t> after;
    for (size_t i = 0; i < spatial; ++i) {
        const int64_t in = p.sizes[i + 1];
        g.out.push_back(pooledSize(in, g.kernel[i], g.dilation[i], g.stride[i], p.pad[i], ceil));
        // ceil_mode's last window may reach past the right padding
        const int64_t reach = (g.out[i] - 1) * g.stride[i] + g.dilation[i] * (g.kernel[i] - 1) + 1;
        after.push_back(std::max(p.pad[i], reach - in - p.pad[i]));
        g.in.push_back(p.pad[i] + in + after[i]);
    }
    const double lowest = typeOf(x).dtype == DType::Int32 ? std::numeric_limits<int32_t>::min()
                                                          : -std::numeric_limits<double>::infinity();
    p.windows = gatherWindows(b, padTrailing(b, x, p.pad, after, lowest), p.sizes[0], p.grid);
    return p;
}

/// [N, C, L] reshaped to [N, C, *out].
mil::Value* unflattenWindows(mil::Builder& b, mil::Value* v, const PoolWindows& p) {
    std::vector<int64_t> shape{-1, p.sizes[0]};
    shape.insert(shape.end(), p.grid.out.begin(), p.grid.out.end());
    return b.add("reshape", {{"x", v}, {"shape", shape}});
}

/// The argmax of each window as torch reports it: the flat position, in the input's spatial
/// volume, of the window's first maximum.
mil::Value* maxPoolIndices(mil::Builder& b, const PoolWindows& p) {
    const WindowGrid& g = p.grid;
    const size_t spatial = g.in.size();
    mil::Value* best = b.add("reduce_argmax", {{"x", p.windows}, {"axis", int64_t{2}}, {"keep_dims", false}});
    // the input position of (offset k, output l) is table[k * L + l]
    const std::vector<int32_t> table = g.table([&](const std::vector<int64_t>& pos) {
        int64_t f = 0;
        for (size_t d = 0; d < spatial; ++d) f = f * p.sizes[d + 1] + (pos[d] - p.pad[d]);
        return f;
    });
    std::vector<int32_t> column(static_cast<size_t>(g.outVolume()));
    std::iota(column.begin(), column.end(), 0);
    mil::Value* row =
        b.add("mul", {{"x", best}, {"y", scalarConst(b, static_cast<double>(g.outVolume()), DType::Int32)}});
    mil::Value* flat = b.add("add", {{"x", row}, {"y", b.constant(mil::ConstData::fromInts(column, {g.outVolume()}))}});
    mil::Value* positions = b.constant(mil::ConstData::fromInts(table, {g.kernelVolume() * g.outVolume()}));
    return unflattenWindows(b, b.add("gather", {{"x", positions}, {"indices", flat}, {"axis", int64_t{0}}}), p);
}

/// max_poolNd_with_indices: the values from max_poolNd (or, with dilation, which MIL pooling
/// lacks, from the gathered windows), the indices from the gathered windows.
LoweringFn maxPoolWithIndices(size_t spatial) {
    return [spatial](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = ctx.tensor("self");
        const bool unbatched = rankOf(x) == static_cast<int64_t>(spatial) + 1;
        if (!unbatched && rankOf(x) != static_cast<int64_t>(spatial) + 2)
            ctx.fail("input " + x->type().str() + " does not have " + std::to_string(spatial) + " spatial dimensions");
        if (unbatched) x = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
        const PoolWindows p = poolWindows(ctx, x, spatial);
        const std::vector<int64_t> dilation = expandList(ctx, "dilation", spatial);
        const bool dilated = std::any_of(dilation.begin(), dilation.end(), [](int64_t d) { return d != 1; });
        auto batched = [&](mil::Value* v) {
            return unbatched ? b.add("squeeze", {{"x", v}, {"axes", std::vector<int64_t>{0}}}) : v;
        };
        if (dilated && !p.windows) ctx.fail("max pooling with dilation needs static channel and spatial sizes");
        if (dilated) {
            mil::Value* m =
                b.add("reduce_max", {{"x", p.windows}, {"axes", std::vector<int64_t>{2}}, {"keep_dims", false}});
            ctx.bind(0, batched(unflattenWindows(b, m, p)));
        } else {
            std::vector<std::pair<std::string, Arg>> args;
            for (const char* name : {"self", "kernel_size", "stride", "padding", "dilation", "ceil_mode"})
                args.emplace_back(name, ctx.arg(name));
            ctx.bind(0, ctx.call("aten::max_pool" + std::to_string(spatial) + "d", args).at(0));
        }
        // Dynamic sizes have no index table: then a model that reads the indices fails where it does.
        ctx.bind(1, p.windows ? Arg::tensor(batched(maxPoolIndices(b, p))) : Arg::none());
    };
}

// _adaptive_avg_pool2d(self, output_size): what adaptive_avg_pool2d dispatches to.
void lowerAdaptiveAvgPool2d(LoweringContext& ctx) {
    ctx.bind(0,
             ctx.call("aten::adaptive_avg_pool2d", {{"self", ctx.arg("self")}, {"output_size", ctx.arg("output_size")}})
                 .at(0));
}

}  // namespace

void populateWindowsLowerings(Registry& r) {
    r.add("aten::unfold", lowerUnfold);
    r.add("aten::im2col", lowerIm2col);
    r.add("aten::col2im", lowerCol2im);
    r.add("aten::max_pool1d_with_indices", maxPoolWithIndices(1));
    r.add("aten::max_pool2d_with_indices", maxPoolWithIndices(2));
    r.add("aten::max_pool3d_with_indices", maxPoolWithIndices(3));
    r.add("aten::_adaptive_avg_pool2d", lowerAdaptiveAvgPool2d);
}

TS2COREML_FAMILY(Registry, Windows, populateWindowsLowerings)

}  // namespace ts2coreml::lowering
