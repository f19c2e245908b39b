// MIL ops that make a tensor from a shape or a range (coremltools ops/defs/iOS15/
// tensor_operation.py: fill, range_1d, one_hot; iOS16 fill_like). The result's dtype is the
// declared output dtype, applied by the executor.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

at::Tensor fill(const KernelContext& k) {
    return at::full(k.getInts("shape"), k.getDouble("value"), at::TensorOptions().dtype(at::kDouble));
}

at::Tensor fillLike(const KernelContext& k) {
    return at::full(k.raw("ref_tensor").sizes(), k.getDouble("value"), at::TensorOptions().dtype(at::kDouble));
}

// range_1d: [start, start + step, ...) up to end, exclusive.
at::Tensor range1d(const KernelContext& k) {
    const at::Tensor start = k.input("start");
    const auto options = at::TensorOptions().dtype(start.is_floating_point() ? at::kDouble : at::kLong);
    const double s = k.getDouble("start"), e = k.getDouble("end"), step = k.getDouble("step");
    if (step == 0) k.fail("step must not be 0");
    return start.is_floating_point() ? at::arange(s, e, step, options)
                                     : at::arange(k.getInt("start"), k.getInt("end"), k.getInt("step"), options);
}

// one_hot: a new dimension of one_hot_vector_size at axis, on_value where it equals the index,
// off_value elsewhere (an index outside [0, size) is off everywhere).
at::Tensor oneHot(const KernelContext& k) {
    const at::Tensor indices = k.raw("indices").to(at::kLong);
    const int64_t depth = k.getInt("one_hot_vector_size");
    const int64_t rank = indices.dim();
    int64_t axis = k.getInt("axis");
    if (axis < 0) axis += rank + 1;
    const at::Tensor hot = indices.unsqueeze(-1) == at::arange(depth, at::kLong);
    const auto on = at::scalar_tensor(k.getDouble("on_value"), at::kDouble);
    const auto off = at::scalar_tensor(k.getDouble("off_value"), at::kDouble);
    return at::where(hot, on, off).movedim(-1, axis);
}

}  // namespace

void populateTensorCreationKernels(KernelTable& t) {
    t.add("fill", fill);
    t.add("fill_like", fillLike);
    t.add("range_1d", range1d);
    t.add("one_hot", oneHot);
}

TS2COREML_FAMILY(KernelTable, TensorCreation, populateTensorCreationKernels)

}  // namespace ts2coreml::runtime
