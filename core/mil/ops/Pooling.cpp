// Pooling MIL ops (coremltools ops/defs/iOS15/pool.py) over x of shape [N, C, *D_in], 1 to 3
// spatial dimensions.
#include "mil/Families.h"
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

std::vector<TensorType> inferPool(const OpView& v, size_t maxSpatial) {
    requireRank(v, "x", 3, 2 + maxSpatial);
    const TensorType& x = v.type("x");
    const size_t spatialRank = x.rank() - 2;
    const std::vector<int64_t> kernel = intsParam(v, "kernel_sizes");
    if (kernel.size() != spatialRank)
        v.fail("kernel_sizes has " + std::to_string(kernel.size()) + " values, x " + x.str() + " has " +
               std::to_string(spatialRank) + " spatial dimensions");
    shapes::Window w = windowParams(v, kernel, false);
    w.ceilMode = boolParam(v, "ceil_mode");
    if (w.ceilMode) {
        if (spatialRank > 2) v.fail("ceil_mode is supported for 1-D and 2-D pooling only");
        if (w.padType == "same" || w.padType == "same_lower") v.fail("ceil_mode needs pad_type 'valid' or 'custom'");
        for (size_t i = 0; i < spatialRank; ++i)
            if (w.pad[2 * i] != w.pad[2 * i + 1]) v.fail("ceil_mode needs symmetric padding (pad before == pad after)");
    }
    Shape out{x.shape[0], x.shape[1]};
    const Shape spatial = shapes::windowOutput(Shape(x.shape.begin() + 2, x.shape.end()), w);
    out.insert(out.end(), spatial.begin(), spatial.end());
    return {tensor(x.dtype, out)};
}

std::vector<InputSpec> poolInputs() {
    return {input("x", kFloats, "T"),     constInput("kernel_sizes", kInt32), optionalConst("strides", kInt32),
            constInput("pad_type", kStr), optionalConst("pad", kInt32),       optionalConst("ceil_mode", kBool, false)};
}

}  // namespace

void populatePoolingSchemas(SchemaTable& t) {
    std::vector<InputSpec> avg = poolInputs();
    avg.push_back(optionalConst("exclude_padding_from_average", kBool, false));
    declare(
        t, "avg_pool", std::move(avg), [](const OpView& v) { return inferPool(v, 3); },
        "average over windows of kernel_sizes; strides default to ones, pad to zeros; pad_type valid | same | "
        "custom (same_lower from iOS16)");
    declare(
        t, "max_pool", poolInputs(), [](const OpView& v) { return inferPool(v, 3); },
        "maximum over windows of kernel_sizes; see avg_pool");
    declare(
        t, "l2_pool", poolInputs(), [](const OpView& v) { return inferPool(v, 2); },
        "sqrt of the sum of squares over windows; 1-D and 2-D only");
}

TS2COREML_FAMILY(SchemaTable, Pooling, populatePoolingSchemas)

}  // namespace ts2coreml::mil
