// Activation MIL ops (coremltools ops/defs/iOS15/activation.py). All keep the type of x, which is
// fp16 or fp32; scalar parameters share x's dtype (type variable T; iOS17 relaxes this to any float).
#include <cmath>
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

void declarePlain(SchemaTable& t, const std::string& name, const std::string& doc) {
    declare(
        t, name, {input("x", kFloats, "T")}, [](const OpView& v) -> std::vector<TensorType> { return {v.type("x")}; },
        doc);
}

// x and constant scalar parameters (alpha, or alpha and beta).
void declareWithScalars(SchemaTable& t, const std::string& name, const std::vector<std::string>& params,
                        const std::string& doc) {
    std::vector<InputSpec> inputs{input("x", kFloats, "T")};
    for (const auto& p : params) inputs.push_back(constInput(p, kFloats, "T"));
    declare(
        t, name, std::move(inputs),
        [params](const OpView& v) -> std::vector<TensorType> {
            for (const auto& p : params) floatParam(v, p);
            return {v.type("x")};
        },
        doc);
}

// Parameters of shape [C] must match dimension 1 of x, which has rank >= minRank.
void checkPerChannel(const OpView& v, const std::string& param, size_t minRank, size_t maxRank) {
    requireRank(v, "x", minRank, maxRank);
    requireRank(v, param, 1);
    const Dim& c = v.type("x").shape[1];
    const Dim& n = v.type(param).shape[0];
    if (!shapes::compatibleDim(c, n))
        v.fail("input '" + param + "' has " + std::to_string(n.size) + " values but x has " + std::to_string(c.size) +
               " channels (dimension 1)");
}

}  // namespace

void populateActivationSchemas(SchemaTable& t) {
    declarePlain(t, "relu", "max(x, 0)");
    declarePlain(t, "relu6", "min(max(x, 0), 6)");
    declarePlain(t, "sigmoid", "1 / (1 + e^-x)");
    declarePlain(t, "silu", "x * sigmoid(x)");
    declarePlain(t, "softplus", "ln(1 + e^x)");
    declarePlain(t, "softsign", "x / (1 + |x|)");

    declareWithScalars(t, "elu", {"alpha"}, "x if x > 0 else alpha * (e^x - 1)");
    declareWithScalars(t, "leaky_relu", {"alpha"}, "x if x >= 0 else alpha * x");
    declareWithScalars(t, "thresholded_relu", {"alpha"}, "x if x >= alpha else 0");
    declareWithScalars(t, "sigmoid_hard", {"alpha", "beta"}, "min(max(alpha * x + beta, 0), 1)");
    declareWithScalars(t, "linear_activation", {"alpha", "beta"}, "alpha * x + beta");
    declareWithScalars(t, "scaled_tanh", {"alpha", "beta"}, "alpha * tanh(beta * x)");
    declareWithScalars(t, "clamped_relu", {"alpha", "beta"}, "min(max(x, 0), beta) + min(min(x, 0) * alpha, beta)");

    declare(
        t, "prelu", {input("x", kFloats, "T"), constInput("alpha", kFloats, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            checkPerChannel(v, "alpha", 3, 5);
            // Core ML supports per-channel alpha on rank 4 only; ranks 3 and 5 need one shared value.
            const size_t rank = v.type("x").rank();
            if (rank != 4) {
                const auto alpha = v.getDoubles("alpha");
                for (double a : alpha)
                    if (std::abs(a - alpha.front()) > 1e-5)
                        v.fail("x of rank " + std::to_string(rank) + " needs all alpha values equal");
            }
            return {v.type("x")};
        },
        "x if x >= 0 else alpha[c] * x, alpha per channel (dimension 1); x of rank 3 to 5");

    declare(
        t, "softplus_parametric",
        {input("x", kFloats, "T"), constInput("alpha", kFloats, "T"), constInput("beta", kFloats, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            checkPerChannel(v, "alpha", 3, SIZE_MAX);
            checkPerChannel(v, "beta", 3, SIZE_MAX);
            return {v.type("x")};
        },
        "alpha[c] * ln(1 + e^(beta[c] * x)), per channel (dimension 1)");

    declare(
        t, "gelu", {input("x", kFloats, "T"), optionalConst("mode", kStr, std::string("EXACT"))},
        [](const OpView& v) -> std::vector<TensorType> {
            requireOneOf(v, "mode", stringParam(v, "mode"), {"EXACT", "TANH_APPROXIMATION", "SIGMOID_APPROXIMATION"});
            return {v.type("x")};
        },
        "x * Phi(x); mode EXACT (erf), TANH_APPROXIMATION or SIGMOID_APPROXIMATION (x * sigmoid(1.702 x))");

    declare(
        t, "softmax", {input("x", kFloats, "T"), optionalConst("axis", kInt32, int64_t{-1})},
        [](const OpView& v) -> std::vector<TensorType> {
            const TensorType& x = v.type("x");
            shapes::normalizeAxis(intParam(v, "axis"), static_cast<int64_t>(x.rank()));
            return {x};
        },
        "e^x / sum(e^x) along axis (default -1)");
}

TS2COREML_FAMILY(SchemaTable, Activation, populateActivationSchemas)

}  // namespace ts2coreml::mil
