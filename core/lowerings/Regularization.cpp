// Regularization layers, which are identities at inference: dropout and its variants.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

// dropout(input, p, train) is the identity when train is False, or when p is 0 (F.dropout's
// train defaults to True: torchvision's swin calls it with p = 0 in eval).
void lowerDropout(LoweringContext& ctx) {
    if (ctx.getBool("train") && !(ctx.isConstant("p") && ctx.getDouble("p") == 0.0))
        ctx.fail(ctx.opName() +
                 " with train=True drops elements at random; convert the model in eval mode (model.eval())");
    ctx.bind(0, ctx.arg("input"));
}

}  // namespace

void populateRegularizationLowerings(Registry& r) {
    r.add("aten::dropout", lowerDropout);
    r.add("aten::feature_dropout", lowerDropout);
    r.add("aten::alpha_dropout", lowerDropout);
    r.add("aten::feature_alpha_dropout", lowerDropout);
}

TS2COREML_FAMILY(Registry, Regularization, populateRegularizationLowerings)

}  // namespace ts2coreml::lowering
