// Reductions: mean, sum, prod, amax/amin, aminmax, max/min (whole tensor or along a dim with
// indices), argmax/argmin, logsumexp, all/any, count_nonzero, and the running product cumprod.
#include "lowerings/Builtins.h"
#include "lowerings/ReductionSupport.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

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

// aminmax(self, *, dim=None, keepdim=False) -> (min, max)
void lowerAminmax(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const DType dtype = x->type().dtype;
    if (dtype == DType::Bool) x = castTo(b, x, DType::Int32);
    const std::vector<int64_t> axes = reductionAxes(ctx, x);
    const bool keep = ctx.getBool("keepdim");
    for (size_t i = 0; i < 2; ++i) {
        mil::Value* r = rankOf(x) == 0 ? x
                                       : b.add(i == 0 ? "reduce_min" : "reduce_max",
                                               {{"x", x}, {"axes", axes}, {"keep_dims", keep}});
        ctx.bind(i, castTo(b, r, dtype));
    }
}

// all / any: whether every / some element is non-zero, as reduce_min / reduce_max of 0/1 ints.
LoweringFn logicalReduction(const char* milOp) {
    return [milOp](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = nonZeroAsInt(b, ctx.tensor("self"));
        const bool keep = ctx.hasArg("keepdim") && ctx.getBool("keepdim");
        if (rankOf(x) > 0) x = b.add(milOp, {{"x", x}, {"axes", reductionAxes(ctx, x)}, {"keep_dims", keep}});
        ctx.bind(0, castTo(b, x, DType::Bool));
    };
}

// count_nonzero(self, dim=None) and count_nonzero.dim_IntList(self, dim): an int count.
void lowerCountNonzero(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = nonZeroAsInt(b, ctx.tensor("self"));
    if (rankOf(x) == 0) return ctx.bind(0, x);
    ctx.bind(0, b.add("reduce_sum", {{"x", x}, {"axes", reductionAxes(ctx, x)}, {"keep_dims", false}}));
}

// cumprod(self, dim): out[i] = prod_{j <= i} x[j] along dim, computed as a product over a new axis j
// of x with the entries j > i masked to 1. Exact where exp(cumsum(log x)) is not (zeros, negative
// values, integers), at the cost of n^2 elements per line along dim.
void lowerCumprod(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = reductionInput(ctx);
    if (x->type().dtype == DType::Bool) x = castTo(b, x, DType::Int32);
    if (rankOf(x) == 0) return ctx.bind(0, x);
    const int64_t rank = rankOf(x);
    const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
    // mask[i, j] = j <= i, with a unit dim for each dim of x after `axis`.
    const auto trailing = static_cast<size_t>(rank - axis - 1);
    mil::Value* mask = nullptr;
    if (auto n = staticDim(x, axis)) {
        std::vector<bool> lower;
        for (int64_t i = 0; i < *n; ++i)
            for (int64_t j = 0; j < *n; ++j) lower.push_back(j <= i);
        std::vector<int64_t> sizes{*n, *n};
        sizes.resize(2 + trailing, 1);
        mask = b.constant(mil::ConstData::fromBools(lower, sizes));
    } else {
        mil::Value* size = ctx.materialize(dimArg(b, x, axis));
        mil::Value* index = b.add("range_1d", {{"end", size}, {"start", int64_t{0}}, {"step", int64_t{1}}});
        mil::Value* i = b.add("expand_dims", {{"x", index}, {"axes", std::vector<int64_t>{1}}});
        mil::Value* j = b.add("expand_dims", {{"x", index}, {"axes", std::vector<int64_t>{0}}});
        mask = b.add("less_equal", {{"x", j}, {"y", i}});
        if (trailing > 0) {
            std::vector<int64_t> unitAxes;
            for (size_t k = 0; k < trailing; ++k) unitAxes.push_back(static_cast<int64_t>(k) + 2);
            mask = b.add("expand_dims", {{"x", mask}, {"axes", unitAxes}});
        }
    }
    mil::Value* rows = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{axis}}});
    mil::Value* masked = b.add("select", {{"cond", mask}, {"a", rows}, {"b", scalarLike(b, 1.0, x)}});
    ctx.bind(0, b.add("reduce_prod", {{"x", masked}, {"axes", std::vector<int64_t>{axis + 1}}, {"keep_dims", false}}));
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
    r.add("aten::aminmax", lowerAminmax);
    r.add("aten::all", logicalReduction("reduce_min"));
    r.add("aten::any", logicalReduction("reduce_max"));
    r.add("aten::count_nonzero", lowerCountNonzero);
    r.add("aten::cumprod", lowerCumprod);
}

TS2COREML_FAMILY(Registry, Reduction, populateReductionLowerings)

}  // namespace ts2coreml::lowering
