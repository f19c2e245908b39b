// Elementwise MIL ops (coremltools ops/defs/iOS15/elementwise_binary.py, elementwise_unary.py and
// control_flow.py's select): binary ops broadcast numpy-style; unary ops keep the input type.
#include "mil/Families.h"
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

std::vector<TensorType> sameAsX(const OpView& v) { return {v.type("x")}; }

InferFn broadcastTo(std::optional<DType> resultDType) {
    return [resultDType](const OpView& v) -> std::vector<TensorType> {
        const TensorType& x = v.type("x");
        const TensorType& y = v.type("y");
        return {tensor(resultDType.value_or(x.dtype), shapes::broadcast(x.shape, y.shape))};
    };
}

void declareBinary(SchemaTable& t, const std::string& name, DTypeSet domain, std::optional<DType> result,
                   const std::string& doc) {
    declare(t, name, {input("x", domain, "T"), input("y", domain, "T")}, broadcastTo(result), doc);
}

void declareUnary(SchemaTable& t, const std::string& name, DTypeSet domain, const std::string& doc) {
    declare(t, name, {input("x", domain, "T")}, sameAsX, doc);
}

// x with an optional constant epsilon added before the function: f(x + epsilon).
void declareUnaryWithEpsilon(SchemaTable& t, const std::string& name, double epsilon, const std::string& doc) {
    declare(
        t, name, {input("x", kFloats, "T"), optionalConst("epsilon", kFloats, epsilon, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            floatParam(v, "epsilon");
            return {v.type("x")};
        },
        doc);
}

}  // namespace

void populateElementwiseSchemas(SchemaTable& t) {
    // Binary arithmetic: T in fp16, fp32, int32; result T with the broadcast shape.
    const std::pair<const char*, const char*> arithmetic[] = {
        {"add", "x + y"},
        {"sub", "x - y"},
        {"mul", "x * y"},
        {"real_div", "x / y"},
        {"floor_div", "x / y rounded towards negative infinity"},
        {"mod", "x % y"},
        {"pow", "x ^ y"},
        {"maximum", "max(x, y)"},
        {"minimum", "min(x, y)"},
    };
    for (const auto& [name, doc] : arithmetic) declareBinary(t, name, kFloatsInt32, std::nullopt, doc);

    // Comparisons: T in fp16, fp32, int32; result bool.
    const std::pair<const char*, const char*> comparisons[] = {
        {"equal", "x == y"},      {"not_equal", "x != y"}, {"less", "x < y"},
        {"less_equal", "x <= y"}, {"greater", "x > y"},    {"greater_equal", "x >= y"},
    };
    for (const auto& [name, doc] : comparisons) declareBinary(t, name, kFloatsInt32, DType::Bool, doc);

    // Logical: T is bool.
    declareBinary(t, "logical_and", kBool, DType::Bool, "x AND y");
    declareBinary(t, "logical_or", kBool, DType::Bool, "x OR y");
    declareBinary(t, "logical_xor", kBool, DType::Bool, "x XOR y");
    declareUnary(t, "logical_not", kBool, "NOT x");

    // Unary on floats.
    const std::pair<const char*, const char*> floatUnary[] = {
        {"acos", "arccos(x)"},
        {"asin", "arcsin(x)"},
        {"atan", "arctan(x)"},
        {"atanh", "artanh(x)"},
        {"ceil", "ceil(x)"},
        {"cos", "cos(x)"},
        {"cosh", "cosh(x)"},
        {"erf", "erf(x)"},
        {"exp", "e^x"},
        {"floor", "floor(x)"},
        {"round", "x rounded to the nearest integer"},
        {"sin", "sin(x)"},
        {"sinh", "sinh(x)"},
        {"sqrt", "sqrt(x)"},
        {"tan", "tan(x)"},
        {"tanh", "tanh(x)"},
    };
    for (const auto& [name, doc] : floatUnary) declareUnary(t, name, kFloats, doc);

    // Unary that also take int32.
    declareUnary(t, "abs", kFloatsInt32, "|x|");
    declareUnary(t, "exp2", kFloatsInt32, "2^x");
    declareUnary(t, "sign", kFloatsInt32, "-1, 0 or 1 by the sign of x");
    declareUnary(t, "square", kFloatsInt32, "x * x");

    declareUnaryWithEpsilon(t, "rsqrt", 1e-12, "1 / sqrt(x + epsilon)");
    declareUnaryWithEpsilon(t, "log", 1e-45, "ln(x + epsilon)");
    declareUnaryWithEpsilon(t, "inverse", 1e-4, "1 / (x + epsilon)");

    declare(
        t, "clip", {input("x", kFloats, "T"), constInput("alpha", kFloats, "T"), constInput("beta", kFloats, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            const double alpha = floatParam(v, "alpha"), beta = floatParam(v, "beta");
            // iOS17 rejects alpha >= beta; iOS15 would return beta everywhere.
            if (alpha >= beta)
                v.fail("alpha (" + std::to_string(alpha) + ") must be less than beta (" + std::to_string(beta) + ")");
            return {v.type("x")};
        },
        "min(max(x, alpha), beta)");

    declare(
        t, "threshold", {input("x", kFloatsInt32, "T"), constInput("alpha", kFloatsInt32, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            floatParam(v, "alpha");
            return {v.type("x")};
        },
        "max(x, alpha)");

    declare(
        t, "cast", {input("x", kFloatsInt32Bool, "T"), constInput("dtype", kStr)},
        [](const OpView& v) -> std::vector<TensorType> {
            const std::string dtype = stringParam(v, "dtype");
            requireOneOf(v, "dtype", dtype, {"int32", "fp16", "fp32", "bool"});
            const DType out = dtype == "int32"  ? DType::Int32
                              : dtype == "fp16" ? DType::Float16
                              : dtype == "fp32" ? DType::Float32
                                                : DType::Bool;
            return {tensor(out, v.type("x").shape)};
        },
        "x converted to dtype: int32, fp16, fp32 or bool (iOS17 adds int8, uint8, int16, uint16)");

    declare(
        t, "select", {input("cond", kBool), input("a", kFloatsInt32Bool, "T"), input("b", kFloatsInt32Bool, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            const Shape ab = shapes::broadcast(v.type("a").shape, v.type("b").shape);
            return {tensor(v.type("a").dtype, shapes::broadcast(v.type("cond").shape, ab))};
        },
        "cond ? a : b, elementwise, cond, a and b broadcast together");
}

TS2COREML_FAMILY(SchemaTable, Elementwise, populateElementwiseSchemas)

}  // namespace ts2coreml::mil
