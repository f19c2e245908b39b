// Reduction MIL ops (coremltools ops/defs/iOS15/reduction.py) and cumsum. Without `axes` every
// dimension is reduced; keep_dims keeps reduced dimensions as size 1.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <algorithm>
#include <functional>

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

std::vector<int64_t> reductionAxes(const KernelContext& k, const at::Tensor& x) {
    if (auto given = k.optionalInts("axes"); given && !given->empty()) return normalizeAxes(k, *given, x.dim());
    std::vector<int64_t> all;
    for (int64_t i = 0; i < x.dim(); ++i) all.push_back(i);
    return all;
}

// Integer inputs reduce in fp64 (ATen's mean, norm and logs take floats); the executor casts the
// result back to the declared int32.
at::Tensor numeric(const at::Tensor& x) { return x.is_floating_point() ? x : x.to(at::kDouble); }

using Reducer = std::function<at::Tensor(const at::Tensor& x, at::IntArrayRef axes, bool keep)>;

void addReduction(KernelTable& t, const std::string& name, Reducer reduce) {
    t.add(name, [reduce](const KernelContext& k) {
        const at::Tensor x = k.input("x");
        if (x.dim() == 0) return x;
        return reduce(x, reductionAxes(k, x), k.getBool("keep_dims"));
    });
}

at::Tensor prod(const at::Tensor& x, at::IntArrayRef axes, bool keep) {
    // at::prod reduces one dimension at a time: highest first so the others keep their index.
    std::vector<int64_t> sorted(axes.begin(), axes.end());
    std::sort(sorted.rbegin(), sorted.rend());
    at::Tensor y = x;
    for (int64_t a : sorted) y = at::prod(y, a, keep);
    return y;
}

// reduce_argmax / reduce_argmin: int32 index of the first extreme along axis.
at::Tensor argExtreme(const KernelContext& k, bool max) {
    const at::Tensor x = k.input("x");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), x.dim());
    const bool keep = k.getBool("keep_dims");
    return max ? at::argmax(x, axis, keep) : at::argmin(x, axis, keep);
}

// cumsum: running sum along axis; exclusive starts from 0 (the element itself left out),
// reverse runs from the end.
at::Tensor cumsum(const KernelContext& k) {
    at::Tensor x = k.input("x");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), x.dim());
    const bool reverse = k.getBool("reverse");
    if (reverse) x = x.flip(axis);
    at::Tensor y = at::cumsum(x, axis, x.scalar_type());
    if (k.getBool("exclusive")) y = y - x;
    return reverse ? y.flip(axis) : y;
}

}  // namespace

void populateReductionKernels(KernelTable& t) {
    addReduction(t, "reduce_sum", [](const at::Tensor& x, at::IntArrayRef a, bool keep) { return x.sum(a, keep); });
    addReduction(t, "reduce_mean",
                 [](const at::Tensor& x, at::IntArrayRef a, bool keep) { return numeric(x).mean(a, keep); });
    addReduction(t, "reduce_prod", prod);
    addReduction(t, "reduce_max",
                 [](const at::Tensor& x, at::IntArrayRef a, bool keep) { return at::amax(x, a, keep); });
    addReduction(t, "reduce_min",
                 [](const at::Tensor& x, at::IntArrayRef a, bool keep) { return at::amin(x, a, keep); });
    addReduction(t, "reduce_l1_norm",
                 [](const at::Tensor& x, at::IntArrayRef a, bool keep) { return at::abs(x).sum(a, keep); });
    addReduction(t, "reduce_l2_norm", [](const at::Tensor& x, at::IntArrayRef a, bool keep) {
        const at::Tensor v = numeric(x);
        return at::sqrt((v * v).sum(a, keep));
    });
    addReduction(t, "reduce_log_sum",
                 [](const at::Tensor& x, at::IntArrayRef a, bool keep) { return at::log(numeric(x).sum(a, keep)); });
    addReduction(t, "reduce_log_sum_exp",
                 [](const at::Tensor& x, at::IntArrayRef a, bool keep) { return at::logsumexp(numeric(x), a, keep); });
    addReduction(t, "reduce_sum_square",
                 [](const at::Tensor& x, at::IntArrayRef a, bool keep) { return (x * x).sum(a, keep); });
    t.add("reduce_argmax", [](const KernelContext& k) { return argExtreme(k, true); });
    t.add("reduce_argmin", [](const KernelContext& k) { return argExtreme(k, false); });
    t.add("cumsum", cumsum);
}

TS2COREML_FAMILY(KernelTable, Reduction, populateReductionKernels)

}  // namespace ts2coreml::runtime
