// Selection: the k-th smallest value, sorting along dim 0, the positions of nonzero elements, and
// the insertion points of values into sorted sequences (searchsorted, bucketize).
//
//   kthvalue(self, k, dim=-1, keepdim=False) -> (values, indices)  = topk ascending, k-th slot
//   msort(self)                                                     = argsort + gather on dim 0
//   nonzero(self) / argwhere(self) -> [N, rank]                     = MIL non_zero (N known at run time)
//   nonzero_numpy(self) -> Tensor[]                                 = its columns
//   searchsorted(seq, values, right) / bucketize(values, bounds, right)
//       = how many entries of the (1-D, or batched along leading dims) sequence lie below each value
//         (at or below with right=True): a broadcast comparison summed over the sequence's last dim.
//
// torch's indices are int64; Core ML's are int32 (exact below 2^31 elements).
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

int64_t sortAxis(LoweringContext& ctx, mil::Value* x, int64_t dim) {
    if (rankOf(x) == 0) ctx.fail(ctx.opName() + " of a scalar is not supported (it needs at least one dim)");
    return normalizeDim(ctx, dim, rankOf(x), "dim");
}

void lowerKthvalue(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t axis = sortAxis(ctx, x, ctx.getInt("dim"));
    if (!ctx.isConstant("k")) ctx.fail("k must be a constant: Core ML's topk takes a constant k");
    const int64_t k = ctx.getInt("k");
    const auto size = staticDim(x, axis);
    if (k < 1 || (size && k > *size))
        ctx.fail("k = " + std::to_string(k) + " is out of range for dim " + std::to_string(axis) + " of " +
                 x->type().str());
    auto smallest = b.addOp("topk", {{"x", x}, {"k", k}, {"axis", axis}, {"ascending", true}});
    const bool keepdim = ctx.getBool("keepdim");
    for (size_t i = 0; i < 2; ++i) {
        mil::Value* kth = sliced(ctx, smallest[i], axis, k - 1, k);
        if (!keepdim) kth = b.add("squeeze", {{"x", kth}, {"axes", std::vector<int64_t>{axis}}});
        ctx.bind(i, kth);
    }
}

void lowerMsort(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t axis = sortAxis(ctx, x, 0);
    mil::Value* order = b.add("argsort", {{"x", x}, {"axis", axis}, {"ascending", true}});
    ctx.bind(0, b.add("gather_along_axis", {{"x", x}, {"indices", order}, {"axis", axis}}));
}

mil::Value* nonzeroPositions(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    if (rankOf(x) == 0) x = ctx.builder().add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
    return ctx.builder().add("non_zero", {{"x", x}});
}

void lowerNonzero(LoweringContext& ctx) {
    if (rankOf(ctx.tensor("self")) == 0)
        ctx.fail(ctx.opName() + " of a scalar is not supported (its result has no column)");
    ctx.bind(0, nonzeroPositions(ctx));
}

// nonzero_numpy(self): one 1-D index tensor per dim, as numpy's nonzero.
void lowerNonzeroNumpy(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const int64_t rank = rankOf(ctx.tensor("self"));
    if (rank == 0) ctx.fail("nonzero_numpy of a scalar is not supported");
    mil::Value* positions = nonzeroPositions(ctx);
    std::vector<Arg> columns;
    for (int64_t d = 0; d < rank; ++d)
        columns.push_back(Arg::tensor(b.add("gather", {{"x", positions}, {"indices", b.ints({d})}, {"axis", 1}})));
    for (auto& c : columns) c = Arg::tensor(b.add("squeeze", {{"x", c.value()}, {"axes", std::vector<int64_t>{1}}}));
    ctx.bind(0, makeList(std::move(columns)));
}

/// For each value, how many entries of `sorted` (along its last dim) are below it, or at or below
/// it with `right`. `sorted` is 1-D, or has the values' leading dims (then values' last dim is the
/// number of queries per row).
mil::Value* insertionPoints(LoweringContext& ctx, mil::Value* sorted, const Arg& valuesArg, bool right) {
    mil::Builder& b = ctx.builder();
    mil::Value* values = ctx.materialize(valuesArg);
    const DType common = promote(sorted->type().dtype, values->type().dtype);
    sorted = castTo(b, sorted, common);
    values = castTo(b, values, common);
    const int64_t rank = rankOf(sorted);
    if (rank == 0) ctx.fail(ctx.opName() + " needs a sorted sequence of at least one dim");
    if (rank > 1) {
        if (rankOf(values) != rank)
            ctx.fail(ctx.opName() + ": a " + std::to_string(rank) + "-D sorted sequence needs values of rank " +
                     std::to_string(rank) + ", got " + values->type().str());
        sorted = b.add("expand_dims", {{"x", sorted}, {"axes", std::vector<int64_t>{-2}}});
    }
    // [..., K, 1] against [..., 1, M] (or [M] when 1-D): [..., K, M], summed over M.
    mil::Value* query = b.add("expand_dims", {{"x", values}, {"axes", std::vector<int64_t>{-1}}});
    mil::Value* below = b.add(right ? "less_equal" : "less", {{"x", sorted}, {"y", query}});
    mil::Value* counted = castTo(b, below, DType::Int32);
    return b.add("reduce_sum", {{"x", counted}, {"axes", std::vector<int64_t>{-1}}, {"keep_dims", false}});
}

bool rightSide(LoweringContext& ctx) {
    bool right = ctx.hasArg("right") && ctx.getBool("right");
    if (ctx.hasArg("side") && !ctx.isNone("side")) {
        const std::string side = ctx.getString("side");
        if (side != "left" && side != "right") ctx.fail("side must be 'left' or 'right', got '" + side + "'");
        if (ctx.hasArg("right") && ctx.getBool("right") && side == "left")
            ctx.fail("side = 'left' contradicts right = True");
        right = side == "right";
    }
    return right;
}

void lowerSearchsorted(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* sorted = ctx.tensor("sorted_sequence");
    if (ctx.hasArg("sorter") && !ctx.isNone("sorter"))
        sorted = b.add("gather_along_axis",
                       {{"x", sorted}, {"indices", castTo(b, ctx.tensor("sorter"), DType::Int32)}, {"axis", -1}});
    ctx.bind(0, insertionPoints(ctx, sorted, ctx.arg("self"), rightSide(ctx)));
}

void lowerBucketize(LoweringContext& ctx) {
    mil::Value* boundaries = ctx.tensor("boundaries");
    if (rankOf(boundaries) != 1) ctx.fail("bucketize needs 1-D boundaries, got " + boundaries->type().str());
    ctx.bind(0, insertionPoints(ctx, boundaries, ctx.arg("self"), ctx.getBool("right")));
}

}  // namespace

void populateSelectionLowerings(Registry& r) {
    r.add("aten::kthvalue", lowerKthvalue);
    r.add("aten::msort", lowerMsort);
    r.add("aten::nonzero", lowerNonzero);
    r.add("aten::argwhere", lowerNonzero);
    r.add("aten::nonzero_numpy", lowerNonzeroNumpy);
    r.add("aten::searchsorted", lowerSearchsorted);
    r.add("aten::bucketize", lowerBucketize);
}

TS2COREML_FAMILY(Registry, Selection, populateSelectionLowerings)

}  // namespace ts2coreml::lowering
