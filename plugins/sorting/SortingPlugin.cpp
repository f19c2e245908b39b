// The sorting plugin: aten::topk, aten::sort and aten::argsort, which the built-ins lack and which
// classification heads (top-5) and detection post-processing (pre-NMS top-k) use.
//
//   topk(self, k, dim=-1, largest=True, sorted=True) -> (values, indices)  = MIL topk
//   sort(self, dim=-1, descending=False) -> (values, indices)              = argsort + gather_along_axis
//   argsort(self, dim=-1, descending=False) -> indices                      = MIL argsort
//
// torch's indices are int64; Core ML's are int32 (exact below 2^31 elements).
#include <ts2coreml/LoweringSupport.h>
#include <ts2coreml/Plugin.h>

namespace {

using namespace ts2coreml;

int64_t axisOf(LoweringContext& ctx, mil::Value* x) {
    const int64_t rank = lowering::rankOf(x);
    if (rank == 0) ctx.fail("cannot sort a scalar");
    return lowering::normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
}

void lowerTopk(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t axis = axisOf(ctx, x);
    if (!ctx.isConstant("k")) ctx.fail("k must be a constant: Core ML's topk takes a constant k");
    const int64_t k = ctx.getInt("k");
    const Dim& d = x->type().shape[static_cast<size_t>(axis)];
    if (k < 0 || (d.isStatic() && k > d.size))
        ctx.fail("k " + std::to_string(k) + " is out of range for dimension " + std::to_string(axis) + " of " +
                 x->type().str());
    // sorted=False leaves torch's order unspecified; Core ML's sorted order is one valid answer.
    auto out =
        ctx.builder().addOp("topk", {{"x", x}, {"k", k}, {"axis", axis}, {"ascending", !ctx.getBool("largest")}});
    ctx.bind(0, out[0]);
    ctx.bind(1, out[1]);
}

mil::Value* sortedIndices(LoweringContext& ctx, mil::Value* x, int64_t axis) {
    return ctx.builder().add("argsort", {{"x", x}, {"axis", axis}, {"ascending", !ctx.getBool("descending")}});
}

void lowerSort(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t axis = axisOf(ctx, x);
    mil::Value* indices = sortedIndices(ctx, x, axis);
    ctx.bind(0, ctx.builder().add("gather_along_axis", {{"x", x}, {"indices", indices}, {"axis", axis}}));
    ctx.bind(1, indices);
}

void lowerArgsort(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    ctx.bind(0, sortedIndices(ctx, x, axisOf(ctx, x)));
}

void registerSorting(Registry& registry) {
    registry.add("aten::topk", lowerTopk);
    registry.add("aten::sort", lowerSort);  // aten::sort.stable too (equal values may come in another order)
    registry.add("aten::argsort", lowerArgsort);
}

}  // namespace

TS2COREML_PLUGIN("sorting", "1.0", registerSorting)
