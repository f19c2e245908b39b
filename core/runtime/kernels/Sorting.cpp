// Sorting MIL ops (coremltools ops/defs/iOS15/tensor_operation.py: topk, argsort).
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

// topk: the k largest (smallest when ascending) values along axis, sorted, and their indices.
std::vector<at::Tensor> topk(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), x.dim());
    // A stable sort keeps equal values in index order, as a reference implementation would.
    const auto [values, indices] = at::sort(x, /*stable=*/true, axis, /*descending=*/!k.getBool("ascending"));
    const int64_t n = k.getInt("k");
    std::vector<at::Tensor> out{values.narrow(axis, 0, n)};
    if (k.numOutputs() > 1) out.push_back(indices.narrow(axis, 0, n));
    return out;
}

// argsort: the indices that sort x along axis, descending unless ascending.
at::Tensor argsort(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), x.dim());
    return std::get<1>(at::sort(x, /*stable=*/true, axis, /*descending=*/!k.getBool("ascending")));
}

}  // namespace

void populateSortingKernels(KernelTable& t) {
    t.addMulti("topk", topk);
    t.add("argsort", argsort);
}

TS2COREML_FAMILY(KernelTable, Sorting, populateSortingKernels)

}  // namespace ts2coreml::runtime
