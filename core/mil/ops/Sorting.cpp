// Sorting MIL ops (coremltools ops/defs/iOS15/tensor_operation.py: topk, argsort; iOS16 adds
// topk's sort and return_indices).
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

std::vector<TensorType> inferTopk(const OpView& v) {
    const TensorType& x = v.type("x");
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), static_cast<int64_t>(x.rank()));
    const int64_t k = intParam(v, "k");
    boolParam(v, "ascending");
    boolParam(v, "sort");
    if (k < 1) v.fail("k must be positive, got " + std::to_string(k));
    const Dim& d = x.shape[axis];
    if (d.isStatic() && k > d.size)
        v.fail("k = " + std::to_string(k) + " exceeds dimension " + std::to_string(axis) + " of x " + x.str());
    Shape out = x.shape;
    out[axis] = Dim::fixed(k);
    if (!boolParam(v, "return_indices")) return {tensor(x.dtype, out)};
    return {tensor(x.dtype, out), tensor(DType::Int32, out)};
}

}  // namespace

void populateSortingSchemas(SchemaTable& t) {
    declare(t, "topk",
            {input("x", kFloatsInt32, "T"), optionalConst("k", kInt32, int64_t{1}),
             optionalConst("axis", kInt32, int64_t{-1}), optionalConst("ascending", kBool, false),
             optionalConst("sort", kBool, true), optionalConst("return_indices", kBool, true)},
            inferTopk,
            "the k largest (smallest when ascending) values along axis and their int32 indices; sort and "
            "return_indices need iOS16 (return_indices false leaves one output)");

    declare(
        t, "argsort",
        {input("x", kFloatsInt32, "T"), optionalConst("axis", kInt32, int64_t{-1}),
         optionalConst("ascending", kBool, false)},
        [](const OpView& v) -> std::vector<TensorType> {
            const TensorType& x = v.type("x");
            shapes::normalizeAxis(intParam(v, "axis"), static_cast<int64_t>(x.rank()));
            boolParam(v, "ascending");
            return {tensor(DType::Int32, x.shape)};
        },
        "int32 indices that sort x along axis (descending unless ascending)");
}

TS2COREML_FAMILY(SchemaTable, Sorting, populateSortingSchemas)

}  // namespace ts2coreml::mil
