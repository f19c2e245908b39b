// Normalization MIL ops (coremltools ops/defs/iOS15/normalization.py). Variances are biased
// (divided by the element count), as Core ML and torch's normalization layers compute them.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <algorithm>

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

// batch_norm(x) = gamma[c] * (x - mean[c]) / sqrt(variance[c] + epsilon) + beta[c]
at::Tensor batchNorm(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const int64_t rank = x.dim();
    const at::Tensor scale = at::rsqrt(k.input("variance") + k.getDouble("epsilon"));
    at::Tensor y = (x - perChannel(k.input("mean"), rank)) * perChannel(scale, rank);
    if (auto gamma = k.optionalInput("gamma")) y = y * perChannel(*gamma, rank);
    if (auto beta = k.optionalInput("beta")) y = y + perChannel(*beta, rank);
    return y;
}

// x normalized over `axes`: (x - mean) / sqrt(var + epsilon).
at::Tensor normalized(const at::Tensor& x, const std::vector<int64_t>& axes, double epsilon) {
    const at::Tensor mean = x.mean(axes, /*keepdim=*/true);
    const at::Tensor centered = x - mean;
    const at::Tensor var = (centered * centered).mean(axes, /*keepdim=*/true);
    return centered * at::rsqrt(var + epsilon);
}

// instance_norm: each channel of each sample normalized over its spatial dimensions.
at::Tensor instanceNorm(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    std::vector<int64_t> spatial;
    for (int64_t i = 2; i < x.dim(); ++i) spatial.push_back(i);
    at::Tensor y = normalized(x, spatial, k.getDouble("epsilon"));
    if (auto gamma = k.optionalInput("gamma")) y = y * perChannel(*gamma, x.dim());
    if (auto beta = k.optionalInput("beta")) y = y + perChannel(*beta, x.dim());
    return y;
}

// layer_norm over `axes` (default all); gamma and beta have the shape of the normalized
// dimensions in increasing order, and broadcast with 1s at the other dimensions.
at::Tensor layerNorm(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    std::vector<int64_t> axes;
    if (auto given = k.optionalInts("axes")) {
        axes = normalizeAxes(k, *given, x.dim());
    } else {
        for (int64_t i = 0; i < x.dim(); ++i) axes.push_back(i);
    }
    std::sort(axes.begin(), axes.end());
    at::Tensor y = normalized(x, axes, k.getDouble("epsilon"));
    std::vector<int64_t> paramShape(static_cast<size_t>(x.dim()), 1);
    for (int64_t a : axes) paramShape[static_cast<size_t>(a)] = x.size(a);
    if (auto gamma = k.optionalInput("gamma")) y = y * gamma->reshape(paramShape);
    if (auto beta = k.optionalInput("beta")) y = y + beta->reshape(paramShape);
    return y;
}

// l2_norm(x) = x / sqrt(sum(x^2) + epsilon) over the last three dimensions (leading ones are batch).
at::Tensor l2Norm(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const int64_t r = x.dim();
    const at::Tensor sum = (x * x).sum({r - 3, r - 2, r - 1}, /*keepdim=*/true);
    return x * at::rsqrt(sum + k.getDouble("epsilon"));
}

// local_response_norm(x) = x / (k + alpha / size * sum of x^2 over `size` channels around c)^beta.
// The window is torch's: size / 2 channels before c, (size - 1) / 2 after (zero beyond the edges).
at::Tensor localResponseNorm(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const int64_t size = k.getInt("size");
    // Channels moved into a spatial position so that pooling sums over them: [N, 1, C, rest].
    const at::Tensor squares = (x * x).reshape({x.size(0), 1, x.size(1), -1});
    const at::Tensor padded = at::constant_pad_nd(squares, {0, 0, size / 2, (size - 1) / 2}, 0.0);
    const at::Tensor sums = at::avg_pool2d(padded, {size, 1}, {1, 1}, {0, 0}, false, true, 1).reshape(x.sizes());
    const at::Tensor div =
        at::pow(sums * (k.getDouble("alpha") / static_cast<double>(size)) + k.getDouble("k"), k.getDouble("beta"));
    return x / div;
}

}  // namespace

void populateNormalizationKernels(KernelTable& t) {
    t.add("batch_norm", batchNorm);
    t.add("instance_norm", instanceNorm);
    t.add("layer_norm", layerNorm);
    t.add("l2_norm", l2Norm);
    t.add("local_response_norm", localResponseNorm);
}

TS2COREML_FAMILY(KernelTable, Normalization, populateNormalizationKernels)

}  // namespace ts2coreml::runtime
