// Normalization MIL ops (coremltools ops/defs/iOS15/normalization.py). All keep the type of x;
// parameters are constants sharing x's dtype (iOS17 relaxes this to any float).
#include <algorithm>
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

// A [C] parameter, C being dimension 1 of x.
void checkChannelParam(const OpView& v, const std::string& name) {
    if (!v.has(name)) return;
    requireRank(v, name, 1);
    const Dim& c = v.type("x").shape[1];
    const Dim& n = v.type(name).shape[0];
    if (!shapes::compatibleDim(c, n))
        v.fail("input '" + name + "' has " + std::to_string(n.size) + " values but x " + v.type("x").str() + " has " +
               std::to_string(c.size) + " channels");
}

void checkEpsilon(const OpView& v) { floatParam(v, "epsilon"); }

std::vector<TensorType> inferBatchNorm(const OpView& v) {
    requireRank(v, "x", 3, 5);
    for (const char* p : {"mean", "variance", "gamma", "beta"}) checkChannelParam(v, p);
    checkEpsilon(v);
    return {v.type("x")};
}

std::vector<TensorType> inferInstanceNorm(const OpView& v) {
    requireRank(v, "x", 3, 4);
    for (const char* p : {"gamma", "beta"}) checkChannelParam(v, p);
    checkEpsilon(v);
    return {v.type("x")};
}

std::vector<TensorType> inferLayerNorm(const OpView& v) {
    const TensorType& x = v.type("x");
    const auto rank = static_cast<int64_t>(x.rank());
    std::vector<int64_t> all(x.rank());
    for (int64_t i = 0; i < rank; ++i) all[i] = i;
    std::vector<int64_t> axes = shapes::normalizeAxes(intsParam(v, "axes", all), rank);
    std::sort(axes.begin(), axes.end());
    // gamma and beta have the shape of the normalized dimensions.
    Shape normalized;
    for (int64_t a : axes) normalized.push_back(x.shape[a]);
    for (const char* p : {"gamma", "beta"}) {
        if (!v.has(p)) continue;
        if (!shapes::compatibleShape(v.type(p).shape, normalized))
            v.fail("input '" + std::string(p) + "' has shape " + shapes::str(v.type(p).shape) + ", expected " +
                   shapes::str(normalized) + " (the normalized dimensions of x)");
    }
    checkEpsilon(v);
    return {x};
}

}  // namespace

void populateNormalizationSchemas(SchemaTable& t) {
    declare(t, "batch_norm",
            {input("x", kFloats, "T"), constInput("mean", kFloats, "T"), constInput("variance", kFloats, "T"),
             optionalConst("gamma", kFloats, {}, "T"), optionalConst("beta", kFloats, {}, "T"),
             optionalConst("epsilon", kFloats, 1e-5, "T")},
            inferBatchNorm,
            "gamma * (x - mean) / sqrt(variance + epsilon) + beta per channel; x [N, C, *D] of rank 3 to 5; gamma "
            "defaults to ones, beta to zeros");

    declare(t, "instance_norm",
            {input("x", kFloats, "T"), optionalConst("gamma", kFloats, {}, "T"),
             optionalConst("beta", kFloats, {}, "T"), optionalConst("epsilon", kFloats, 1e-5, "T")},
            inferInstanceNorm,
            "normalization over the spatial dimensions of each channel; x [N, C, *D] of rank 3 or 4");

    declare(t, "layer_norm",
            {input("x", kFloats, "T"), optionalConst("axes", kInt32), optionalConst("gamma", kFloats, {}, "T"),
             optionalConst("beta", kFloats, {}, "T"), optionalConst("epsilon", kFloats, 1e-5, "T")},
            inferLayerNorm,
            "gamma * (x - mean) / sqrt(var + epsilon) + beta over axes (default all); gamma and beta have the shape "
            "of the normalized dimensions");

    declare(
        t, "l2_norm", {input("x", kFloats, "T"), optionalConst("epsilon", kFloats, 1e-6, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            requireRank(v, "x", 3, SIZE_MAX);
            checkEpsilon(v);
            return {v.type("x")};
        },
        "x / sqrt(sum(x^2) + epsilon) over the last three dimensions; leading dimensions are batch");

    declare(
        t, "local_response_norm",
        {input("x", kFloats, "T"), constInput("size", kInt32), optionalConst("alpha", kFloats, 1e-4, "T"),
         optionalConst("beta", kFloats, 0.75, "T"), optionalConst("k", kFloats, 1.0, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            requireRank(v, "x", 3, 4);
            if (intParam(v, "size") < 1) v.fail("size must be positive");
            for (const char* p : {"alpha", "beta", "k"}) floatParam(v, p);
            return {v.type("x")};
        },
        "x / (k + alpha / size * sum of x^2 over size neighbouring channels)^beta; x [N, C, *D] of rank 3 or 4");
}

TS2COREML_FAMILY(SchemaTable, Normalization, populateNormalizationSchemas)

}  // namespace ts2coreml::mil
