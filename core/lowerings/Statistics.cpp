// Statistics: var, std, var_mean, std_mean, over dims or every element, with torch's correction
// (unbiased=True is correction 1, False is 0; var.correction's None is 1).
#include "lowerings/Builtins.h"
#include "lowerings/ReductionSupport.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>

namespace ts2coreml::lowering {
namespace {

double correction(const LoweringContext& ctx) {
    if (ctx.hasArg("correction")) return ctx.isNone("correction") ? 1.0 : ctx.getDouble("correction");
    if (ctx.hasArg("unbiased")) return ctx.getBool("unbiased") ? 1.0 : 0.0;
    return 1.0;
}

/// max(N - correction, 0) for the element count N of x over axes; a constant when N is static.
mil::Value* degreesOfFreedom(LoweringContext& ctx, mil::Value* x, const std::vector<int64_t>& axes) {
    mil::Builder& b = ctx.builder();
    const double c = correction(ctx);
    if (auto n = staticCount(x, axes)) return scalarLike(b, std::max(static_cast<double>(*n) - c, 0.0), x);
    mil::Value* dof = b.add("sub", {{"x", elementCount(b, x, axes, x->type().dtype)}, {"y", scalarLike(b, c, x)}});
    return b.add("maximum", {{"x", dof}, {"y", scalarLike(b, 0.0, x)}});
}

// var = sum((x - mean)^2) / max(N - correction, 0) over the reduced dims (N their element count):
// two passes, as torch computes it, rather than E[x^2] - E[x]^2, which cancels badly.
// Binds the variance (or its square root) and, for var_mean / std_mean, the mean.
LoweringFn variance(bool root) {
    return [root](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = toFloat(b, ctx.tensor("self"));
        if (rankOf(x) == 0) x = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
        const std::vector<int64_t> axes = reductionAxes(ctx, x);
        const bool keep = ctx.hasArg("keepdim") && ctx.getBool("keepdim");
        mil::Value* mean = b.add("reduce_mean", {{"x", x}, {"axes", axes}, {"keep_dims", true}});
        mil::Value* deviation = b.add("sub", {{"x", x}, {"y", mean}});
        mil::Value* squares = b.add("reduce_sum_square", {{"x", deviation}, {"axes", axes}, {"keep_dims", keep}});
        mil::Value* var = b.add("real_div", {{"x", squares}, {"y", degreesOfFreedom(ctx, x, axes)}});
        ctx.bind(0, root ? b.add("sqrt", {{"x", var}}) : var);
        if (ctx.numOutputs() > 1) ctx.bind(1, b.add("reduce_mean", {{"x", x}, {"axes", axes}, {"keep_dims", keep}}));
    };
}

}  // namespace

void populateStatisticsLowerings(Registry& r) {
    r.add("aten::var", variance(false));
    r.add("aten::std", variance(true));
    r.add("aten::var_mean", variance(false));
    r.add("aten::std_mean", variance(true));
}

TS2COREML_FAMILY(Registry, Statistics, populateStatisticsLowerings)

}  // namespace ts2coreml::lowering
