// Writing into tensors at indices: scatter (src, value, reduce), scatter_add, scatter_reduce,
// index_add, index_put (x[i] = v, accumulating or not), index_fill, masked_scatter, select_scatter,
// slice_scatter, and take_along_dim (the gather scatter inverts). MIL's scatter ops write at
// indices; fills and slice writes are a select on a mask (exact, and expressible as layers).
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ts2coreml::lowering {
namespace {

/// An index tensor as MIL wants it: int32 (torch's indices are int64, which the program narrows).
mil::Value* indicesOf(LoweringContext& ctx, mil::Value* index, const std::string& what) {
    if (isFloat(index->type().dtype) || index->type().dtype == DType::Bool)
        ctx.fail(ctx.opName() + " needs an integer " + what + ", got " + index->type().str());
    return castTo(ctx.builder(), index, DType::Int32);
}

/// A tensor shaped like `like`, every element `value`, of `dtype`.
mil::Value* filledLike(LoweringContext& ctx, mil::Value* like, const Arg& value, DType dtype) {
    return callTensor(ctx, "aten::full_like",
                      {{"self", Arg::tensor(like)}, {"fill_value", value}, {"dtype", intArg(torchCode(dtype))}});
}

Arg number(double v) { return Arg::constant(mil::Literal(v)); }

/// `mask` (a 1-D bool over dim `dim` of a rank-`rank` tensor) shaped to broadcast along that dim.
mil::Value* alongDim(LoweringContext& ctx, mil::Value* mask, int64_t dim, int64_t rank) {
    std::vector<Arg> shape{intArg(-1)};
    for (int64_t i = dim + 1; i < rank; ++i) shape.push_back(intArg(1));
    return reshapeTo(ctx, mask, shape);
}

/// torch's scatter of `updates` into `self` at `index` along `dim`, combined by the MIL `mode`.
/// torch lets src be larger than index (it is cut to index's size); index must match self in the
/// other dims, as MIL's scatter_along_axis needs.
mil::Value* scatteredAlong(LoweringContext& ctx, mil::Value* self, int64_t dim, mil::Value* index, mil::Value* updates,
                           const std::string& mode) {
    mil::Builder& b = ctx.builder();
    const int64_t rank = rankOf(self);
    if (rankOf(index) != rank || rankOf(updates) != rank)
        ctx.fail(ctx.opName() + " needs self, index and src of one rank, got " + self->type().str() + ", " +
                 index->type().str() + " and " + updates->type().str());
    for (int64_t i = 0; i < rank; ++i) {
        const auto n = staticDim(index, i), have = staticDim(self, i), given = staticDim(updates, i);
        if (i != dim && n && have && *n != *have)
            ctx.fail(ctx.opName() + " with an index smaller than self in dim " + std::to_string(i) +
                     " is not supported (index " + index->type().str() + ", self " + self->type().str() + ")");
        if (n && given && *given > *n) updates = sliced(ctx, updates, i, 0, *n);
    }
    return b.add("scatter_along_axis", {{"data", self},
                                        {"indices", indicesOf(ctx, index, "index")},
                                        {"updates", castTo(b, updates, self->type().dtype)},
                                        {"axis", dim},
                                        {"mode", mode}});
}

// scatter(self, dim, index, src | value, reduce): src's values, or one value, written at index;
// reduce "add" / "multiply" combines them with self's instead.
void lowerScatter(LoweringContext& ctx) {
    mil::Value* self = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(self), "dim");
    mil::Value* index = ctx.tensor("index");
    mil::Value* updates =
        ctx.hasArg("src") ? ctx.tensor("src") : filledLike(ctx, index, ctx.arg("value"), self->type().dtype);
    std::string mode = "update";
    if (ctx.hasArg("reduce")) {
        const std::string reduce = ctx.getString("reduce");
        if (reduce != "add" && reduce != "multiply")
            ctx.fail("scatter reduce must be 'add' or 'multiply', got '" + reduce + "'");
        mode = reduce == "add" ? "add" : "mul";
    }
    ctx.bind(0, scatteredAlong(ctx, self, dim, index, updates, mode));
}

void lowerScatterAdd(LoweringContext& ctx) {
    mil::Value* self = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(self), "dim");
    ctx.bind(0, scatteredAlong(ctx, self, dim, ctx.tensor("index"), ctx.tensor("src"), "add"));
}

// scatter_reduce(self, dim, index, src, reduce, include_self). Without self, the positions written
// first take the reduction's identity. mean divides the sum by the count of values combined.
void lowerScatterReduce(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* self = ctx.tensor("self");
    const DType dtype = self->type().dtype;
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(self), "dim");
    mil::Value* index = ctx.tensor("index");
    const std::string reduce = ctx.getString("reduce");
    const double highest = isFloat(dtype) ? std::numeric_limits<double>::infinity()
                                          : static_cast<double>(std::numeric_limits<int32_t>::max());
    const double lowest = isFloat(dtype) ? -highest : static_cast<double>(std::numeric_limits<int32_t>::min());
    const std::map<std::string, std::pair<std::string, double>> modes{{"sum", {"add", 0.0}},
                                                                      {"mean", {"add", 0.0}},
                                                                      {"prod", {"mul", 1.0}},
                                                                      {"amax", {"max", lowest}},
                                                                      {"amin", {"min", highest}}};
    auto it = modes.find(reduce);
    if (it == modes.end())
        ctx.fail("scatter_reduce reduce must be sum, prod, mean, amax or amin, got '" + reduce + "'");
    const bool includeSelf = ctx.getBool("include_self");
    mil::Value* base = self;
    if (!includeSelf)
        base =
            scatteredAlong(ctx, self, dim, index, filledLike(ctx, index, number(it->second.second), dtype), "update");
    mil::Value* out = scatteredAlong(ctx, base, dim, index, ctx.tensor("src"), it->second.first);
    if (reduce == "mean") {
        mil::Value* start = filledLike(ctx, self, number(includeSelf ? 1.0 : 0.0), dtype);
        mil::Value* count = scatteredAlong(ctx, start, dim, index, filledLike(ctx, index, number(1.0), dtype), "add");
        count = b.add("maximum", {{"x", count}, {"y", scalarLike(b, 1.0, count)}});
        out = b.add(isFloat(dtype) ? "real_div" : "floor_div", {{"x", out}, {"y", count}});
    }
    ctx.bind(0, out);
}

// index_add(self, dim, index, source, alpha): self with alpha * source's slices added at the
// positions index lists along dim.
void lowerIndexAdd(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* self = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(self), "dim");
    mil::Value* index = indicesOf(ctx, ctx.tensor("index"), "index");
    if (rankOf(index) != 1) ctx.fail("index_add needs a 1-D index, got " + index->type().str());
    mil::Value* source = castTo(b, ctx.tensor("source"), self->type().dtype);
    const double alpha = ctx.getDouble("alpha");
    if (alpha != 1.0) source = b.add("mul", {{"x", source}, {"y", scalarLike(b, alpha, source)}});
    ctx.bind(
        0, b.add("scatter", {{"data", self}, {"indices", index}, {"updates", source}, {"axis", dim}, {"mode", "add"}}));
}

/// `value` (a number or a 0-D tensor) as a scalar of self's dtype.
mil::Value* scalarOf(LoweringContext& ctx, const Arg& value, mil::Value* self) {
    mil::Builder& b = ctx.builder();
    if (isNumberLiteral(value)) return scalarLike(b, literalNumber(value), self);
    mil::Value* v = castTo(b, ctx.materialize(value), self->type().dtype);
    if (v->type().numel() != 1) ctx.fail(ctx.opName() + " needs a single value, got " + v->type().str());
    return rankOf(v) == 0 ? v : b.add("reshape", {{"x", v}, {"shape", std::vector<int64_t>{}}});
}

// index_fill(self, dim, index, value): the slices of dim that index lists set to value. A position
// is listed when any index equals it.
void lowerIndexFill(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* self = ctx.tensor("self");
    const int64_t rank = rankOf(self);
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
    mil::Value* index = reshapeTo(ctx, indicesOf(ctx, ctx.tensor("index"), "index"), {intArg(-1), intArg(1)});
    mil::Value* hits =
        castTo(b, b.add("equal", {{"x", index}, {"y", countTo(ctx, dimArg(b, self, dim))}}), DType::Int32);
    mil::Value* listed = b.add("greater", {{"x", b.add("reduce_sum", {{"x", hits}, {"axes", std::vector<int64_t>{0}}})},
                                           {"y", scalarConst(b, 0, DType::Int32)}});
    ctx.bind(0, b.add("select", {{"cond", alongDim(ctx, listed, dim, rank)},
                                 {"a", scalarOf(ctx, ctx.arg("value"), self)},
                                 {"b", self}}));
}

/// `self` with the positions where `mask` (broadcast to self) is true taking source's elements in
/// order: position p takes source.flatten()[count of true positions up to p - 1].
mil::Value* maskedScatter(LoweringContext& ctx, mil::Value* self, mil::Value* mask, mil::Value* source) {
    mil::Builder& b = ctx.builder();
    if (mask->type().dtype != DType::Bool) ctx.fail(ctx.opName() + " needs a bool mask, got " + mask->type().str());
    mask = callTensor(ctx, "aten::expand_as", {{"self", Arg::tensor(mask)}, {"other", Arg::tensor(self)}});
    mil::Value* flatMask = reshapeTo(ctx, mask, {intArg(-1)});
    mil::Value* taken = b.add("cumsum", {{"x", castTo(b, flatMask, DType::Int32)}, {"axis", int64_t{0}}});
    taken = b.add("maximum", {{"x", b.add("sub", {{"x", taken}, {"y", scalarConst(b, 1, DType::Int32)}})},
                              {"y", scalarConst(b, 0, DType::Int32)}});
    mil::Value* flatSource = reshapeTo(ctx, castTo(b, source, self->type().dtype), {intArg(-1)});
    mil::Value* picked = b.add("gather", {{"x", flatSource}, {"indices", taken}, {"axis", int64_t{0}}});
    mil::Value* out = b.add("select", {{"cond", flatMask}, {"a", picked}, {"b", reshapeTo(ctx, self, {intArg(-1)})}});
    return reshapeTo(ctx, out, dimArgs(b, self, 0, rankOf(self)));
}

void lowerMaskedScatter(LoweringContext& ctx) {
    ctx.bind(0, maskedScatter(ctx, ctx.tensor("self"), ctx.tensor("mask"), ctx.tensor("source")));
}

// select_scatter(self, src, dim, index): src (self without dim) written at position index of dim.
void lowerSelectScatter(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* self = ctx.tensor("self");
    const int64_t rank = rankOf(self);
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
    int64_t index = ctx.getInt("index");
    if (index < 0) {
        auto n = staticDim(self, dim);
        if (!n) ctx.fail("select_scatter with a negative index needs a static size along dim");
        index += *n;
    }
    mil::Value* at = b.add("equal", {{"x", countTo(ctx, dimArg(b, self, dim))},
                                     {"y", scalarConst(b, static_cast<double>(index), DType::Int32)}});
    mil::Value* src = b.add(
        "expand_dims", {{"x", castTo(b, ctx.tensor("src"), self->type().dtype)}, {"axes", std::vector<int64_t>{dim}}});
    ctx.bind(0, b.add("select", {{"cond", alongDim(ctx, at, dim, rank)}, {"a", src}, {"b", self}}));
}

// slice_scatter(self, src, dim, start, end, step): src written over self[..., start:end:step, ...].
// Step 1 joins self's two ends around src; a larger step selects, at the positions the slice
// covers, src's slices gathered to them.
void lowerSliceScatter(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* self = ctx.tensor("self");
    const int64_t rank = rankOf(self);
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
    const int64_t n = [&] {
        auto size = staticDim(self, dim);
        if (!size) ctx.fail("slice_scatter needs a static size along dim " + std::to_string(dim));
        return *size;
    }();
    auto bound = [&](const char* name, int64_t fallback) {
        auto v = ctx.optInt(name);
        return v ? std::clamp<int64_t>(*v < 0 ? *v + n : *v, 0, n) : fallback;
    };
    const int64_t start = bound("start", 0), end = std::max(bound("end", n), start), step = ctx.getInt("step");
    if (step <= 0) ctx.fail("slice_scatter step must be positive, got " + std::to_string(step));
    mil::Value* src = castTo(b, ctx.tensor("src"), self->type().dtype);
    if (start == end) return ctx.bind(0, self);
    if (step == 1) {
        std::vector<mil::Value*> parts;
        if (start > 0) parts.push_back(sliced(ctx, self, dim, 0, start));
        parts.push_back(src);
        if (end < n) parts.push_back(sliced(ctx, self, dim, end, n));
        return ctx.bind(0, parts.size() == 1 ? src : b.add("concat", {{"values", parts}, {"axis", dim}}));
    }
    const int64_t count = (end - start + step - 1) / step;
    std::vector<int64_t> source;
    std::vector<bool> covered;
    for (int64_t p = 0; p < n; ++p) {
        source.push_back(std::clamp<int64_t>((p - start) / step, 0, count - 1));
        covered.push_back(p >= start && p < end && (p - start) % step == 0);
    }
    mil::Value* spread = b.add("gather", {{"x", src}, {"indices", b.ints(source)}, {"axis", dim}});
    ctx.bind(0,
             b.add("select", {{"cond", alongDim(ctx, boolVector(b, covered), dim, rank)}, {"a", spread}, {"b", self}}));
}

/// The sizes `a` and `c` (of one rank) broadcast to in every dim but `dim`, which keeps each one's
/// own (-1): a static size other than 1 wins over one known at run time.
std::vector<Arg> broadcastExcept(mil::Builder& b, mil::Value* a, mil::Value* c, int64_t dim) {
    std::vector<Arg> sizes;
    for (int64_t i = 0; i < rankOf(a); ++i) {
        const auto sa = staticDim(a, i), sc = staticDim(c, i);
        if (i == dim)
            sizes.push_back(intArg(-1));
        else if (sa && *sa != 1)
            sizes.push_back(intArg(*sa));
        else if (sc && *sc != 1)
            sizes.push_back(intArg(*sc));
        else
            sizes.push_back(sa ? dimArg(b, c, i) : dimArg(b, a, i));
    }
    return sizes;
}

// take_along_dim(self, indices, dim): gather_along_axis after broadcasting the two in the other
// dims; without dim, both are flattened.
void lowerTakeAlongDim(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    mil::Value* indices = indicesOf(ctx, ctx.tensor("indices"), "indices");
    int64_t dim = 0;
    if (ctx.isNone("dim")) {
        x = reshapeTo(ctx, x, {intArg(-1)});
        indices = reshapeTo(ctx, indices, {intArg(-1)});
    } else {
        dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
        if (rankOf(indices) != rankOf(x))
            ctx.fail("take_along_dim needs self and indices of one rank, got " + x->type().str() + " and " +
                     indices->type().str());
        const Arg sizes = makeList(broadcastExcept(b, x, indices, dim));
        x = callTensor(ctx, "aten::expand", {{"self", Arg::tensor(x)}, {"size", sizes}});
        indices = callTensor(ctx, "aten::expand", {{"self", Arg::tensor(indices)}, {"size", sizes}});
    }
    ctx.bind(0, b.add("gather_along_axis", {{"x", x}, {"indices", indices}, {"axis", dim}}));
}

/// `index` (an int tensor indexing a dim of static size `n`, or unknown) with negative entries
/// counted from the end.
mil::Value* wrapped(LoweringContext& ctx, mil::Value* index, std::optional<int64_t> n) {
    mil::Builder& b = ctx.builder();
    if (!n) return index;
    mil::Value* negative = b.add("less", {{"x", index}, {"y", scalarConst(b, 0, DType::Int32)}});
    mil::Value* fromEnd = b.add("add", {{"x", index}, {"y", scalarConst(b, static_cast<double>(*n), DType::Int32)}});
    return b.add("select", {{"cond", negative}, {"a", fromEnd}, {"b", index}});
}

// index_put(self, indices, values, accumulate): x[i0, i1, ...] = values (or +=). A bool mask is
// masked_scatter; int index tensors on consecutive dims (after leading Nones) are the coordinates
// of a scatter_nd, those dims moved to the front for it and back after.
void lowerIndexPut(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    const bool accumulate = ctx.getBool("accumulate");
    mil::Value* values = castTo(b, ctx.tensor("values"), x->type().dtype);
    const std::vector<Arg> given = listElements(ctx, ctx.arg("indices"));
    std::vector<mil::Value*> indices;
    int64_t first = -1;
    for (size_t i = 0; i < given.size(); ++i) {
        if (given[i].isNone()) continue;
        if (first >= 0 && first + static_cast<int64_t>(indices.size()) != static_cast<int64_t>(i))
            ctx.fail("index_put with index tensors on dims that are not consecutive is not supported");
        if (first < 0) first = static_cast<int64_t>(i);
        indices.push_back(ctx.materialize(given[i]));
    }
    if (indices.empty()) {  // every element: values broadcast to self
        values = callTensor(ctx, "aten::expand_as", {{"self", Arg::tensor(values)}, {"other", Arg::tensor(x)}});
        return ctx.bind(0, accumulate ? b.add("add", {{"x", x}, {"y", values}}) : values);
    }
    if (indices.size() == 1 && indices[0]->type().dtype == DType::Bool) {
        if (first != 0) ctx.fail("index_put with a bool mask after other dims is not supported");
        // The mask covers the leading dims of self: its unit dims go last.
        mil::Value* mask = indices[0];
        const int64_t covered = rankOf(mask);
        std::vector<int64_t> trailing;
        for (int64_t i = covered; i < rank; ++i) trailing.push_back(i);
        if (!trailing.empty()) mask = b.add("expand_dims", {{"x", mask}, {"axes", trailing}});
        if (rankOf(values) <= rank - covered) {  // the same values at every masked position
            if (!accumulate) return ctx.bind(0, b.add("select", {{"cond", mask}, {"a", values}, {"b", x}}));
            mil::Value* added = b.add("select", {{"cond", mask}, {"a", values}, {"b", scalarLike(b, 0.0, x)}});
            return ctx.bind(0, b.add("add", {{"x", x}, {"y", added}}));
        }
        mil::Value* base = accumulate ? filledLike(ctx, x, number(0.0), x->type().dtype) : x;
        mil::Value* put = maskedScatter(ctx, base, mask, values);
        return ctx.bind(0, accumulate ? b.add("add", {{"x", x}, {"y", put}}) : put);
    }
    const auto k = static_cast<int64_t>(indices.size());
    for (int64_t i = 0; i < k; ++i)
        indices[static_cast<size_t>(i)] =
            wrapped(ctx, indicesOf(ctx, indices[static_cast<size_t>(i)], "index"), staticDim(x, first + i));
    std::vector<Arg> broadcast;
    for (mil::Value* v : indices) broadcast.push_back(Arg::tensor(v));
    broadcast = ctx.call("aten::broadcast_tensors", {{"tensors", Arg::list(broadcast)}}).at(0).elements();
    std::vector<mil::Value*> coordinates;
    for (const Arg& a : broadcast) coordinates.push_back(ctx.materialize(a));
    mil::Value* at = b.add("stack", {{"values", coordinates}, {"axis", int64_t{-1}}});  // [B..., k]
    const int64_t batch = rankOf(at) - 1;

    // Indexed dims first: x as [indexed..., before..., after...]; values, broadcast to the result
    // of x[...] (before..., B..., after...), as [B..., before..., after...].
    std::vector<int64_t> order;
    for (int64_t i = first; i < first + k; ++i) order.push_back(i);
    for (int64_t i = 0; i < rank; ++i)
        if (i < first || i >= first + k) order.push_back(i);
    std::vector<Arg> target = dimArgs(b, x, 0, first);
    for (int64_t i = 0; i < batch; ++i) target.push_back(dimArg(b, at, i));
    for (const Arg& d : dimArgs(b, x, first + k, rank)) target.push_back(d);
    if (rankOf(values) > static_cast<int64_t>(target.size()))
        ctx.fail("index_put values " + values->type().str() + " have more dims than the indexed result");
    values = callTensor(ctx, "aten::expand", {{"self", Arg::tensor(values)}, {"size", makeList(target)}});
    std::vector<int64_t> valueOrder;
    for (int64_t i = first; i < first + batch; ++i) valueOrder.push_back(i);
    for (int64_t i = 0; i < static_cast<int64_t>(target.size()); ++i)
        if (i < first || i >= first + batch) valueOrder.push_back(i);
    mil::Value* scattered = b.add("scatter_nd", {{"data", permuted(b, x, order)},
                                                 {"indices", at},
                                                 {"updates", permuted(b, values, valueOrder)},
                                                 {"mode", accumulate ? "add" : "update"}});
    std::vector<int64_t> back(order.size());
    for (size_t i = 0; i < order.size(); ++i) back[static_cast<size_t>(order[i])] = static_cast<int64_t>(i);
    ctx.bind(0, permuted(b, scattered, back));
}

}  // namespace

void populateScatterLowerings(Registry& r) {
    r.add("aten::scatter", lowerScatter);
    r.add("aten::scatter_add", lowerScatterAdd);
    r.add("aten::scatter_reduce", lowerScatterReduce);
    r.add("aten::index_add", lowerIndexAdd);
    r.add("aten::index_fill", lowerIndexFill);
    r.add("aten::index_put", lowerIndexPut);
    r.add("aten::masked_scatter", lowerMaskedScatter);
    r.add("aten::select_scatter", lowerSelectScatter);
    r.add("aten::slice_scatter", lowerSliceScatter);
    r.add("aten::take_along_dim", lowerTakeAlongDim);
}

TS2COREML_FAMILY(Registry, Scatter, populateScatterLowerings)

}  // namespace ts2coreml::lowering
