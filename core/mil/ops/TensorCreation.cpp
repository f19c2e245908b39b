// MIL ops that make a tensor from a shape or range rather than from input elements (coremltools
// ops/defs/iOS15/tensor_operation.py: fill, range_1d, one_hot; iOS16: fill_like).
#include <cmath>
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

// The dtype of an optional value input: its own, else that of its literal default.
DType dtypeOrDefault(const OpView& v, const std::string& name) {
    if (v.has(name)) return v.type(name).dtype;
    const Literal& d = v.schema().findInput(name)->defaultValue;
    return std::holds_alternative<int64_t>(d) ? DType::Int32
           : std::holds_alternative<bool>(d)  ? DType::Bool
                                              : DType::Float32;
}

std::vector<TensorType> inferFill(const OpView& v) {
    Shape out = shapeFromInput(v, "shape");
    if (v.has("value")) requireRank(v, "value", 0);
    return {tensor(dtypeOrDefault(v, "value"), out)};
}

std::vector<TensorType> inferRange(const OpView& v) {
    for (const char* p : {"start", "end", "step"}) requireRank(v, p, 0);
    const DType dtype = v.type("start").dtype;
    const Value *start = v.value("start"), *end = v.value("end"), *step = v.value("step");
    if (!start->constant() || !end->constant() || !step->constant()) return {tensor(dtype, {shapes::freshDim()})};
    const double s = start->constant()->asDouble(), e = end->constant()->asDouble(), d = step->constant()->asDouble();
    if (d == 0) v.fail("step must not be 0");
    const double n = std::ceil((e - s) / d);
    return {tensor(dtype, {Dim::fixed(n > 0 ? static_cast<int64_t>(n) : 0)})};
}

std::vector<TensorType> inferOneHot(const OpView& v) {
    const TensorType& indices = v.type("indices");
    const int64_t rank = static_cast<int64_t>(indices.rank());
    const int64_t axis = intParam(v, "axis");
    if (axis < -rank - 1 || axis > rank)
        v.fail("axis " + std::to_string(axis) + " is out of range for indices " + indices.str() +
               " (valid: " + std::to_string(-rank - 1) + ".." + std::to_string(rank) + ")");
    // on_value and off_value share a dtype; the defaults (1 and 0) are int32.
    const DType on = dtypeOrDefault(v, "on_value"), off = dtypeOrDefault(v, "off_value");
    if (on != off)
        v.fail(std::string("on_value and off_value must share a dtype (got ") + dtypeName(on) + " and " +
               dtypeName(off) + "; give both when they are not int32)");
    requireRank(v, "one_hot_vector_size", 0);
    Dim depth = shapes::freshDim();
    if (const ConstData* c = v.value("one_hot_vector_size")->constant()) {
        if (c->asInt() < 0) v.fail("one_hot_vector_size must not be negative");
        depth = Dim::fixed(c->asInt());
    }
    Shape out = indices.shape;
    out.insert(out.begin() + (axis < 0 ? axis + rank + 1 : axis), depth);
    return {tensor(on, out)};
}

}  // namespace

void populateTensorCreationSchemas(SchemaTable& t) {
    declare(t, "fill", {input("shape", kInt32), optionalConst("value", kFloatsInt32Bool, 0.0, "T")}, inferFill,
            "a tensor of the given shape filled with value (default fp32 0)");

    declare(
        t, "fill_like",
        {input("ref_tensor", kFloatsInt32Bool, "T"), optionalConst("value", kFloatsInt32Bool, 0.0, "U")},
        [](const OpView& v) -> std::vector<TensorType> {
            if (v.has("value")) requireRank(v, "value", 0);
            return {tensor(dtypeOrDefault(v, "value"), v.type("ref_tensor").shape)};
        },
        "a tensor shaped like ref_tensor filled with value (default fp32 0)", Target::iOS16);

    declare(t, "range_1d",
            {input("end", kFloatsInt32, "T"), input("start", kFloatsInt32, "T"), input("step", kFloatsInt32, "T")},
            inferRange, "[start, start + step, ...) up to end (exclusive); length ceil((end - start) / step)");

    declare(t, "one_hot",
            {input("indices", kInt32), input("one_hot_vector_size", kInt32), optionalConst("axis", kInt32, int64_t{-1}),
             optionalConst("on_value", kFloatsInt32Bool, int64_t{1}, "T"),
             optionalConst("off_value", kFloatsInt32Bool, int64_t{0}, "T")},
            inferOneHot,
            "indices expanded by a new dimension of one_hot_vector_size at axis: on_value at the index, "
            "off_value elsewhere");
}

TS2COREML_FAMILY(SchemaTable, TensorCreation, populateTensorCreationSchemas)

}  // namespace ts2coreml::mil
