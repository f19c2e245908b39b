// The built-in op families. Each core/lowerings/<Family>.cpp ends with its populate function;
// registerBuiltinLowerings (Builtins.cpp) calls them all. Adding an op touches only its family's
// file; adding a family adds one line here and one in Builtins.cpp.
#pragma once

#include <ts2coreml/Lowering.h>

namespace ts2coreml {

/// Registers the built-in lowerings through the same Registry calls plugins use.
void registerBuiltinLowerings(Registry& registry);

}  // namespace ts2coreml

namespace ts2coreml::lowering {

void populateActivationLowerings(Registry& registry);
void populateCastLowerings(Registry& registry);
void populateConvolutionLowerings(Registry& registry);
void populateElementwiseLowerings(Registry& registry);
void populateFactoryLowerings(Registry& registry);
void populateIndexingLowerings(Registry& registry);
void populateLinearLowerings(Registry& registry);
void populateNormalizationLowerings(Registry& registry);
void populatePaddingLowerings(Registry& registry);
void populatePoolingLowerings(Registry& registry);
void populateReductionLowerings(Registry& registry);
void populateRegularizationLowerings(Registry& registry);
void populateResizeLowerings(Registry& registry);
void populateScalarLowerings(Registry& registry);
void populateShapeLowerings(Registry& registry);

}  // namespace ts2coreml::lowering
