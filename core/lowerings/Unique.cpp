// Unique values: aten::_unique2 (torch.unique without dim) and aten::unique_consecutive (dim=None).
//
// Core ML has no unique op; over the flattened input x [n]:
//   order = argsort(x), s = x[order]                  (unique_consecutive: s = x, no sort)
//   first[i] = i == 0 or s[i] != s[i-1]               (the start of each run of equal values)
//   starts = non_zero(first)                          ([U]: known only at run time)
//   values = s[starts]
//   inverse[order[i]] = cumsum(first)[i] - 1          (the run each element belongs to)
//   counts = [starts[1:], n] - starts
// torch's indices are int64; Core ML's are int32. Outputs not asked for are empty, as torch's.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

struct Runs {
    mil::Value* values;
    mil::Value* inverse;
    mil::Value* counts;
};

/// Runs of equal neighbours of `x` flattened (sorted first when `sort`), as described above.
Runs runsOf(LoweringContext& ctx, mil::Value* x, bool sort) {
    mil::Builder& b = ctx.builder();
    const bool isBool = typeOf(x).dtype == DType::Bool;
    mil::Value* flat = b.add("reshape", {{"x", isBool ? castTo(b, x, DType::Int32) : x}, {"shape", b.ints({-1})}});
    if (staticDim(flat, 0) == 0) ctx.fail(ctx.opName() + " of an empty tensor is not supported");
    mil::Value* order = nullptr;
    mil::Value* s = flat;
    if (sort) {
        order = b.add("argsort", {{"x", flat}, {"axis", int64_t{0}}, {"ascending", true}});
        s = b.add("gather", {{"x", flat}, {"indices", order}, {"axis", int64_t{0}}});
    }
    auto part = [&](mil::Value* v, int64_t begin, int64_t end, bool toEnd) {
        return b.add(
            "slice_by_index",
            {{"x", v}, {"begin", b.ints({begin})}, {"end", b.ints({end})}, {"end_mask", boolVector(b, {toEnd})}});
    };
    mil::Value* changed = b.add("not_equal", {{"x", part(s, 1, 0, true)}, {"y", part(s, 0, -1, false)}});
    mil::Value* first =
        b.add("concat", {{"values", std::vector<mil::Value*>{boolVector(b, {true}), changed}}, {"axis", int64_t{0}}});
    mil::Value* starts = b.add("reshape", {{"x", b.add("non_zero", {{"x", first}})}, {"shape", b.ints({-1})}});

    Runs r{};
    r.values = b.add("gather", {{"x", s}, {"indices", starts}, {"axis", int64_t{0}}});
    if (isBool) r.values = castTo(b, r.values, DType::Bool);

    mil::Value* run = b.add(
        "sub",
        {{"x", b.add("cumsum", {{"x", castTo(b, first, DType::Int32)}, {"axis", int64_t{0}}})}, {"y", b.intScalar(1)}});
    if (order)
        run = b.add("scatter",
                    {{"data", run}, {"indices", order}, {"updates", run}, {"axis", int64_t{0}}, {"mode", "update"}});
    std::vector<Arg> sizes = dimArgs(b, x, 0, rankOf(x));
    r.inverse =
        rankOf(x) == 0 ? b.add("reshape", {{"x", run}, {"shape", std::vector<int64_t>{}}}) : reshapeTo(ctx, run, sizes);

    mil::Value* total = shapeSlice(b, flat, 0, 1);
    mil::Value* ends =
        b.add("concat", {{"values", std::vector<mil::Value*>{part(starts, 1, 0, true), total}}, {"axis", int64_t{0}}});
    r.counts = b.add("sub", {{"x", ends}, {"y", starts}});
    return r;
}

void bindRuns(LoweringContext& ctx, const Runs& r, bool inverse, bool counts) {
    mil::Builder& b = ctx.builder();
    auto empty = [&] { return b.constant(mil::ConstData::fromInts({}, {0})); };
    ctx.bind(0, r.values);
    ctx.bind(1, inverse ? r.inverse : empty());
    ctx.bind(2, counts ? r.counts : empty());
}

// _unique2(self, sorted=True, return_inverse=False, return_counts=False)
void lowerUnique2(LoweringContext& ctx) {
    // torch 1.13's CPU kernel with sorted=False returns the values in the order of a hash table's
    // buckets, which no Core ML op reproduces.
    if (!ctx.getBool("sorted"))
        ctx.fail(
            "torch.unique with sorted=False returns the values in the order of torch's hash table, which Core ML "
            "cannot reproduce; use sorted=True");
    const Runs r = runsOf(ctx, ctx.tensor("self"), true);
    bindRuns(ctx, r, ctx.getBool("return_inverse"), ctx.getBool("return_counts"));
}

// unique_consecutive(self, return_inverse=False, return_counts=False, dim=None)
void lowerUniqueConsecutive(LoweringContext& ctx) {
    if (!ctx.isNone("dim"))
        ctx.fail("unique_consecutive along a dim is not supported (only of the flattened tensor, dim=None)");
    const Runs r = runsOf(ctx, ctx.tensor("self"), false);
    bindRuns(ctx, r, ctx.getBool("return_inverse"), ctx.getBool("return_counts"));
}

}  // namespace

void populateUniqueLowerings(Registry& r) {
    r.add("aten::_unique2", lowerUnique2);
    r.add("aten::unique_consecutive", lowerUniqueConsecutive);
}

TS2COREML_FAMILY(Registry, Unique, populateUniqueLowerings)

}  // namespace ts2coreml::lowering
