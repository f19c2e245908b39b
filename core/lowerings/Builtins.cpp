#include "lowerings/Builtins.h"

namespace ts2coreml {

void registerBuiltinLowerings(Registry& registry) {
    using namespace lowering;
    populateActivationLowerings(registry);
    populateCastLowerings(registry);
    populateConvolutionLowerings(registry);
    populateElementwiseLowerings(registry);
    populateFactoryLowerings(registry);
    populateIndexingLowerings(registry);
    populateLinearLowerings(registry);
    populateNormalizationLowerings(registry);
    populatePaddingLowerings(registry);
    populatePoolingLowerings(registry);
    populateReductionLowerings(registry);
    populateRegularizationLowerings(registry);
    populateResizeLowerings(registry);
    populateScalarLowerings(registry);
    populateShapeLowerings(registry);
}

}  // namespace ts2coreml
