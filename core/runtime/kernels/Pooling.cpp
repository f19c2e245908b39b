// Pooling MIL ops (coremltools ops/defs/iOS15/pool.py) over x [N, C, *D], 1 to 3 spatial dims.
//
// Padding follows pad_type (KernelSupport.h). ceil_mode (symmetric padding only, per the schema)
// adds a last, partial window when it starts inside the input or the left padding — torch's rule,
// which Apple's shape inference reproduces — so symmetric padding is handed to ATen's pooling,
// which applies the same rule; asymmetric padding is applied explicitly first.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <limits>

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

struct PoolParams {
    std::vector<int64_t> kernel, strides;
    WindowPadding pad;
    bool ceilMode = false;
};

PoolParams poolParams(const KernelContext& k, const at::Tensor& x) {
    PoolParams p;
    const size_t n = static_cast<size_t>(x.dim() - 2);
    p.kernel = k.getInts("kernel_sizes");
    if (p.kernel.size() != n) k.fail("kernel_sizes has " + std::to_string(p.kernel.size()) + " values");
    p.strides = perSpatial(k, "strides", n, 1);
    p.pad = windowPadding(k, spatialSizes(x), p.kernel, p.strides, std::vector<int64_t>(n, 1));
    p.ceilMode = k.getBool("ceil_mode");
    return p;
}

// ATen's pooling takes symmetric padding of at most half the kernel.
bool nativePadding(const PoolParams& p) {
    if (!p.pad.symmetric()) return false;
    for (size_t i = 0; i < p.kernel.size(); ++i)
        if (p.pad.before[i] * 2 > p.kernel[i]) return false;
    return true;
}

at::Tensor maxPoolNd(const at::Tensor& x, const PoolParams& p, const std::vector<int64_t>& padding) {
    const std::vector<int64_t> dilation(p.kernel.size(), 1);
    switch (p.kernel.size()) {
        case 1: return at::max_pool1d(x, p.kernel, p.strides, padding, dilation, p.ceilMode);
        case 2: return at::max_pool2d(x, p.kernel, p.strides, padding, dilation, p.ceilMode);
        default: return at::max_pool3d(x, p.kernel, p.strides, padding, dilation, p.ceilMode);
    }
}

at::Tensor avgPoolNd(const at::Tensor& x, const PoolParams& p, const std::vector<int64_t>& padding,
                     bool countIncludePad) {
    switch (p.kernel.size()) {
        case 1: return at::avg_pool1d(x, p.kernel, p.strides, padding, p.ceilMode, countIncludePad);
        case 2: return at::avg_pool2d(x, p.kernel, p.strides, padding, p.ceilMode, countIncludePad);
        default: return at::avg_pool3d(x, p.kernel, p.strides, padding, p.ceilMode, countIncludePad);
    }
}

void requireNoCeilWithExplicitPadding(const KernelContext& k, const PoolParams& p) {
    if (p.ceilMode) k.fail("ceil_mode with padding larger than half the kernel is not supported");
}

at::Tensor maxPool(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const PoolParams p = poolParams(k, x);
    if (nativePadding(p)) return maxPoolNd(x, p, p.pad.before);
    requireNoCeilWithExplicitPadding(k, p);
    // Padding never wins a maximum.
    return maxPoolNd(padSpatial(x, p.pad, -std::numeric_limits<double>::infinity()), p,
                     std::vector<int64_t>(p.kernel.size(), 0));
}

// avg_pool: exclude_padding_from_average divides by the input elements in the window only;
// otherwise by the window size (padding counts as zeros).
at::Tensor avgPool(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const PoolParams p = poolParams(k, x);
    const bool exclude = k.getBool("exclude_padding_from_average");
    if (nativePadding(p)) return avgPoolNd(x, p, p.pad.before, !exclude);
    requireNoCeilWithExplicitPadding(k, p);
    const std::vector<int64_t> none(p.kernel.size(), 0);
    const at::Tensor sums = avgPoolNd(padSpatial(x, p.pad, 0.0), p, none, true);
    if (!exclude) return sums;
    // mean over the input elements = mean(padded x) / mean(padded mask of ones)
    std::vector<int64_t> maskShape{1, 1};
    for (int64_t s : spatialSizes(x)) maskShape.push_back(s);
    const at::Tensor mask = padSpatial(at::ones(maskShape, x.options()), p.pad, 0.0);
    return sums / avgPoolNd(mask, p, none, true);
}

// l2_pool(x) = sqrt(sum of x^2 over the window), padding counting as zeros; 1-D and 2-D only. The
// sum is a 2-D average pool with divisor 1 (1-D runs as height 1).
at::Tensor l2Pool(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    PoolParams p = poolParams(k, x);
    at::Tensor squares = x * x;
    if (!nativePadding(p)) {
        requireNoCeilWithExplicitPadding(k, p);
        squares = padSpatial(squares, p.pad, 0.0);
        p.pad.before.assign(p.kernel.size(), 0);
    }
    if (p.kernel.size() == 1) {
        const at::Tensor sums = at::avg_pool2d(squares.unsqueeze(-2), {1, p.kernel[0]}, {1, p.strides[0]},
                                               {0, p.pad.before[0]}, p.ceilMode, true, 1);
        return at::sqrt(sums.squeeze(-2));
    }
    if (p.kernel.size() != 2) k.fail("l2_pool supports 1-D and 2-D pooling only");
    return at::sqrt(at::avg_pool2d(squares, p.kernel, p.strides, p.pad.before, p.ceilMode, true, 1));
}

}  // namespace

void populatePoolingKernels(KernelTable& t) {
    t.add("max_pool", maxPool);
    t.add("avg_pool", avgPool);
    t.add("l2_pool", l2Pool);
}

TS2COREML_FAMILY(KernelTable, Pooling, populatePoolingKernels)

}  // namespace ts2coreml::runtime
