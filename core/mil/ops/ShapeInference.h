// Shape arithmetic shared by the MIL op schemas: broadcasting, axes, sliding windows (conv and
// pooling), slicing and reshaping, with symbolic dimensions kept wherever the result is still the
// same dimension and a fresh symbol wherever it is unknown until run time.
//
// These functions know nothing about ops; they throw ShapeError, which the schema wrapper
// (SchemaSupport.h) turns into an error naming the op.
#pragma once

#include <ts2coreml/Types.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ts2coreml::mil::shapes {

/// An invalid shape combination (non-broadcastable shapes, axis out of range, ...).
class ShapeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// "[1,3,s0,224]".
std::string str(const Shape& shape);

/// A new symbolic dimension, distinct from every other ("~17"): a size known only at run time.
Dim freshDim();

/// Same size at run time for certain: equal static sizes, or the same symbol.
bool sameDim(const Dim& a, const Dim& b);

/// Could be the same size at run time: equal static sizes, or either one symbolic.
bool compatibleDim(const Dim& a, const Dim& b);
bool compatibleShape(const Shape& a, const Shape& b);

/// numpy broadcasting of two shapes, aligned at the last dimension. A symbolic dimension
/// broadcast against 1 stays itself; against a static n > 1 it becomes n (it must be n at run
/// time); two different symbols give a fresh symbol.
Shape broadcast(const Shape& a, const Shape& b);

/// Axis in [-rank, rank) made non-negative.
int64_t normalizeAxis(int64_t axis, int64_t rank);
/// Each axis normalized; repeated axes are an error.
std::vector<int64_t> normalizeAxes(const std::vector<int64_t>& axes, int64_t rank);

/// f applied to a static dimension; for a symbolic one, a fresh symbol whose bounds are f of the
/// input's bounds (f must be non-decreasing). `keepIfIdentity` keeps the symbol when f(x) == x
/// is known to hold (scale 1, stride 1 without padding, ...).
template <typename F>
Dim mapDim(const Dim& d, F f, bool keepIfIdentity = false) {
    if (d.isStatic()) return Dim::fixed(f(d.size));
    if (keepIfIdentity) return d;
    Dim out = freshDim();
    out.lower = f(d.lower) < 0 ? 0 : f(d.lower);
    out.upper = d.upper >= 0 ? f(d.upper) : -1;
    return out;
}

/// Product of dimensions: static when all are, the dimension itself when it is the only one
/// that is not a static 1, else a fresh symbol.
Dim product(const std::vector<Dim>& dims);

/// Sliding-window geometry of conv and pooling, per spatial dimension.
struct Window {
    std::vector<int64_t> kernel;  ///< kernel sizes
    std::vector<int64_t> strides;
    std::vector<int64_t> dilations;
    std::vector<int64_t> pad;       ///< before/after pairs, used when padType is "custom"
    std::string padType = "valid";  ///< valid | same | same_lower | custom
    bool ceilMode = false;
};

/// Checks the window parameters against the number of spatial dimensions.
void checkWindow(const Window& w, size_t spatialRank);

/// Output spatial sizes of conv / pooling over `in` (spatial dims only):
///   valid/custom: out = floor((in + padTotal - effK) / s) + 1, effK = (k - 1) * d + 1
///   same:         out = ceil(in / s)
///   ceil_mode:    out = floor((in + padTotal - effK + s - 1) / s) + 1, minus one when the last
///                 window would start inside the right padding (only when padTotal > 0).
Shape windowOutput(const Shape& in, const Window& w);

/// Output spatial sizes of a transposed convolution:
///   valid:  (in - 1) * s + effK;  same: in * s;  custom: (in - 1) * s + effK - padBefore - padAfter.
Shape transposedWindowOutput(const Shape& in, const Window& w);

/// One dimension of numpy-style slicing x[begin:end:stride]. Unknown begin / end are nullopt;
/// masks mean "from the start" / "to the end" in the direction of the stride.
Dim sliceDim(const Dim& d, std::optional<int64_t> begin, std::optional<int64_t> end, int64_t stride, bool beginMask,
             bool endMask);

/// Shape after reshape to `target`: 0 copies the input dimension at the same position (the target
/// must then have the input's rank), one -1 takes whatever size is left.
Shape reshape(const Shape& from, const std::vector<int64_t>& target);

}  // namespace ts2coreml::mil::shapes
