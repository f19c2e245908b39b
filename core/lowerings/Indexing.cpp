// Indexing: slicing, narrowing, selecting and splitting tensors, gathering by index tensors
// (index_select, gather, embedding, x[idx]), and Python lists, whose slicing and indexing fold at
// conversion time.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <limits>

namespace ts2coreml::lowering {
namespace {

int64_t intOf(const Arg& a) { return std::get<int64_t>(a.literal()); }

/// x[..., start:end:step, ...] along `dim`; start/end may be None, constants or dynamic scalars.
/// torch clamps out-of-range bounds, and an `end` of INT64_MAX means "to the end".
mil::Value* emitSlice(LoweringContext& ctx, mil::Value* x, int64_t dim, const Arg& start, const Arg& end,
                      int64_t step) {
    mil::Builder& b = ctx.builder();
    const int64_t rank = rankOf(x);
    const size_t d = static_cast<size_t>(dim);
    if (step <= 0) ctx.fail("slice step must be positive, got " + std::to_string(step));
    auto size = staticDim(x, dim);
    auto clampBound = [&](int64_t v) {
        if (!size) return v;
        if (v < 0) v += *size;
        return std::clamp<int64_t>(v, 0, *size);
    };
    std::vector<Arg> begins(static_cast<size_t>(rank), Arg::constant(mil::Literal(int64_t{0})));
    std::vector<Arg> ends = begins;
    std::vector<bool> beginMask(static_cast<size_t>(rank), true), endMask(static_cast<size_t>(rank), true);
    if (isIntConstant(start)) {
        const int64_t v = clampBound(intOf(start));
        beginMask[d] = v == 0;
        begins[d] = Arg::constant(mil::Literal(v));
    } else if (!start.isNone()) {
        beginMask[d] = false;
        begins[d] = start;
    }
    if (isIntConstant(end)) {
        const int64_t raw = intOf(end);
        const int64_t v = clampBound(raw);
        const bool toEnd = size ? v >= *size : raw >= std::numeric_limits<int32_t>::max();
        endMask[d] = toEnd;
        ends[d] = Arg::constant(mil::Literal(toEnd ? int64_t{0} : v));
    } else if (!end.isNone()) {
        endMask[d] = false;
        ends[d] = end;
    }
    if (beginMask[d] && endMask[d] && step == 1) return x;
    std::vector<int64_t> strides(static_cast<size_t>(rank), 1);
    strides[d] = step;
    return b.add("slice_by_index", {{"x", x},
                                    {"begin", shapeTensor(ctx, begins)},
                                    {"end", shapeTensor(ctx, ends)},
                                    {"stride", strides},
                                    {"begin_mask", boolVector(b, beginMask)},
                                    {"end_mask", boolVector(b, endMask)}});
}

// slice.t(l, start, end, step): Python list slicing, done at conversion time (x.shape[2:]).
void lowerListSlice(LoweringContext& ctx) {
    std::vector<Arg> items = listElements(ctx, ctx.arg("l"));
    const int64_t n = static_cast<int64_t>(items.size());
    const int64_t step = ctx.getInt("step");
    if (step <= 0) ctx.fail("list slice step must be positive");
    auto bound = [&](const char* name, int64_t fallback) {
        auto v = ctx.optInt(name);
        if (!v) return fallback;
        return std::clamp<int64_t>(*v < 0 ? *v + n : *v, 0, n);
    };
    std::vector<Arg> out;
    for (int64_t i = bound("start", 0); i < bound("end", n); i += step) out.push_back(items[static_cast<size_t>(i)]);
    ctx.bind(0, makeList(std::move(out)));
}

// slice.Tensor(self, dim, start, end, step)
void lowerSlice(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    ctx.bind(0, emitSlice(ctx, x, dim, ctx.arg("start"), ctx.arg("end"), ctx.getInt("step")));
}

// narrow(self, dim, start, length) = self[..., start:start+length, ...]
void lowerNarrow(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    int64_t start = ctx.getInt("start");
    if (start < 0) {
        auto size = staticDim(x, dim);
        if (!size) ctx.fail("narrow with a negative start needs a static dimension");
        start += *size;
    }
    const Arg end = Arg::constant(mil::Literal(start + ctx.getInt("length")));
    ctx.bind(0, emitSlice(ctx, x, dim, Arg::constant(mil::Literal(start)), end, 1));
}

// select.int(self, dim, index): x[..., index, ...], dropping `dim`.
void lowerSelect(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
    const Arg& index = ctx.arg("index");
    if (!isIntConstant(index))
        return ctx.bind(
            0,
            b.add("gather", {{"x", x}, {"indices", castTo(b, ctx.materialize(index), DType::Int32)}, {"axis", dim}}));
    int64_t i = intOf(index);
    if (auto size = staticDim(x, dim)) {
        if (i < -*size || i >= *size)
            ctx.fail("index " + std::to_string(i) + " is out of range for dim of size " + std::to_string(*size));
        if (i < 0) i += *size;
    }
    std::vector<int64_t> begin(static_cast<size_t>(rank), 0), end(static_cast<size_t>(rank), 0);
    std::vector<bool> mask(static_cast<size_t>(rank), true), squeeze(static_cast<size_t>(rank), false);
    begin[static_cast<size_t>(dim)] = i;
    end[static_cast<size_t>(dim)] = i + 1;
    mask[static_cast<size_t>(dim)] = false;
    squeeze[static_cast<size_t>(dim)] = true;
    // x[-1] of a run-time size: [-1:0] would be empty, [-1:] (end masked) is the last element.
    std::vector<bool> endMask = mask;
    if (i == -1) endMask[static_cast<size_t>(dim)] = true;
    ctx.bind(0, b.add("slice_by_index", {{"x", x},
                                         {"begin", begin},
                                         {"end", end},
                                         {"begin_mask", boolVector(b, mask)},
                                         {"end_mask", boolVector(b, endMask)},
                                         {"squeeze_mask", boolVector(b, squeeze)}}));
}

// select.t(list, idx): an element of a list.
void lowerListSelect(LoweringContext& ctx) {
    std::vector<Arg> items = listElements(ctx, ctx.arg("list"));
    int64_t i = ctx.getInt("idx");
    const int64_t n = static_cast<int64_t>(items.size());
    if (i < -n || i >= n)
        ctx.fail("list index " + std::to_string(i) + " out of range for a list of " + std::to_string(n));
    ctx.bind(0, items[static_cast<size_t>(i < 0 ? i + n : i)]);
}

/// Splits `x` along `dim` into pieces of the given sizes and binds them as a list of tensors.
void bindSplit(LoweringContext& ctx, mil::Value* x, int64_t dim, const std::vector<int64_t>& sizes) {
    std::vector<Arg> pieces;
    if (sizes.size() == 1) {
        pieces.push_back(Arg::tensor(x));
    } else {
        for (mil::Value* v : ctx.builder().addOp("split", {{"x", x}, {"split_sizes", sizes}, {"axis", dim}}))
            pieces.push_back(Arg::tensor(v));
    }
    ctx.bind(0, Arg::list(std::move(pieces)));
}

int64_t staticDimOrFail(LoweringContext& ctx, mil::Value* x, int64_t dim) {
    auto size = staticDim(x, dim);
    if (!size)
        ctx.fail(ctx.opName() + " needs a static size along dim " + std::to_string(dim) + ", got " + x->type().str());
    return *size;
}

/// Pieces of `piece` elements and one smaller remainder, torch's split(int) rule.
std::vector<int64_t> evenPieces(int64_t total, int64_t piece) {
    std::vector<int64_t> sizes;
    for (int64_t at = 0; at < total; at += piece) sizes.push_back(std::min(piece, total - at));
    if (sizes.empty()) sizes.push_back(0);
    return sizes;
}

// chunk(self, chunks, dim): chunks of ceil(size / chunks), so possibly fewer than `chunks`.
void lowerChunk(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    const int64_t chunks = ctx.getInt("chunks");
    if (chunks <= 0) ctx.fail("chunks must be positive");
    const int64_t total = staticDimOrFail(ctx, x, dim);
    bindSplit(ctx, x, dim, evenPieces(total, std::max<int64_t>(1, (total + chunks - 1) / chunks)));
}

// split(self, split_size: int | int[], dim)
void lowerSplit(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    const std::string name = ctx.hasArg("split_sizes") ? "split_sizes" : "split_size";
    const Arg& size = ctx.arg(name);
    if (isIntConstant(size)) {
        if (intOf(size) <= 0) ctx.fail("split_size must be positive");
        return bindSplit(ctx, x, dim, evenPieces(staticDimOrFail(ctx, x, dim), intOf(size)));
    }
    bindSplit(ctx, x, dim, intList(ctx, name));
}

// unbind(self, dim): the slices along dim, each without that dim.
void lowerUnbind(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    const int64_t n = staticDimOrFail(ctx, x, dim);
    std::vector<mil::Value*> parts{x};
    if (n > 1)
        parts = b.addOp("split",
                        {{"x", x}, {"split_sizes", std::vector<int64_t>(static_cast<size_t>(n), 1)}, {"axis", dim}});
    std::vector<Arg> out;
    for (mil::Value* p : parts)
        out.push_back(Arg::tensor(b.add("squeeze", {{"x", p}, {"axes", std::vector<int64_t>{dim}}})));
    ctx.bind(0, Arg::list(std::move(out)));
}

/// An index tensor as MIL wants it: int32 (torch's indices are int64, which the program narrows).
mil::Value* indexTensor(LoweringContext& ctx, const std::string& name) {
    mil::Value* index = ctx.tensor(name);
    if (isFloat(index->type().dtype) || index->type().dtype == DType::Bool)
        ctx.fail("'" + name + "' must be an integer tensor, got " + index->type().str());
    return castTo(ctx.builder(), index, DType::Int32);
}

// index_select(self, dim, index): the slices of `dim` listed by the 1-D `index`.
void lowerIndexSelect(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    ctx.bind(0, ctx.builder().add("gather", {{"x", x}, {"indices", indexTensor(ctx, "index")}, {"axis", dim}}));
}

// gather(self, dim, index): out[i][j][k] = self[i][index[i][j][k]][k] for dim 1.
void lowerGather(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    mil::Value* index = indexTensor(ctx, "index");
    if (rankOf(index) != rankOf(x))
        ctx.fail("gather index must have the rank of the input, got " + index->type().str());
    ctx.bind(0, ctx.builder().add("gather_along_axis", {{"x", x}, {"indices", index}, {"axis", dim}}));
}

// embedding(weight, indices): the rows of `weight` listed by `indices`, of any shape.
void lowerEmbedding(LoweringContext& ctx) {
    ctx.bind(0, ctx.builder().add(
                    "gather",
                    {{"x", ctx.tensor("weight")}, {"indices", indexTensor(ctx, "indices")}, {"axis", int64_t{0}}}));
}

// index.Tensor(self, indices): x[..., idx, ...] with one integer index tensor among Nones, which
// is a gather along that axis. Several index tensors, or a bool mask, are refused.
void lowerAdvancedIndex(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const std::vector<Arg> indices = listElements(ctx, ctx.arg("indices"));
    int64_t axis = -1;
    for (size_t i = 0; i < indices.size(); ++i) {
        if (indices[i].isNone()) continue;
        if (axis >= 0) ctx.fail("indexing with more than one index tensor is not supported");
        axis = static_cast<int64_t>(i);
    }
    if (axis < 0) return ctx.bind(0, x);
    mil::Value* index = ctx.materialize(indices[static_cast<size_t>(axis)]);
    if (index->type().dtype == DType::Bool)
        ctx.fail("indexing with a bool mask has a data-dependent shape; not supported");
    if (isFloat(index->type().dtype)) ctx.fail("index tensors must be integers, got " + index->type().str());
    index = castTo(ctx.builder(), index, DType::Int32);
    ctx.bind(0, ctx.builder().add("gather", {{"x", x}, {"indices", index}, {"axis", axis}}));
}

}  // namespace

void populateIndexingLowerings(Registry& r) {
    r.add("aten::index_select", lowerIndexSelect);
    r.add("aten::gather", lowerGather);
    r.add("aten::embedding", lowerEmbedding);
    r.add("aten::index", lowerAdvancedIndex);
    r.add("aten::slice", lowerSlice);
    r.add("aten::slice.t", lowerListSlice);
    r.add("aten::narrow", lowerNarrow);
    r.add("aten::select", lowerSelect);
    r.add("aten::select.t", lowerListSelect);
    r.add("aten::chunk", lowerChunk);
    r.add("aten::split", lowerSplit);
    r.add("aten::unbind", lowerUnbind);
}

TS2COREML_FAMILY(Registry, Indexing, populateIndexingLowerings)

}  // namespace ts2coreml::lowering
