// Convolution MIL ops (coremltools ops/defs/iOS15/conv.py) on x [N, C_in, *D], 1 to 3 spatial
// dimensions. ATen has no CPU fp16 convolution: fp16 programs convolve in fp32 (KernelContext
// hands fp16 inputs over as fp32) and the executor rounds the result to fp16.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

std::vector<int64_t> kernelSizes(const at::Tensor& weight) {
    return std::vector<int64_t>(weight.sizes().begin() + 2, weight.sizes().end());
}

c10::optional<at::Tensor> bias(const KernelContext& k) {
    auto b = k.optionalInput("bias");
    return b ? c10::optional<at::Tensor>(*b) : c10::nullopt;
}

// conv: pad by pad_type (asymmetric padding is applied explicitly, zeros), then a plain
// convolution with strides, dilations and groups.
at::Tensor conv(const KernelContext& k) {
    at::Tensor x = k.input("x");
    const at::Tensor weight = k.input("weight");
    const size_t n = static_cast<size_t>(x.dim() - 2);
    const auto strides = perSpatial(k, "strides", n, 1);
    const auto dilations = perSpatial(k, "dilations", n, 1);
    const WindowPadding pad = windowPadding(k, spatialSizes(x), kernelSizes(weight), strides, dilations);
    std::vector<int64_t> symmetric(n, 0);
    if (pad.symmetric())
        symmetric = pad.before;
    else
        x = padSpatial(x, pad, 0.0);
    return at::convolution(x, weight, bias(k), strides, symmetric, dilations, /*transposed=*/false,
                           std::vector<int64_t>(n, 0), k.getInt("groups"));
}

// conv_transpose: the full transposed convolution, (in - 1) * s + effK per dimension, then
//   valid        nothing removed
//   custom       pad[2i] removed before, pad[2i+1] after
//   same         out = in * s: total = full - in * s removed, floor(total / 2) before (same_lower:
//                the larger half before)
// and, when output_shape is given, the extra rows the shape asks for come from the convolution
// itself (as torch's output_padding): out = output_shape[2:].
at::Tensor convTranspose(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const at::Tensor weight = k.input("weight");
    const size_t n = static_cast<size_t>(x.dim() - 2);
    const auto strides = perSpatial(k, "strides", n, 1);
    const auto dilations = perSpatial(k, "dilations", n, 1);
    const auto in = spatialSizes(x);
    const auto kernel = kernelSizes(weight);
    const std::string padType = k.getString("pad_type");

    std::vector<int64_t> before(n, 0), after(n, 0), full(n);
    for (size_t i = 0; i < n; ++i) full[i] = (in[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1;
    if (padType == "custom") {
        const auto pad = k.optionalInts("pad").value_or(std::vector<int64_t>(2 * n, 0));
        if (pad.size() != 2 * n) k.fail("pad has " + std::to_string(pad.size()) + " values");
        for (size_t i = 0; i < n; ++i) before[i] = pad[2 * i], after[i] = pad[2 * i + 1];
    } else if (padType == "same" || padType == "same_lower") {
        for (size_t i = 0; i < n; ++i) {
            const int64_t total = std::max<int64_t>(0, full[i] - in[i] * strides[i]);
            const int64_t small = total / 2, large = total - small;
            before[i] = padType == "same" ? small : large;
            after[i] = padType == "same" ? large : small;
        }
    } else if (padType != "valid") {
        k.fail("unknown pad_type '" + padType + "'");
    }

    // Symmetric removal is torch's `padding`; the rest is cut after the convolution.
    std::vector<int64_t> padding(n), outputPadding(n, 0), extraAfter(n);
    for (size_t i = 0; i < n; ++i) {
        padding[i] = std::min(before[i], after[i]);
        extraAfter[i] = after[i] - padding[i];
    }
    std::vector<int64_t> extraBefore(n);
    for (size_t i = 0; i < n; ++i) extraBefore[i] = before[i] - padding[i];
    if (auto shape = k.optionalInts("output_shape")) {
        if (shape->size() != n + 2) k.fail("output_shape must have " + std::to_string(n + 2) + " values");
        for (size_t i = 0; i < n; ++i) {
            const int64_t natural = full[i] - before[i] - after[i];
            const int64_t want = (*shape)[i + 2];
            // Rows beyond the natural size are rows the cut would have removed, or output_padding.
            int64_t grow = want - natural;
            const int64_t fromCut = std::min(std::max<int64_t>(grow, 0), extraAfter[i]);
            extraAfter[i] -= fromCut;
            grow -= fromCut;
            if (grow > 0)
                outputPadding[i] = grow;
            else if (grow < 0)
                extraAfter[i] -= grow;
        }
    }
    at::Tensor y = at::convolution(x, weight, bias(k), strides, padding, dilations, /*transposed=*/true, outputPadding,
                                   k.getInt("groups"));
    for (size_t i = 0; i < n; ++i) {
        const int64_t dim = static_cast<int64_t>(i) + 2;
        if (extraBefore[i] || extraAfter[i])
            y = y.narrow(dim, extraBefore[i], y.size(dim) - extraBefore[i] - extraAfter[i]);
    }
    return y;
}

}  // namespace

void populateConvolutionKernels(KernelTable& t) {
    t.add("conv", conv);
    t.add("conv_transpose", convTranspose);
}

TS2COREML_FAMILY(KernelTable, Convolution, populateConvolutionKernels)

}  // namespace ts2coreml::runtime
