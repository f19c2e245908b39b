// Helpers shared by the kernel families: axes, per-channel parameters, sliding-window padding.
#pragma once

#include "runtime/Kernel.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ts2coreml::runtime::kernels {

/// `axis` in [-rank, rank) made non-negative; fails naming the op otherwise.
int64_t normalizeAxis(const KernelContext& k, int64_t axis, int64_t rank);
std::vector<int64_t> normalizeAxes(const KernelContext& k, const std::vector<int64_t>& axes, int64_t rank);

/// A [C] parameter shaped [1, C, 1, ...] to broadcast against x of `rank` (channels in dim 1).
at::Tensor perChannel(const at::Tensor& param, int64_t rank);

/// Per spatial dimension, the padding before and after the input of conv and pooling.
struct WindowPadding {
    std::vector<int64_t> before, after;
    bool symmetric() const { return before == after; }
};

/// Padding by pad_type, as Core ML defines it:
///   valid       none
///   custom      pad[2i] before, pad[2i+1] after
///   same        total = max(0, (ceil(in / s) - 1) * s + effK - in), effK = (k - 1) * d + 1;
///               floor(total / 2) before, the rest (the larger half) after
///   same_lower  the same total, the larger half before
WindowPadding windowPadding(const KernelContext& k, const std::vector<int64_t>& spatialIn,
                            const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                            const std::vector<int64_t>& dilations);

/// x padded in its trailing spatial dimensions (one before/after pair per dimension) with `value`.
at::Tensor padSpatial(const at::Tensor& x, const WindowPadding& pad, double value);

/// Spatial sizes of x [N, C, *D].
std::vector<int64_t> spatialSizes(const at::Tensor& x);

/// A list parameter with one value per spatial dimension, or `fallback` repeated when omitted.
std::vector<int64_t> perSpatial(const KernelContext& k, const std::string& name, size_t n, int64_t fallback);

}  // namespace ts2coreml::runtime::kernels
