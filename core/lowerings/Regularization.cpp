// Regularization layers, which are identities at inference: dropout and its variants.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

// dropout(input, p, train) is the identity when train is False.
void lowerDropout(LoweringContext& ctx) {
    if (ctx.getBool("train"))
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
