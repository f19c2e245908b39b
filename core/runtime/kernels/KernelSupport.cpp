#include "runtime/kernels/KernelSupport.h"

#include <algorithm>

namespace ts2coreml::runtime::kernels {

int64_t normalizeAxis(const KernelContext& k, int64_t axis, int64_t rank) {
    if (axis < -rank || axis >= rank)
        k.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> normalizeAxes(const KernelContext& k, const std::vector<int64_t>& axes, int64_t rank) {
    std::vector<int64_t> out;
    for (int64_t a : axes) out.push_back(normalizeAxis(k, a, rank));
    return out;
}

at::Tensor perChannel(const at::Tensor& param, int64_t rank) {
    std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
    shape[1] = param.numel();
    return param.reshape(shape);
}

WindowPadding windowPadding(const KernelContext& k, const std::vector<int64_t>& spatialIn,
                            const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                            const std::vector<int64_t>& dilations) {
    const size_t n = spatialIn.size();
    const std::string padType = k.getString("pad_type");
    WindowPadding p{std::vector<int64_t>(n, 0), std::vector<int64_t>(n, 0)};
    if (padType == "valid") return p;
    if (padType == "custom") {
        const std::vector<int64_t> pad = k.optionalInts("pad").value_or(std::vector<int64_t>(2 * n, 0));
        if (pad.size() != 2 * n)
            k.fail("pad has " + std::to_string(pad.size()) + " values, expected " + std::to_string(2 * n));
        for (size_t i = 0; i < n; ++i) {
            p.before[i] = pad[2 * i];
            p.after[i] = pad[2 * i + 1];
        }
        return p;
    }
    if (padType != "same" && padType != "same_lower") k.fail("unknown pad_type '" + padType + "'");
    for (size_t i = 0; i < n; ++i) {
        const int64_t effK = (kernel[i] - 1) * dilations[i] + 1;
        const int64_t s = strides[i];
        const int64_t out = (spatialIn[i] + s - 1) / s;
        const int64_t total = std::max<int64_t>(0, (out - 1) * s + effK - spatialIn[i]);
        const int64_t small = total / 2, large = total - small;
        p.before[i] = padType == "same" ? small : large;
        p.after[i] = padType == "same" ? large : small;
    }
    return p;
}

at::Tensor padSpatial(const at::Tensor& x, const WindowPadding& pad, double value) {
    // at::constant_pad_nd lists pairs from the LAST dimension backwards.
    std::vector<int64_t> pairs;
    for (size_t i = pad.before.size(); i-- > 0;) {
        pairs.push_back(pad.before[i]);
        pairs.push_back(pad.after[i]);
    }
    return at::constant_pad_nd(x, pairs, value);
}

std::vector<int64_t> spatialSizes(const at::Tensor& x) {
    return std::vector<int64_t>(x.sizes().begin() + 2, x.sizes().end());
}

std::vector<int64_t> perSpatial(const KernelContext& k, const std::string& name, size_t n, int64_t fallback) {
    std::vector<int64_t> v = k.optionalInts(name).value_or(std::vector<int64_t>(n, fallback));
    if (v.size() != n)
        k.fail(name + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(n) +
               " (one per spatial dimension)");
    return v;
}

}  // namespace ts2coreml::runtime::kernels
