#include "lowerings/Builtins.h"

namespace ts2coreml {

void registerBuiltinLowerings(Registry& registry) { Families<Registry>::populate(registry); }

}  // namespace ts2coreml
