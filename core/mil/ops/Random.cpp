// MIL ops drawing random tensors of a given shape (coremltools ops/defs/iOS15/random.py):
// random_uniform in [low, high), random_normal with mean and stddev, random_bernoulli: 1 with
// probability prob, else 0; random_categorical: `size` class indices drawn (with replacement) from
// each distribution along the last axis of x, given as logits or probabilities.
// seed -1 draws differently on every run; any other seed makes the draw repeatable.
#include "mil/Families.h"
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

// The output: fp32 of `shape` (its sizes when it is a constant, fresh dims otherwise).
std::vector<TensorType> inferRandom(const OpView& v) { return {tensor(DType::Float32, shapeFromInput(v, "shape"))}; }

// x [*D, N] -> [*D, size], x's dtype (the indices as reals, as Core ML returns them).
std::vector<TensorType> inferCategorical(const OpView& v) {
    const TensorType& x = v.type("x");
    if (x.rank() == 0) v.fail("x must have rank >= 1 (distributions along the last axis), got " + x.str());
    requireOneOf(v, "mode", stringParam(v, "mode"), {"logits", "probs"});
    const int64_t size = intParam(v, "size");
    if (size < 1) v.fail("size must be positive, got " + std::to_string(size));
    Shape out(x.shape.begin(), x.shape.end() - 1);
    out.push_back(Dim::fixed(size));
    return {tensor(x.dtype, out)};
}

}  // namespace

void populateRandomSchemas(SchemaTable& table) {
    declare(table, "random_uniform",
            {input("shape", kInt32), optionalConst("low", kFloats, 0.0), optionalConst("high", kFloats, 1.0),
             optionalConst("seed", kInt32, int64_t{-1})},
            inferRandom, "uniform samples in [low, high) of the given shape");
    declare(table, "random_normal",
            {input("shape", kInt32), optionalConst("mean", kFloats, 0.0), optionalConst("stddev", kFloats, 1.0),
             optionalConst("seed", kInt32, int64_t{-1})},
            inferRandom, "normal samples N(mean, stddev^2) of the given shape");
    declare(table, "random_bernoulli",
            {input("shape", kInt32), optionalConst("prob", kFloats, 0.5), optionalConst("seed", kInt32, int64_t{-1})},
            inferRandom, "1 with probability prob, else 0, of the given shape");
    declare(table, "random_categorical",
            {input("x", kFloats, "T"), optionalConst("mode", kStr, std::string("logits")),
             optionalConst("size", kInt32, int64_t{1}), optionalConst("seed", kInt32, int64_t{-1})},
            inferCategorical, "size class indices per distribution along the last axis of x (logits or probs)");
}

TS2COREML_FAMILY(SchemaTable, Random, populateRandomSchemas)

}  // namespace ts2coreml::mil
