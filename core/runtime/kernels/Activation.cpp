// Activation MIL ops (coremltools ops/defs/iOS15/activation.py).
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <cmath>

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

at::Tensor relu(const KernelContext& k) { return at::relu(k.input("x")); }
// relu6(x) = min(max(x, 0), 6)
at::Tensor relu6(const KernelContext& k) { return at::clamp(k.input("x"), 0.0, 6.0); }
at::Tensor sigmoid(const KernelContext& k) { return at::sigmoid(k.input("x")); }
// silu(x) = x * sigmoid(x)
at::Tensor silu(const KernelContext& k) { return at::silu(k.input("x")); }

// softplus(x) = ln(1 + e^x), as max(x, 0) + ln(1 + e^-|x|) so that large |x| neither overflows
// nor loses the small term.
at::Tensor softplus(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    return at::relu(x) + at::log1p(at::exp(-at::abs(x)));
}

// softsign(x) = x / (1 + |x|)
at::Tensor softsign(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    return x / (at::abs(x) + 1);
}

// elu(x) = x if x > 0 else alpha * (e^x - 1)
at::Tensor elu(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    return at::where(x > 0, x, at::expm1(x) * k.getDouble("alpha"));
}

// leaky_relu(x) = x if x >= 0 else alpha * x
at::Tensor leakyRelu(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    return at::where(x >= 0, x, x * k.getDouble("alpha"));
}

// thresholded_relu(x) = x if x >= alpha else 0
at::Tensor thresholdedRelu(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    return at::where(x >= k.getDouble("alpha"), x, at::zeros_like(x));
}

// sigmoid_hard(x) = min(max(alpha * x + beta, 0), 1)
at::Tensor sigmoidHard(const KernelContext& k) {
    return at::clamp(k.input("x") * k.getDouble("alpha") + k.getDouble("beta"), 0.0, 1.0);
}

// linear_activation(x) = alpha * x + beta
at::Tensor linearActivation(const KernelContext& k) {
    return k.input("x") * k.getDouble("alpha") + k.getDouble("beta");
}

// scaled_tanh(x) = alpha * tanh(beta * x)
at::Tensor scaledTanh(const KernelContext& k) {
    return at::tanh(k.input("x") * k.getDouble("beta")) * k.getDouble("alpha");
}

// clamped_relu(x) = min(max(x, 0), beta) + min(min(x, 0) * alpha, beta)
at::Tensor clampedRelu(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const double alpha = k.getDouble("alpha"), beta = k.getDouble("beta");
    return at::clamp_max(at::relu(x), beta) + at::clamp_max(at::clamp_max(x, 0.0) * alpha, beta);
}

// prelu(x) = x if x >= 0 else alpha[c] * x, channels in dimension 1.
at::Tensor prelu(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const at::Tensor alpha = perChannel(k.input("alpha"), x.dim());
    return at::where(x >= 0, x, x * alpha);
}

// softplus_parametric(x) = alpha[c] * ln(1 + e^(beta[c] * x))
at::Tensor softplusParametric(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const at::Tensor alpha = perChannel(k.input("alpha"), x.dim()), beta = perChannel(k.input("beta"), x.dim());
    const at::Tensor bx = x * beta;
    return alpha * (at::relu(bx) + at::log1p(at::exp(-at::abs(bx))));
}

// gelu: EXACT x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); TANH_APPROXIMATION
// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))); SIGMOID_APPROXIMATION x * sigmoid(1.702 x).
at::Tensor gelu(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const std::string mode = k.getString("mode");
    if (mode == "EXACT") return at::gelu(x);
    if (mode == "TANH_APPROXIMATION") return at::gelu(x, "tanh");
    if (mode == "SIGMOID_APPROXIMATION") return x * at::sigmoid(x * 1.702);
    k.fail("unknown gelu mode '" + mode + "'");
}

// softmax(x) = e^x / sum(e^x) along axis
at::Tensor softmax(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    return at::softmax(x, normalizeAxis(k, k.getInt("axis"), x.dim()));
}

}  // namespace

void populateActivationKernels(KernelTable& t) {
    t.add("relu", relu);
    t.add("relu6", relu6);
    t.add("sigmoid", sigmoid);
    t.add("silu", silu);
    t.add("softplus", softplus);
    t.add("softsign", softsign);
    t.add("elu", elu);
    t.add("leaky_relu", leakyRelu);
    t.add("thresholded_relu", thresholdedRelu);
    t.add("sigmoid_hard", sigmoidHard);
    t.add("linear_activation", linearActivation);
    t.add("scaled_tanh", scaledTanh);
    t.add("clamped_relu", clampedRelu);
    t.add("prelu", prelu);
    t.add("softplus_parametric", softplusParametric);
    t.add("gelu", gelu);
    t.add("softmax", softmax);
}

TS2COREML_FAMILY(KernelTable, Activation, populateActivationKernels)

}  // namespace ts2coreml::runtime
