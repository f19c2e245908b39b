// Tensor shape and layout: views and reshapes, permutations, joining, broadcasting, shape queries
// (size, numel, dim) and layout no-ops (contiguous, clone). Slicing and splitting are in Indexing.cpp.
//
// Shapes are emitted as constants whenever the input's type makes them static; dims known only at
// run time come from MIL `shape` and flow as rank-0 int32 values ("dynamic scalars").
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>

namespace ts2coreml::lowering {
namespace {

/// An int-list argument (a reshape target, expand sizes) as one Arg per entry; entries may be
/// dynamic scalars.
std::vector<Arg> intListArgs(const LoweringContext& ctx, const std::string& name) {
    const Arg& a = ctx.arg(name);
    if (a.isList()) return a.elements();
    std::vector<Arg> out;
    for (int64_t v : intList(ctx, name)) out.push_back(Arg::constant(mil::Literal(v)));
    return out;
}

int64_t intOf(const Arg& a) { return std::get<int64_t>(a.literal()); }

/// Layout-only ops (contiguous, clone, detach) pass their input through.
void lowerIdentity(LoweringContext& ctx) { ctx.bind(0, ctx.arg("self")); }

// view/reshape(self, shape): entries may be -1 or computed at run time.
LoweringFn reshapeFrom(const char* shapeName) {
    return [shapeName](LoweringContext& ctx) {
        ctx.bind(0, reshapeTo(ctx, ctx.tensor("self"), intListArgs(ctx, shapeName)));
    };
}

// flatten(self, start_dim, end_dim) merges dims [start_dim, end_dim] into one.
void lowerFlatten(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    if (rank == 0) return ctx.bind(0, b.add("reshape", {{"x", x}, {"shape", std::vector<int64_t>{1}}}));
    const int64_t start = normalizeDim(ctx, ctx.getInt("start_dim"), rank, "start_dim");
    const int64_t end = normalizeDim(ctx, ctx.getInt("end_dim"), rank, "end_dim");
    if (start > end) ctx.fail("flatten start_dim must not come after end_dim");
    if (start == end) return ctx.bind(0, x);

    // Static sizes of the result, -1 where unknown.
    std::vector<int64_t> sizes;
    int unknown = 0;
    for (int64_t i = 0; i < rank; ++i) {
        auto d = staticDim(x, i);
        if (i > start && i <= end) {
            if (!d)
                sizes.back() = -1;
            else if (sizes.back() >= 0)
                sizes.back() *= *d;
            continue;
        }
        sizes.push_back(d ? *d : -1);
    }
    for (int64_t s : sizes) unknown += s < 0;
    if (unknown <= 1) return ctx.bind(0, b.add("reshape", {{"x", x}, {"shape", sizes}}));

    // Several unknown dims: shape(x)[:start] ++ [prod(shape(x)[start:end+1])] ++ shape(x)[end+1:]
    std::vector<mil::Value*> parts;
    if (start > 0) parts.push_back(shapeSlice(b, x, 0, start));
    parts.push_back(
        b.add("reduce_prod",
              {{"x", shapeSlice(b, x, start, end + 1)}, {"axes", std::vector<int64_t>{0}}, {"keep_dims", true}}));
    if (end + 1 < rank) parts.push_back(shapeSlice(b, x, end + 1, rank));
    mil::Value* shape = b.add("concat", {{"values", parts}, {"axis", int64_t{0}}});
    ctx.bind(0, b.add("reshape", {{"x", x}, {"shape", shape}}));
}

void lowerPermute(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    std::vector<int64_t> perm;
    for (int64_t d : intList(ctx, "dims")) perm.push_back(normalizeDim(ctx, d, rankOf(x), "dims"));
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
        if (sorted[i] != static_cast<int64_t>(i) || sorted.size() != static_cast<size_t>(rankOf(x)))
            ctx.fail("dims must be a permutation of the input's " + std::to_string(rankOf(x)) + " dimensions");
    ctx.bind(0, ctx.builder().add("transpose", {{"x", x}, {"perm", perm}}));
}

void lowerTranspose(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    if (rank < 2) return ctx.bind(0, x);
    const int64_t d0 = normalizeDim(ctx, ctx.getInt("dim0"), rank, "dim0");
    const int64_t d1 = normalizeDim(ctx, ctx.getInt("dim1"), rank, "dim1");
    if (d0 == d1) return ctx.bind(0, x);
    std::vector<int64_t> perm(static_cast<size_t>(rank));
    for (int64_t i = 0; i < rank; ++i) perm[static_cast<size_t>(i)] = i;
    std::swap(perm[static_cast<size_t>(d0)], perm[static_cast<size_t>(d1)]);
    ctx.bind(0, ctx.builder().add("transpose", {{"x", x}, {"perm", perm}}));
}

/// The tensors of a list argument, cast to their common torch result dtype.
std::vector<mil::Value*> promotedTensors(LoweringContext& ctx, const std::string& name) {
    std::vector<mil::Value*> values = ctx.tensors(name);
    if (values.empty()) ctx.fail("'" + name + "' is an empty list");
    DType common = values.front()->type().dtype;
    for (mil::Value* v : values) common = promote(common, v->type().dtype);
    for (mil::Value*& v : values) v = castTo(ctx.builder(), v, common);
    return values;
}

void lowerCat(LoweringContext& ctx) {
    std::vector<mil::Value*> values = promotedTensors(ctx, "tensors");
    if (values.size() == 1) return ctx.bind(0, values.front());
    const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rankOf(values.front()), "dim");
    ctx.bind(0, ctx.builder().add("concat", {{"values", values}, {"axis", axis}}));
}

void lowerStack(LoweringContext& ctx) {
    std::vector<mil::Value*> values = promotedTensors(ctx, "tensors");
    const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rankOf(values.front()) + 1, "dim");
    if (values.size() == 1)
        return ctx.bind(
            0, ctx.builder().add("expand_dims", {{"x", values.front()}, {"axes", std::vector<int64_t>{axis}}}));
    ctx.bind(0, ctx.builder().add("stack", {{"values", values}, {"axis", axis}}));
}

void lowerUnsqueeze(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x) + 1, "dim");
    ctx.bind(0, ctx.builder().add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{axis}}}));
}

// squeeze(self[, dim]): removes size-1 dims; a dim of another size is left alone (torch's rule).
void lowerSqueeze(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    std::vector<int64_t> axes;
    if (ctx.hasArg("dim")) {
        if (rank == 0) return ctx.bind(0, x);
        const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
        auto d = staticDim(x, axis);
        if (d && *d != 1) return ctx.bind(0, x);
        axes.push_back(axis);
    } else {
        // Only dims known to be 1: a run-time dim is assumed not to be.
        for (int64_t i = 0; i < rank; ++i)
            if (staticDim(x, i) == std::optional<int64_t>(1)) axes.push_back(i);
    }
    if (axes.empty()) return ctx.bind(0, x);
    ctx.bind(0, ctx.builder().add("squeeze", {{"x", x}, {"axes", axes}}));
}

/// `x` with leading unit dims added up to `rank` (broadcasting aligns trailing dims).
mil::Value* withLeadingDims(mil::Builder& b, mil::Value* x, int64_t rank) {
    const int64_t missing = rank - rankOf(x);
    if (missing <= 0) return x;
    std::vector<int64_t> axes;
    for (int64_t i = 0; i < missing; ++i) axes.push_back(i);
    return b.add("expand_dims", {{"x", x}, {"axes", axes}});
}

/// Broadcasts `x` to `target` (entries: constants, -1 = keep, or dynamic scalars) with `tile`:
/// reps = target / size, computed at run time when a size is not static.
mil::Value* broadcastTo(LoweringContext& ctx, mil::Value* x, std::vector<Arg> target) {
    mil::Builder& b = ctx.builder();
    const int64_t rank = static_cast<int64_t>(target.size());
    if (rank < rankOf(x)) ctx.fail("the expanded size has fewer dims than the input " + x->type().str());
    x = withLeadingDims(b, x, rank);
    std::vector<int64_t> reps;
    bool isStatic = true;
    for (int64_t i = 0; i < rank; ++i) {
        Arg& t = target[static_cast<size_t>(i)];
        auto have = staticDim(x, i);
        if (isIntConstant(t) && intOf(t) == -1) {
            reps.push_back(1);
            continue;
        }
        if (isIntConstant(t) && have) {
            if (*have != intOf(t) && *have != 1)
                ctx.fail("cannot expand dim " + std::to_string(i) + " of size " + std::to_string(*have) + " to " +
                         std::to_string(intOf(t)));
            reps.push_back(*have == intOf(t) ? 1 : intOf(t));
            continue;
        }
        isStatic = false;
        reps.push_back(0);
    }
    if (isStatic) {
        if (std::all_of(reps.begin(), reps.end(), [](int64_t r) { return r == 1; })) return x;
        return b.add("tile", {{"x", x}, {"reps", reps}});
    }
    for (int64_t i = 0; i < rank; ++i) {  // -1 keeps the input's size
        Arg& t = target[static_cast<size_t>(i)];
        if (isIntConstant(t) && intOf(t) == -1) t = dimArg(b, x, i);
    }
    mil::Value* want = shapeTensor(ctx, target);
    mil::Value* have = b.add("shape", {{"x", x}});
    return b.add("tile", {{"x", x}, {"reps", b.add("floor_div", {{"x", want}, {"y", have}})}});
}

void lowerExpand(LoweringContext& ctx) { ctx.bind(0, broadcastTo(ctx, ctx.tensor("self"), intListArgs(ctx, "size"))); }

void lowerExpandAs(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* other = ctx.tensor("other");
    std::vector<Arg> target;
    for (int64_t i = 0; i < rankOf(other); ++i) target.push_back(dimArg(b, other, i));
    ctx.bind(0, broadcastTo(ctx, ctx.tensor("self"), std::move(target)));
}

// repeat(self, repeats): tile, after giving self as many dims as `repeats` has.
void lowerRepeat(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const std::vector<int64_t> repeats = intList(ctx, "repeats");
    mil::Value* x = ctx.tensor("self");
    if (static_cast<int64_t>(repeats.size()) < rankOf(x)) ctx.fail("repeats has fewer entries than the input has dims");
    x = withLeadingDims(b, x, static_cast<int64_t>(repeats.size()));
    ctx.bind(0, b.add("tile", {{"x", x}, {"reps", repeats}}));
}

void lowerPixelShuffle(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    if (rankOf(x) != 4) ctx.fail("pixel_shuffle supports 4-D inputs, got " + x->type().str());
    ctx.bind(0, ctx.builder().add("pixel_shuffle", {{"x", x}, {"upscale_factor", ctx.getInt("upscale_factor")}}));
}

// size(self, dim) -> int; size(self) -> int[]. Static dims are constants.
void lowerSize(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    if (ctx.hasArg("dim")) return ctx.bind(0, dimArg(b, x, normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim")));
    std::vector<Arg> dims;
    mil::Value* shape = nullptr;  // one `shape` op serves every run-time dim
    for (int64_t i = 0; i < rankOf(x); ++i) {
        if (auto d = staticDim(x, i)) {
            dims.push_back(Arg::constant(mil::Literal(*d)));
            continue;
        }
        if (!shape) shape = b.add("shape", {{"x", x}});
        dims.push_back(Arg::dynamicScalar(b.add("gather", {{"x", shape}, {"indices", i}, {"axis", int64_t{0}}})));
    }
    ctx.bind(0, makeList(std::move(dims)));
}

void lowerNumel(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t n = x->type().numel();
    if (n >= 0) return ctx.bind(0, Arg::constant(mil::Literal(n)));
    mil::Value* shape = b.add("shape", {{"x", x}});
    ctx.bind(0, Arg::dynamicScalar(b.add("reduce_prod", {{"x", shape}, {"keep_dims", false}})));
}

void lowerDim(LoweringContext& ctx) { ctx.bind(0, Arg::constant(mil::Literal(rankOf(ctx.tensor("self"))))); }

}  // namespace

void populateShapeLowerings(Registry& r) {
    r.add("aten::contiguous", lowerIdentity);
    r.add("aten::clone", lowerIdentity);
    r.add("aten::detach", lowerIdentity);
    r.add("aten::view", reshapeFrom("size"));
    r.add("aten::reshape", reshapeFrom("shape"));
    r.add("aten::flatten", lowerFlatten);
    r.add("aten::permute", lowerPermute);
    r.add("aten::transpose", lowerTranspose);
    r.add("aten::cat", lowerCat);
    r.add("aten::concat", lowerCat);
    r.add("aten::stack", lowerStack);
    r.add("aten::unsqueeze", lowerUnsqueeze);
    r.add("aten::squeeze", lowerSqueeze);
    r.add("aten::expand", lowerExpand);
    r.add("aten::expand_as", lowerExpandAs);
    r.add("aten::repeat", lowerRepeat);
    r.add("aten::pixel_shuffle", lowerPixelShuffle);
    r.add("aten::size", lowerSize);
    r.add("aten::numel", lowerNumel);
    r.add("aten::dim", lowerDim);
}

TS2COREML_FAMILY(Registry, Shape, populateShapeLowerings)

}  // namespace ts2coreml::lowering
