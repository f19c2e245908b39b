// Pooling: max/avg pooling in 1-3 spatial dims, and adaptive average/max pooling.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <functional>
#include <numeric>

namespace ts2coreml::lowering {
namespace {

/// `self` with a batch dimension: torch pools an unbatched (C, *D) input too; MIL needs (N, C, *D).
struct PoolInput {
    mil::Value* x;
    bool unbatched;
};

PoolInput poolInput(LoweringContext& ctx, size_t spatial) {
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    if (rank == static_cast<int64_t>(spatial) + 1)
        return {ctx.builder().add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}}), true};
    if (rank != static_cast<int64_t>(spatial) + 2)
        ctx.fail("input " + x->type().str() + " does not have " + std::to_string(spatial) + " spatial dimensions");
    return {x, false};
}

void bindPooled(LoweringContext& ctx, const PoolInput& in, mil::Value* y) {
    if (in.unbatched) y = ctx.builder().add("squeeze", {{"x", y}, {"axes", std::vector<int64_t>{0}}});
    ctx.bind(0, y);
    // adaptive_max_pool's second output, the indices, has no MIL counterpart: bound as None so
    // that only a model actually using them fails (where a lowering reads them).
    for (size_t i = 1; i < ctx.numOutputs(); ++i) ctx.bind(i, Arg::none());
}

/// Output size of torch's pooling along one dim.
int64_t torchPoolSize(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil) {
    int64_t out = (in + 2 * p - k + (ceil ? s - 1 : 0)) / s + 1;
    // torch: the last window must start inside the input or its left padding.
    if (ceil && (out - 1) * s >= in + p) --out;
    return out;
}

/// Output size of MIL's pooling with ceil_mode (coremltools' pool definition).
int64_t milCeilPoolSize(int64_t in, int64_t k, int64_t s, int64_t p) {
    int64_t out = (in + 2 * p - k + s - 1) / s + 1;
    if ((out - 1) * s >= in + p && p > 0) --out;
    return out;
}

/// The MIL ceil_mode that reproduces torch's output size. torch's rule and MIL's differ when there
/// is no padding and the stride exceeds the kernel; then ceil_mode may still be dropped if the
/// floor size agrees, else the op is refused.
bool milCeilMode(LoweringContext& ctx, mil::Value* x, const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                 const std::vector<int64_t>& p, bool ceil) {
    if (!ceil) return false;
    bool floorAgrees = true, milAgrees = true;
    for (size_t i = 0; i < k.size(); ++i) {
        auto in = staticDim(x, static_cast<int64_t>(i) + 2);
        if (!in) return true;  // dynamic spatial size: trust MIL's ceil_mode
        const int64_t want = torchPoolSize(*in, k[i], s[i], p[i], true);
        floorAgrees &= want == torchPoolSize(*in, k[i], s[i], p[i], false);
        milAgrees &= want == milCeilPoolSize(*in, k[i], s[i], p[i]);
    }
    if (floorAgrees) return false;
    if (milAgrees) return true;
    ctx.fail("ceil_mode=True with these kernel, stride and padding gives an output size MIL pooling cannot reproduce");
}

struct PoolWindow {
    std::vector<int64_t> kernel, strides, padding;
};

PoolWindow readWindow(LoweringContext& ctx, size_t spatial) {
    PoolWindow w;
    w.kernel = expandList(ctx, "kernel_size", spatial);
    // An empty stride means stride = kernel_size.
    w.strides = intList(ctx, "stride").empty() ? w.kernel : expandList(ctx, "stride", spatial);
    w.padding = expandList(ctx, "padding", spatial);
    for (size_t i = 0; i < spatial; ++i)
        if (2 * w.padding[i] > w.kernel[i]) ctx.fail("padding should be at most half of kernel_size");
    return w;
}

mil::OperandList poolOperands(mil::Value* x, const PoolWindow& w, bool ceil) {
    mil::OperandList in{{"x", x}, {"kernel_sizes", w.kernel}, {"strides", w.strides}, {"ceil_mode", ceil}};
    if (std::all_of(w.padding.begin(), w.padding.end(), [](int64_t p) { return p == 0; })) {
        in.emplace_back("pad_type", "valid");
    } else {
        in.emplace_back("pad_type", "custom");
        in.emplace_back("pad", symmetricPad(w.padding));
    }
    return in;
}

LoweringFn maxPool(size_t spatial) {
    return [spatial](LoweringContext& ctx) {
        const PoolWindow w = readWindow(ctx, spatial);
        for (int64_t d : expandList(ctx, "dilation", spatial))
            if (d != 1)
                ctx.fail("max_pool with dilation " + std::to_string(d) +
                         " is not supported (MIL pooling has no dilation)");
        const PoolInput in = poolInput(ctx, spatial);
        const bool ceil = milCeilMode(ctx, in.x, w.kernel, w.strides, w.padding, ctx.getBool("ceil_mode"));
        bindPooled(ctx, in, ctx.builder().add("max_pool", poolOperands(in.x, w, ceil)));
    };
}

LoweringFn avgPool(size_t spatial) {
    return [spatial](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        const PoolWindow w = readWindow(ctx, spatial);
        const PoolInput in = poolInput(ctx, spatial);
        const bool ceil = milCeilMode(ctx, in.x, w.kernel, w.strides, w.padding, ctx.getBool("ceil_mode"));
        mil::OperandList ops = poolOperands(in.x, w, ceil);
        ops.emplace_back("exclude_padding_from_average", !ctx.getBool("count_include_pad"));
        mil::Value* y = b.add("avg_pool", ops);
        if (auto divisor = ctx.hasArg("divisor_override") ? ctx.optInt("divisor_override") : std::nullopt) {
            const bool padded = std::any_of(w.padding.begin(), w.padding.end(), [](int64_t p) { return p != 0; });
            if (padded || ceil) ctx.fail("divisor_override with padding or ceil_mode is not supported");
            if (*divisor == 0) ctx.fail("divisor_override must be non-zero");
            // every window is whole: sum = mean * prod(kernel)
            const int64_t area = std::accumulate(w.kernel.begin(), w.kernel.end(), int64_t{1}, std::multiplies<>());
            y = b.add("mul",
                      {{"x", y}, {"y", scalarLike(b, static_cast<double>(area) / static_cast<double>(*divisor), y)}});
        }
        bindPooled(ctx, in, y);
    };
}

/// Adaptive pooling along one axis: window i covers [floor(i*in/out), ceil((i+1)*in/out)).
mil::Value* adaptiveAlongAxis(mil::Builder& b, mil::Value* x, int64_t axis, int64_t in, int64_t out,
                              const char* reduceOp) {
    std::vector<mil::Value*> parts;
    const int64_t rank = rankOf(x);
    for (int64_t i = 0; i < out; ++i) {
        const int64_t start = i * in / out;
        const int64_t end = ((i + 1) * in + out - 1) / out;
        std::vector<int64_t> begin(static_cast<size_t>(rank), 0), stop(static_cast<size_t>(rank), 0);
        std::vector<bool> mask(static_cast<size_t>(rank), true);
        begin[static_cast<size_t>(axis)] = start;
        stop[static_cast<size_t>(axis)] = end;
        mask[static_cast<size_t>(axis)] = false;
        mil::Value* window = b.add("slice_by_index", {{"x", x},
                                                      {"begin", begin},
                                                      {"end", stop},
                                                      {"begin_mask", boolVector(b, mask)},
                                                      {"end_mask", boolVector(b, mask)}});
        parts.push_back(b.add(reduceOp, {{"x", window}, {"axes", std::vector<int64_t>{axis}}, {"keep_dims", true}}));
    }
    return parts.size() == 1 ? parts.front() : b.add("concat", {{"values", parts}, {"axis", axis}});
}

/// adaptive_{avg,max}_pool: a global reduction for output 1, a pool whose kernel = stride = in/out
/// when every size divides, else per-axis windows (both reductions are separable over a box).
LoweringFn adaptivePool(size_t spatial, const char* poolOp, const char* reduceOp) {
    return [=](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        const PoolInput in = poolInput(ctx, spatial);
        auto requested = optionalInts(ctx, "output_size");
        if (requested.size() == 1 && spatial > 1) requested.assign(spatial, requested.front());
        if (requested.size() != spatial)
            ctx.fail("output_size has " + std::to_string(requested.size()) + " entries; expected " +
                     std::to_string(spatial));

        std::vector<int64_t> axes;
        bool global = true;
        for (size_t i = 0; i < spatial; ++i) {
            axes.push_back(static_cast<int64_t>(i) + 2);
            global &= requested[i].has_value() && *requested[i] == 1;
        }
        if (global) return bindPooled(ctx, in, b.add(reduceOp, {{"x", in.x}, {"axes", axes}, {"keep_dims", true}}));

        std::vector<int64_t> sizesIn, sizesOut;
        for (size_t i = 0; i < spatial; ++i) {
            auto d = staticDim(in.x, axes[i]);
            if (!d)
                ctx.fail("adaptive pooling to a size other than 1 needs static spatial dims, got " +
                         in.x->type().str());
            sizesIn.push_back(*d);
            sizesOut.push_back(requested[i].value_or(*d));
            if (sizesOut.back() <= 0) ctx.fail("output_size must be positive");
        }
        bool divisible = true;
        for (size_t i = 0; i < spatial; ++i) divisible &= sizesIn[i] % sizesOut[i] == 0;
        if (divisible) {
            PoolWindow w;
            for (size_t i = 0; i < spatial; ++i) w.kernel.push_back(sizesIn[i] / sizesOut[i]);
            w.strides = w.kernel;
            w.padding.assign(spatial, 0);
            return bindPooled(ctx, in, b.add(poolOp, poolOperands(in.x, w, false)));
        }
        mil::Value* y = in.x;
        for (size_t i = 0; i < spatial; ++i)
            if (sizesIn[i] != sizesOut[i]) y = adaptiveAlongAxis(b, y, axes[i], sizesIn[i], sizesOut[i], reduceOp);
        bindPooled(ctx, in, y);
    };
}

}  // namespace

void populatePoolingLowerings(Registry& r) {
    r.add("aten::max_pool1d", maxPool(1));
    r.add("aten::max_pool2d", maxPool(2));
    r.add("aten::max_pool3d", maxPool(3));
    r.add("aten::avg_pool1d", avgPool(1));
    r.add("aten::avg_pool2d", avgPool(2));
    r.add("aten::avg_pool3d", avgPool(3));
    r.add("aten::adaptive_avg_pool1d", adaptivePool(1, "avg_pool", "reduce_mean"));
    r.add("aten::adaptive_avg_pool2d", adaptivePool(2, "avg_pool", "reduce_mean"));
    r.add("aten::adaptive_avg_pool3d", adaptivePool(3, "avg_pool", "reduce_mean"));
    // The indices output is None: MIL pooling has no indices.
    r.add("aten::adaptive_max_pool1d", adaptivePool(1, "max_pool", "reduce_max"));
    r.add("aten::adaptive_max_pool2d", adaptivePool(2, "max_pool", "reduce_max"));
}

TS2COREML_FAMILY(Registry, Pooling, populatePoolingLowerings)

}  // namespace ts2coreml::lowering
