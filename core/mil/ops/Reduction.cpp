// Reduction MIL ops (coremltools ops/defs/iOS15/reduction.py), and cumsum, the running sum
// (tensor_operation.py).
#include <algorithm>
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

Shape reduced(const Shape& in, const std::vector<int64_t>& axes, bool keepDims) {
    Shape out;
    for (size_t i = 0; i < in.size(); ++i) {
        const bool hit = std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) != axes.end();
        if (!hit)
            out.push_back(in[i]);
        else if (keepDims)
            out.push_back(Dim::fixed(1));
    }
    return out;
}

// axes (default: all) and keep_dims (default false); reducing everything without keep_dims gives
// a scalar.
std::vector<TensorType> inferReduceAxes(const OpView& v) {
    const TensorType& x = v.type("x");
    const auto rank = static_cast<int64_t>(x.rank());
    std::vector<int64_t> all(x.rank());
    for (int64_t i = 0; i < rank; ++i) all[i] = i;
    const std::vector<int64_t> axes = shapes::normalizeAxes(intsParam(v, "axes", all), rank);
    return {tensor(x.dtype, reduced(x.shape, axes, boolParam(v, "keep_dims")))};
}

// One axis (default -1); the result is the int32 index along it.
std::vector<TensorType> inferReduceArg(const OpView& v) {
    const TensorType& x = v.type("x");
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), static_cast<int64_t>(x.rank()));
    return {tensor(DType::Int32, reduced(x.shape, {axis}, boolParam(v, "keep_dims")))};
}

}  // namespace

void populateReductionSchemas(SchemaTable& t) {
    const std::pair<const char*, const char*> byAxes[] = {
        {"reduce_sum", "sum"},
        {"reduce_mean", "mean"},
        {"reduce_prod", "product"},
        {"reduce_max", "maximum"},
        {"reduce_min", "minimum"},
        {"reduce_l1_norm", "sum of |x|"},
        {"reduce_l2_norm", "sqrt of the sum of x^2"},
        {"reduce_log_sum", "ln of the sum"},
        {"reduce_log_sum_exp", "ln of the sum of e^x"},
        {"reduce_sum_square", "sum of x^2"},
    };
    for (const auto& [name, what] : byAxes)
        declare(
            t, name,
            {input("x", kFloatsInt32, "T"), optionalConst("axes", kInt32), optionalConst("keep_dims", kBool, false)},
            inferReduceAxes, std::string(what) + " over axes (default all dimensions)");

    for (const auto& [name, what] : {std::pair{"reduce_argmax", "maximum"}, std::pair{"reduce_argmin", "minimum"}})
        declare(t, name,
                {input("x", kFloatsInt32, "T"), optionalConst("axis", kInt32, int64_t{-1}),
                 optionalConst("keep_dims", kBool, false)},
                inferReduceArg, std::string("int32 index of the ") + what + " along axis (iOS17 adds output_dtype)");

    declare(
        t, "cumsum",
        {input("x", kFloatsInt32, "T"), optionalConst("axis", kInt32, int64_t{0}),
         optionalConst("exclusive", kBool, false), optionalConst("reverse", kBool, false)},
        [](const OpView& v) -> std::vector<TensorType> {
            const TensorType& x = v.type("x");
            shapes::normalizeAxis(intParam(v, "axis"), static_cast<int64_t>(x.rank()));
            boolParam(v, "exclusive");
            boolParam(v, "reverse");
            return {x};
        },
        "running sum along axis; exclusive starts at 0, reverse runs from the end");
}

TS2COREML_FAMILY(SchemaTable, Reduction, populateReductionSchemas)

}  // namespace ts2coreml::mil
