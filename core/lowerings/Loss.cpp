// Pointwise losses: l1_loss |self - target| and mse_loss (self - target)^2, with torch's reduction
// argument: 0 none (elementwise), 1 mean, 2 sum (over every element); and the negative log
// likelihood of class indices (nll_loss, nll_loss2d, nll_loss_nd).
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

LoweringFn pointwiseLoss(bool squared) {
    return [squared](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("target"));
        mil::Value* diff = b.add("sub", {{"x", x}, {"y", y}});
        mil::Value* loss = squared ? b.add("mul", {{"x", diff}, {"y", diff}}) : b.add("abs", {{"x", diff}});
        const int64_t reduction = ctx.getInt("reduction");
        if (reduction < 0 || reduction > 2)
            ctx.fail("reduction " + std::to_string(reduction) + " is not one of 0 (none), 1 (mean), 2 (sum)");
        if (reduction == 0 || rankOf(loss) == 0) return ctx.bind(0, loss);
        ctx.bind(0, b.add(reduction == 1 ? "reduce_mean" : "reduce_sum", {{"x", loss}, {"keep_dims", false}}));
    };
}

int64_t reductionOf(LoweringContext& ctx) {
    const int64_t reduction = ctx.getInt("reduction");
    if (reduction < 0 || reduction > 2)
        ctx.fail("reduction " + std::to_string(reduction) + " is not one of 0 (none), 1 (mean), 2 (sum)");
    return reduction;
}

// nll_loss(self [N, C, *D] or [C], target [N, *D] or [], weight [C]?, reduction, ignore_index):
// -weight[t] * self[n, t, *d] per element; the mean divides by the summed weights of the targets
// not ignored, as torch does. Ignored targets pick class 0 (any valid index) with weight 0.
void lowerNllLoss(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, ctx.tensor("self"));
    mil::Value* target = castTo(b, ctx.tensor("target"), DType::Int32);
    const int64_t reduction = reductionOf(ctx);
    const bool single = rankOf(x) == 1;
    if (single) {
        x = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
        target = b.add("expand_dims", {{"x", target}, {"axes", std::vector<int64_t>{0}}});
    }
    if (rankOf(x) < 2 || rankOf(target) != rankOf(x) - 1)
        ctx.fail(ctx.opName() + " needs self [N, C, ...] and target [N, ...], got " + x->type().str() + " and " +
                 target->type().str());
    mil::Value* ignore = scalarConst(b, static_cast<double>(ctx.getInt("ignore_index")), DType::Int32);
    mil::Value* valid = b.add("not_equal", {{"x", target}, {"y", ignore}});
    mil::Value* safe = b.add("select", {{"cond", valid}, {"a", target}, {"b", scalarConst(b, 0, DType::Int32)}});
    mil::Value* picked = b.add(
        "gather_along_axis",
        {{"x", x}, {"indices", b.add("expand_dims", {{"x", safe}, {"axes", std::vector<int64_t>{1}}})}, {"axis", 1}});
    picked = b.add("squeeze", {{"x", picked}, {"axes", std::vector<int64_t>{1}}});
    mil::Value* weight = castTo(b, valid, x->type().dtype);
    if (ctx.hasArg("weight") && !ctx.isNone("weight")) {
        mil::Value* perClass =
            b.add("gather", {{"x", toFloat(b, ctx.tensor("weight"))}, {"indices", safe}, {"axis", 0}});
        weight = b.add("mul", {{"x", weight}, {"y", castTo(b, perClass, x->type().dtype)}});
    }
    mil::Value* loss = b.add("mul", {{"x", b.add("mul", {{"x", picked}, {"y", weight}})}, {"y", scalarLike(b, -1, x)}});
    if (reduction == 0)
        return ctx.bind(0, single ? b.add("squeeze", {{"x", loss}, {"axes", std::vector<int64_t>{0}}}) : loss);
    mil::Value* total = b.add("reduce_sum", {{"x", loss}, {"keep_dims", false}});
    if (reduction == 2) return ctx.bind(0, total);
    ctx.bind(0, b.add("real_div", {{"x", total}, {"y", b.add("reduce_sum", {{"x", weight}, {"keep_dims", false}})}}));
}

}  // namespace

void populateLossLowerings(Registry& r) {
    r.add("aten::nll_loss", lowerNllLoss);
    r.add("aten::nll_loss2d", lowerNllLoss);
    r.add("aten::nll_loss_nd", lowerNllLoss);
    r.add("aten::l1_loss", pointwiseLoss(false));
    r.add("aten::mse_loss", pointwiseLoss(true));
}

TS2COREML_FAMILY(Registry, Loss, populateLossLowerings)

}  // namespace ts2coreml::lowering
