// The `const` op. Builder::constant makes it directly (the value is a payload, not an input), so
// its schema exists to make `const` a known op for code that looks every op up in the table
// (validators, backends, `ts2coreml ops`); building one through Builder::addOp is an error.
#include "mil/Families.h"
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

void populateConstSchema(SchemaTable& t) {
    declare(
        t, "const", {},
        [](const OpView& v) -> std::vector<TensorType> {
            v.fail("const ops hold a payload, not inputs: make them with Builder::constant");
        },
        "a compile-time constant value");
}

TS2COREML_FAMILY(SchemaTable, Const, populateConstSchema)

}  // namespace ts2coreml::mil
