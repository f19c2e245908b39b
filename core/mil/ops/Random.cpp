// MIL ops drawing random tensors of a given shape (coremltools ops/defs/iOS15/random.py):
// random_uniform in [low, high), random_normal with mean and stddev, random_bernoulli: 1 with
// probability prob, else 0.
// seed -1 draws differently on every run; any other seed makes the draw repeatable.
#include "mil/Families.h"
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

// The output: fp32 of `shape` (its sizes when it is a constant, fresh dims otherwise).
std::vector<TensorType> inferRandom(const OpView& v) { return {tensor(DType::Float32, shapeFromInput(v, "shape"))}; }

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
}

TS2COREML_FAMILY(SchemaTable, Random, populateRandomSchemas)

}  // namespace ts2coreml::mil
