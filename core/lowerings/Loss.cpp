// Pointwise losses: l1_loss |self - target| and mse_loss (self - target)^2, with torch's reduction
// argument: 0 none (elementwise), 1 mean, 2 sum (over every element).
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

}  // namespace

void populateLossLowerings(Registry& r) {
    r.add("aten::l1_loss", pointwiseLoss(false));
    r.add("aten::mse_loss", pointwiseLoss(true));
}

TS2COREML_FAMILY(Registry, Loss, populateLossLowerings)

}  // namespace ts2coreml::lowering
