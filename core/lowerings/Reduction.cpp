// Reductions: mean, sum, prod, amax/amin, max/min (whole tensor or along a dim with indices),
// argmax/argmin, logsumexp.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

/// `self`, cast to the `dtype` argument when one is given (torch's sum(x, dtype=...)).
mil::Value* reductionInput(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    if (ctx.hasArg("dtype") && !ctx.isNone("dtype")) {
        auto dtype = dtypeFromTorch(ctx.getInt("dtype"));
        if (!dtype) ctx.fail("reduction dtype " + std::to_string(ctx.getInt("dtype")) + " is not supported");
        x = castTo(ctx.builder(), x, *dtype);
    }
    return x;
}

/// The `dim` argument as normalized axes; every axis when it is absent, None or empty.
std::vector<int64_t> reductionAxes(LoweringContext& ctx, mil::Value* x) {
    std::vector<int64_t> dims;
    if (ctx.hasArg("dim") && !ctx.isNone("dim")) dims = intList(ctx, "dim");
    std::vector<int64_t> axes;
    if (dims.empty()) {
        for (int64_t i = 0; i < rankOf(x); ++i) axes.push_back(i);
    } else {
        for (int64_t d : dims) axes.push_back(normalizeDim(ctx, d, rankOf(x), "dim"));
    }
    return axes;
}

/// A lowering reducing `self` over `dim` (all dims when absent) with `keepdim`.
/// `floatOnly` reductions (mean, logsumexp) work on fp32 for integer inputs; the others
/// accumulate bools as int32, as torch does.
LoweringFn reduction(const char* milOp, bool floatOnly) {
    return [=](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = reductionInput(ctx);
        if (floatOnly)
            x = toFloat(b, x);
        else if (x->type().dtype == DType::Bool)
            x = castTo(b, x, DType::Int32);
        const bool keep = ctx.hasArg("keepdim") && ctx.getBool("keepdim");
        if (rankOf(x) == 0) return ctx.bind(0, x);
        ctx.bind(0, b.add(milOp, {{"x", x}, {"axes", reductionAxes(ctx, x)}, {"keep_dims", keep}}));
    };
}

// max(self) / min(self) over every element; the `.dim` overloads are registered apart.
LoweringFn reduceAll(const char* milOp) {
    return [milOp](LoweringContext& ctx) {
        if (ctx.hasArg("dim"))
            ctx.fail("the overload " + ctx.opName() + (ctx.overload().empty() ? "" : "." + ctx.overload()) +
                     " is not supported (" + ctx.opName() + "(self) reduces every element; .dim reduces one dim)");
        mil::Value* x = ctx.tensor("self");
        if (rankOf(x) == 0) return ctx.bind(0, x);
        ctx.bind(0, ctx.builder().add(milOp, {{"x", x}, {"keep_dims", false}}));
    };
}

// max.dim / min.dim -> (values, indices)
LoweringFn reduceWithIndices(const char* valueOp, const char* indexOp) {
    return [=](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = ctx.tensor("self");
        const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
        const bool keep = ctx.getBool("keepdim");
        ctx.bind(0, b.add(valueOp, {{"x", x}, {"axes", std::vector<int64_t>{axis}}, {"keep_dims", keep}}));
        if (ctx.numOutputs() > 1) ctx.bind(1, b.add(indexOp, {{"x", x}, {"axis", axis}, {"keep_dims", keep}}));
    };
}

// argmax/argmin(self, dim=None, keepdim): with dim None, the index into the flattened tensor.
LoweringFn argReduction(const char* milOp) {
    return [milOp](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = ctx.tensor("self");
        const bool keep = ctx.getBool("keepdim");
        if (auto dim = ctx.optInt("dim"))
            return ctx.bind(
                0, b.add(milOp, {{"x", x}, {"axis", normalizeDim(ctx, *dim, rankOf(x), "dim")}, {"keep_dims", keep}}));
        mil::Value* flat = b.add("reshape", {{"x", x}, {"shape", std::vector<int64_t>{-1}}});
        mil::Value* index = b.add(milOp, {{"x", flat}, {"axis", int64_t{0}}, {"keep_dims", false}});
        if (keep)
            index =
                b.add("reshape", {{"x", index}, {"shape", std::vector<int64_t>(static_cast<size_t>(rankOf(x)), 1)}});
        ctx.bind(0, index);
    };
}

}  // namespace

void populateReductionLowerings(Registry& r) {
    r.add("aten::mean", reduction("reduce_mean", true));
    r.add("aten::sum", reduction("reduce_sum", false));
    r.add("aten::prod", reduction("reduce_prod", false));
    r.add("aten::amax", reduction("reduce_max", false));
    r.add("aten::amin", reduction("reduce_min", false));
    r.add("aten::logsumexp", reduction("reduce_log_sum_exp", true));
    r.add("aten::max", reduceAll("reduce_max"));
    r.add("aten::min", reduceAll("reduce_min"));
    r.add("aten::max.dim", reduceWithIndices("reduce_max", "reduce_argmax"));
    r.add("aten::min.dim", reduceWithIndices("reduce_min", "reduce_argmin"));
    r.add("aten::argmax", argReduction("reduce_argmax"));
    r.add("aten::argmin", argReduction("reduce_argmin"));
}

TS2COREML_FAMILY(Registry, Reduction, populateReductionLowerings)

}  // namespace ts2coreml::lowering
