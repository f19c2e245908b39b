// Arranging elements: rolls, tiles, splits, interleaved repeats, diagonals and triangles, grids,
// broadcasting and stacking, moved dims, channel shuffles, and the view/copy aliases torch gives
// the same ops (view_copy, alias, numpy_T, ...). Each is composed of ops both formats have
// (slices, concat, tile, reshape, transpose, gather, select) or of other torch ops (ctx.call).
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::lowering {
namespace {

int64_t staticSize(const LoweringContext& ctx, mil::Value* x, int64_t dim) {
    auto size = staticDim(x, dim);
    if (!size)
        ctx.fail(ctx.opName() + " needs a static size along dim " + std::to_string(dim) + ", got " + x->type().str());
    return *size;
}

mil::Value* concatenated(mil::Builder& b, std::vector<mil::Value*> values, int64_t axis) {
    return b.add("concat", {{"values", std::move(values)}, {"axis", axis}});
}

// ---- rolls, tiles, splits, repeats --------------------------------------------------------------

/// `x` rolled by `shift` along `dim`: the last `shift` elements move to the front.
mil::Value* rolledAlong(LoweringContext& ctx, mil::Value* x, int64_t dim, int64_t shift) {
    const int64_t n = staticSize(ctx, x, dim);
    const int64_t s = n == 0 ? 0 : ((shift % n) + n) % n;
    if (s == 0) return x;
    return concatenated(ctx.builder(), {sliced(ctx, x, dim, n - s, n), sliced(ctx, x, dim, 0, n - s)}, dim);
}

// roll(self, shifts, dims): without dims, self is rolled flat and reshaped back.
void lowerRoll(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const std::vector<int64_t> shifts = intList(ctx, "shifts");
    const std::vector<int64_t> dims = intList(ctx, "dims");
    if (dims.empty()) {
        if (shifts.size() != 1) ctx.fail("roll without dims takes one shift, got " + std::to_string(shifts.size()));
        mil::Value* flat = rolledAlong(ctx, reshapeTo(ctx, x, {intArg(-1)}), 0, shifts[0]);
        return ctx.bind(0, reshapeTo(ctx, flat, dimArgs(b, x, 0, rankOf(x))));
    }
    if (shifts.size() != dims.size())
        ctx.fail("roll has " + std::to_string(shifts.size()) + " shifts for " + std::to_string(dims.size()) + " dims");
    for (size_t i = 0; i < dims.size(); ++i)
        x = rolledAlong(ctx, x, normalizeDim(ctx, dims[i], rankOf(x), "dims"), shifts[i]);
    ctx.bind(0, x);
}

// tile(self, dims): repeat, with dims padded by leading ones to the rank of self.
void lowerTile(LoweringContext& ctx) {
    std::vector<int64_t> reps = intList(ctx, "dims");
    const auto rank = static_cast<size_t>(rankOf(ctx.tensor("self")));
    if (reps.size() < rank) reps.insert(reps.begin(), rank - reps.size(), 1);
    ctx.bind(0, callTensor(ctx, "aten::repeat", {{"self", ctx.arg("self")}, {"repeats", Arg::constant(reps)}}));
}

/// Binds the pieces of `x` along `dim` of the given sizes as a list of tensors (aten::split's).
void bindPieces(LoweringContext& ctx, mil::Value* x, int64_t dim, const std::vector<int64_t>& sizes) {
    int64_t total = 0;
    for (int64_t s : sizes) {
        if (s <= 0) ctx.fail(ctx.opName() + " would make an empty piece, which Core ML cannot hold");
        total += s;
    }
    if (auto n = staticDim(x, dim); n && *n != total)
        ctx.fail("the pieces' sizes add up to " + std::to_string(total) + ", but dim " + std::to_string(dim) + " of " +
                 x->type().str() + " has " + std::to_string(*n));
    ctx.bind(0, ctx.call("aten::split",
                         {{"self", Arg::tensor(x)}, {"split_size", Arg::constant(sizes)}, {"dim", intArg(dim)}})
                    .at(0));
}

void lowerSplitWithSizes(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    bindPieces(ctx, x, normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim"), intList(ctx, "split_sizes"));
}

// tensor_split(self, sections | indices | tensor_indices_or_sections, dim): `sections` pieces whose
// sizes differ by at most one (the first ones larger), or the pieces between the indices.
void lowerTensorSplit(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    const int64_t n = staticSize(ctx, x, dim);
    std::optional<int64_t> sections;
    std::vector<int64_t> indices;
    if (ctx.hasArg("sections")) {
        sections = ctx.getInt("sections");
    } else if (ctx.hasArg("indices")) {
        indices = intList(ctx, "indices");
    } else {
        const mil::ConstData* given = constantData(ctx.arg("tensor_indices_or_sections"));
        if (!given || given->sizes.size() > 1 || isFloat(given->dtype))
            ctx.fail("tensor_split needs tensor_indices_or_sections to be a constant int scalar or 1-D tensor");
        if (given->sizes.empty())
            sections = given->asInt();
        else
            indices = given->toInts();
    }
    std::vector<int64_t> sizes;
    if (sections) {
        if (*sections <= 0)
            ctx.fail("tensor_split needs a positive number of sections, got " + std::to_string(*sections));
        for (int64_t i = 0; i < *sections; ++i) sizes.push_back(n / *sections + (i < n % *sections ? 1 : 0));
    } else {
        int64_t at = 0;
        indices.push_back(n);
        for (int64_t index : indices) {
            const int64_t end = std::clamp<int64_t>(index < 0 ? index + n : index, 0, n);
            sizes.push_back(std::max<int64_t>(end - at, 0));
            at = std::max(at, end);
        }
    }
    bindPieces(ctx, x, dim, sizes);
}

// unflatten(self, dim, sizes): dim replaced by the sizes (one may be -1).
void lowerUnflatten(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
    std::vector<int64_t> sizes = intList(ctx, "sizes");
    // A -1 is worked out here when the dim is static, so the reshape keeps the other dims' sizes.
    auto unknown = std::find(sizes.begin(), sizes.end(), int64_t{-1});
    if (auto n = staticDim(x, dim); n && unknown != sizes.end()) {
        int64_t known = 1;
        for (int64_t s : sizes) known *= s == -1 ? 1 : s;
        if (known == 0 || *n % known != 0)
            ctx.fail("unflatten cannot split dim " + std::to_string(dim) + " of size " + std::to_string(*n));
        *unknown = *n / known;
    }
    std::vector<Arg> shape = dimArgs(b, x, 0, dim);
    for (int64_t s : sizes) shape.push_back(intArg(s));
    for (const Arg& d : dimArgs(b, x, dim + 1, rank)) shape.push_back(d);
    ctx.bind(0, reshapeTo(ctx, x, shape));
}

/// Each element of `x` along `dim` repeated `repeats` times in place: a new axis after dim, tiled
/// and merged into dim.
mil::Value* interleaved(LoweringContext& ctx, mil::Value* x, int64_t dim, const Arg& repeats) {
    mil::Builder& b = ctx.builder();
    const int64_t rank = rankOf(x);
    mil::Value* column = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{dim + 1}}});
    std::vector<Arg> reps(static_cast<size_t>(rank + 1), intArg(1));
    reps[static_cast<size_t>(dim + 1)] = repeats;
    mil::Value* tiled = b.add("tile", {{"x", column}, {"reps", shapeTensor(ctx, reps)}});
    std::vector<Arg> shape = dimArgs(b, x, 0, dim);
    auto n = staticDim(x, dim);
    shape.push_back(n && isIntConstant(repeats) ? intArg(*n * std::get<int64_t>(repeats.literal())) : intArg(-1));
    for (const Arg& d : dimArgs(b, x, dim + 1, rank)) shape.push_back(d);
    return reshapeTo(ctx, tiled, shape);
}

// repeat_interleave(self, repeats, dim) with an int repeat, or a constant tensor of them (one per
// element along dim: a gather of the repeated indices); without dim, self is flattened first.
// repeat_interleave(repeats) alone repeats each index i repeats[i] times.
void lowerRepeatInterleave(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const Arg& repeats = ctx.arg("repeats");
    const mil::ConstData* counts = constantData(repeats);
    if (!ctx.hasArg("self")) {
        if (!counts) ctx.fail("repeat_interleave of a tensor computed at run time has a data-dependent size");
        std::vector<int32_t> out;
        for (int64_t i = 0; i < counts->numel(); ++i)
            out.insert(out.end(), static_cast<size_t>(counts->asInt(static_cast<size_t>(i))), static_cast<int32_t>(i));
        if (out.empty()) ctx.fail("repeat_interleave would make an empty tensor, which Core ML cannot hold");
        return ctx.bind(0, b.constant(mil::ConstData::fromInts(out, {static_cast<int64_t>(out.size())})));
    }
    mil::Value* x = ctx.tensor("self");
    int64_t dim = 0;
    if (ctx.isNone("dim"))
        x = reshapeTo(ctx, x, {intArg(-1)});
    else
        dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
    if (!repeats.isTensor()) return ctx.bind(0, interleaved(ctx, x, dim, repeats));
    if (!counts) ctx.fail("repeat_interleave with repeats computed at run time has a data-dependent size");
    if (counts->numel() == 1) return ctx.bind(0, interleaved(ctx, x, dim, intArg(counts->asInt())));
    if (counts->numel() != staticSize(ctx, x, dim))
        ctx.fail("repeat_interleave has " + std::to_string(counts->numel()) + " repeats for dim " +
                 std::to_string(dim) + " of " + x->type().str());
    std::vector<int64_t> source;
    for (int64_t i = 0; i < counts->numel(); ++i)
        source.insert(source.end(), static_cast<size_t>(std::max<int64_t>(counts->asInt(static_cast<size_t>(i)), 0)),
                      i);
    if (source.empty()) ctx.fail("repeat_interleave would make an empty tensor, which Core ML cannot hold");
    ctx.bind(0, b.add("gather", {{"x", x}, {"indices", b.ints(source)}, {"axis", dim}}));
}

// ---- diagonals and triangles --------------------------------------------------------------------

// diagonal(self, offset, dim1, dim2): self without dim1 and dim2, and their diagonal (elements
// [i, i + offset]) as a new last dim. In the n x n block starting at the diagonal's first element,
// flattened, the diagonal is every (n + 1)-th element.
void lowerDiagonal(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    if (rank < 2) ctx.fail("diagonal needs a tensor of 2 or more dims, got " + x->type().str());
    const int64_t d1 = normalizeDim(ctx, ctx.getInt("dim1"), rank, "dim1");
    const int64_t d2 = normalizeDim(ctx, ctx.getInt("dim2"), rank, "dim2");
    if (d1 == d2) ctx.fail("diagonal dim1 and dim2 must differ, both are " + std::to_string(d1));
    const int64_t offset = ctx.getInt("offset");
    const int64_t top = std::max<int64_t>(-offset, 0), left = std::max<int64_t>(offset, 0);
    const int64_t n = std::min(staticSize(ctx, x, d1) - top, staticSize(ctx, x, d2) - left);
    if (n <= 0)
        ctx.fail("the diagonal at offset " + std::to_string(offset) + " of " + x->type().str() +
                 " is empty, which Core ML cannot hold");
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < rank; ++i)
        if (i != d1 && i != d2) perm.push_back(i);
    perm.push_back(d1);
    perm.push_back(d2);
    mil::Value* block =
        sliced(ctx, sliced(ctx, permuted(b, x, perm), rank - 2, top, top + n), rank - 1, left, left + n);
    std::vector<Arg> shape = dimArgs(b, block, 0, rank - 2);
    shape.push_back(intArg(n * n));
    ctx.bind(0, sliced(ctx, reshapeTo(ctx, block, shape), rank - 2, 0, n * n, n + 1));
}

/// A constant bool matrix [rows, cols], true where `keep(i, j)`.
mil::Value* maskMatrix(mil::Builder& b, int64_t rows, int64_t cols, const std::function<bool(int64_t, int64_t)>& keep) {
    std::vector<bool> mask;
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) mask.push_back(keep(i, j));
    return b.constant(mil::ConstData::fromBools(mask, {rows, cols}));
}

// diag_embed(self, offset, dim1, dim2): the last dim of self (n values) becomes the diagonal at
// `offset` of m x m planes (m = n + |offset|) along dims dim1 and dim2 of the result. Column j of
// a plane takes self[..., j - max(offset, 0)], kept only on the diagonal.
void lowerDiagEmbed(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    if (rankOf(x) == 0) ctx.fail("diag_embed needs a tensor of 1 or more dims");
    const int64_t rank = rankOf(x) + 1;
    const int64_t d1 = normalizeDim(ctx, ctx.getInt("dim1"), rank, "dim1");
    const int64_t d2 = normalizeDim(ctx, ctx.getInt("dim2"), rank, "dim2");
    if (d1 == d2) ctx.fail("diag_embed dim1 and dim2 must differ, both are " + std::to_string(d1));
    const int64_t offset = ctx.getInt("offset");
    const int64_t n = staticSize(ctx, x, rank - 2);
    const int64_t m = n + std::abs(offset);
    std::vector<int64_t> source;
    for (int64_t j = 0; j < m; ++j) source.push_back(std::clamp<int64_t>(j - std::max<int64_t>(offset, 0), 0, n - 1));
    mil::Value* row = m == n ? x : b.add("gather", {{"x", x}, {"indices", b.ints(source)}, {"axis", rank - 2}});
    row = b.add("expand_dims", {{"x", row}, {"axes", std::vector<int64_t>{rank - 2}}});
    mil::Value* onDiagonal = maskMatrix(b, m, m, [offset](int64_t i, int64_t j) { return j - i == offset; });
    mil::Value* planes = b.add("select", {{"cond", onDiagonal}, {"a", row}, {"b", scalarLike(b, 0.0, row)}});
    // The planes are the last two dims; dim1 and dim2 of the result take them, the rest keep their order.
    std::vector<int64_t> perm;
    for (int64_t i = 0, next = 0; i < rank; ++i) perm.push_back(i == d1 ? rank - 2 : i == d2 ? rank - 1 : next++);
    ctx.bind(0, permuted(b, planes, perm));
}

/// 0, 1, ..., size - 1 of dim `axis` of `x`: a constant when the size is static.
mil::Value* positions(LoweringContext& ctx, mil::Value* x, int64_t axis) {
    return countTo(ctx, dimArg(ctx.builder(), x, axis));
}

// triu(self, diagonal) keeps element (i, j) of the last two dims where j - i >= diagonal; tril
// where j - i <= diagonal. The rest is zero.
LoweringFn triangle(bool upper) {
    return [upper](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        mil::Value* x = ctx.tensor("self");
        const int64_t rank = rankOf(x);
        if (rank < 2) ctx.fail(ctx.opName() + " needs a tensor of 2 or more dims, got " + x->type().str());
        mil::Value* rows =
            b.add("expand_dims", {{"x", positions(ctx, x, rank - 2)}, {"axes", std::vector<int64_t>{1}}});
        mil::Value* above = b.add("sub", {{"x", positions(ctx, x, rank - 1)}, {"y", rows}});  // j - i
        mil::Value* keep =
            b.add(upper ? "greater_equal" : "less_equal",
                  {{"x", above}, {"y", scalarConst(b, static_cast<double>(ctx.getInt("diagonal")), DType::Int32)}});
        ctx.bind(0, b.add("select", {{"cond", keep}, {"a", x}, {"b", scalarLike(b, 0.0, x)}}));
    };
}

// ---- grids, broadcasting, stacking --------------------------------------------------------------

// meshgrid(tensors, indexing): operand i (0-D or 1-D) spread along dim i of the grid; "xy"
// (cartesian) indexing swaps the first two dims.
void lowerMeshgrid(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    std::vector<mil::Value*> values = ctx.tensors("tensors");
    const std::string indexing = ctx.hasArg("indexing") ? ctx.getString("indexing") : "ij";
    if (indexing != "ij" && indexing != "xy")
        ctx.fail("meshgrid indexing must be 'ij' or 'xy', got '" + indexing + "'");
    const size_t n = values.size();
    auto position = [&](size_t i) { return indexing == "xy" && n >= 2 && i < 2 ? 1 - i : i; };
    std::vector<Arg> grid(n);
    for (size_t i = 0; i < n; ++i) {
        if (rankOf(values[i]) > 1) ctx.fail("meshgrid takes 0-D or 1-D tensors, got " + values[i]->type().str());
        if (rankOf(values[i]) == 0) values[i] = reshapeTo(ctx, values[i], {intArg(1)});
        grid[position(i)] = dimArg(b, values[i], 0);
    }
    std::vector<Arg> out;
    for (size_t i = 0; i < n; ++i) {
        std::vector<Arg> shape(n, intArg(1));
        shape[position(i)] = intArg(-1);
        mil::Value* spread = reshapeTo(ctx, values[i], shape);
        out.push_back(
            Arg::tensor(callTensor(ctx, "aten::expand", {{"self", Arg::tensor(spread)}, {"size", makeList(grid)}})));
    }
    ctx.bind(0, Arg::list(std::move(out)));
}

/// `x` with unit dims added up to `rank` the way torch.atleast_{1,2,3}d adds them: [n] -> [1, n]
/// (2-D) or [1, n, 1] (3-D), [m, n] -> [m, n, 1].
mil::Value* atLeast(mil::Builder& b, mil::Value* x, int64_t rank) {
    const int64_t have = rankOf(x);
    if (have >= rank) return x;
    std::vector<int64_t> axes;
    if (have == 0)
        for (int64_t i = 0; i < rank; ++i) axes.push_back(i);
    else if (have == 1)
        axes = rank == 2 ? std::vector<int64_t>{0} : std::vector<int64_t>{0, 2};
    else
        axes = {2};
    return b.add("expand_dims", {{"x", x}, {"axes", axes}});
}

LoweringFn atLeastOp(int64_t rank) {
    return [rank](LoweringContext& ctx) {
        if (!ctx.hasArg("tensors")) return ctx.bind(0, atLeast(ctx.builder(), ctx.tensor("self"), rank));
        std::vector<Arg> out;
        for (mil::Value* v : ctx.tensors("tensors")) out.push_back(Arg::tensor(atLeast(ctx.builder(), v, rank)));
        ctx.bind(0, Arg::list(std::move(out)));
    };
}

// hstack / vstack / dstack: cat of the tensors made at least 1-, 2- or 3-D, along dim 1 (dim 0 when
// all are 1-D), 0 or 2.
LoweringFn stackOf(int64_t rank, int64_t dim) {
    return [rank, dim](LoweringContext& ctx) {
        std::vector<Arg> parts;
        bool allVectors = true;
        for (mil::Value* v : ctx.tensors("tensors")) {
            v = atLeast(ctx.builder(), v, rank);
            allVectors = allVectors && rankOf(v) == 1;
            parts.push_back(Arg::tensor(v));
        }
        const int64_t along = rank == 1 && allVectors ? 0 : dim;
        ctx.bind(0, callTensor(ctx, "aten::cat", {{"tensors", Arg::list(std::move(parts))}, {"dim", intArg(along)}}));
    };
}

// broadcast_tensors(tensors): each expanded to the broadcast shape, a static size winning over one
// known only at run time.
void lowerBroadcastTensors(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const std::vector<mil::Value*> values = ctx.tensors("tensors");
    int64_t rank = 0;
    for (mil::Value* v : values) rank = std::max(rank, rankOf(v));
    std::vector<Arg> shape;
    for (int64_t d = 0; d < rank; ++d) {
        Arg size = intArg(1);
        for (mil::Value* v : values) {
            const int64_t axis = d - (rank - rankOf(v));
            if (axis < 0) continue;
            auto s = staticDim(v, axis);
            if (s == std::optional<int64_t>(1)) continue;
            if (s) {
                size = intArg(*s);
                break;
            }
            if (isIntConstant(size)) size = dimArg(b, v, axis);
        }
        shape.push_back(size);
    }
    std::vector<Arg> out;
    for (mil::Value* v : values)
        out.push_back(
            Arg::tensor(callTensor(ctx, "aten::expand", {{"self", Arg::tensor(v)}, {"size", makeList(shape)}})));
    ctx.bind(0, Arg::list(std::move(out)));
}

// ---- moved dims and shuffles --------------------------------------------------------------------

// movedim(self, source, destination): each source dim goes to its destination; the other dims keep
// their order in the places left.
void lowerMovedim(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    const int64_t rank = rankOf(x);
    const std::vector<int64_t> source = intList(ctx, "source"), destination = intList(ctx, "destination");
    if (source.size() != destination.size())
        ctx.fail("movedim has " + std::to_string(source.size()) + " source dims and " +
                 std::to_string(destination.size()) + " destinations");
    std::vector<int64_t> perm(static_cast<size_t>(rank), -1);
    std::vector<bool> moved(static_cast<size_t>(rank), false);
    for (size_t i = 0; i < source.size(); ++i) {
        const auto s = static_cast<size_t>(normalizeDim(ctx, source[i], rank, "source"));
        const auto d = static_cast<size_t>(normalizeDim(ctx, destination[i], rank, "destination"));
        if (moved[s] || perm[d] >= 0) ctx.fail("movedim source and destination must not repeat a dim");
        perm[d] = static_cast<int64_t>(s);
        moved[s] = true;
    }
    size_t next = 0;
    for (int64_t& p : perm) {
        if (p >= 0) continue;
        while (moved[next]) ++next;
        p = static_cast<int64_t>(next++);
    }
    ctx.bind(0, permuted(ctx.builder(), x, perm));
}

LoweringFn reversedAlong(int64_t axis) {
    return [axis](LoweringContext& ctx) {
        mil::Value* x = ctx.tensor("self");
        if (rankOf(x) <= axis)
            ctx.fail(ctx.opName() + " needs a tensor of " + std::to_string(axis + 1) + " or more dims, got " +
                     x->type().str());
        ctx.bind(0, ctx.builder().add("reverse", {{"x", x}, {"axes", std::vector<int64_t>{axis}}}));
    };
}

// pixel_unshuffle(self, r): [N, C, H, W] -> [N, C*r*r, H/r, W/r], channel c*r*r + i*r + j holding
// pixel (i, j) of each r x r block. Batch and channels share one dim to stay within rank 5.
void lowerPixelUnshuffle(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    if (rankOf(x) != 4) ctx.fail("pixel_unshuffle supports 4-D inputs, got " + x->type().str());
    const int64_t r = ctx.getInt("downscale_factor");
    const int64_t c = staticSize(ctx, x, 1), h = staticSize(ctx, x, 2), w = staticSize(ctx, x, 3);
    if (r <= 0 || h % r != 0 || w % r != 0)
        ctx.fail("pixel_unshuffle needs H and W divisible by the factor " + std::to_string(r) + ", got " +
                 x->type().str());
    mil::Value* blocks = reshapeTo(ctx, x, {intArg(-1), intArg(h / r), intArg(r), intArg(w / r), intArg(r)});
    blocks = b.add("transpose", {{"x", blocks}, {"perm", std::vector<int64_t>{0, 2, 4, 1, 3}}});
    ctx.bind(0, reshapeTo(ctx, blocks, {dimArg(b, x, 0), intArg(c * r * r), intArg(h / r), intArg(w / r)}));
}

// channel_shuffle(self, groups): channels [g, C/g] transposed to [C/g, g].
void lowerChannelShuffle(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    if (rankOf(x) < 3) ctx.fail("channel_shuffle needs [N, C, *] inputs, got " + x->type().str());
    const int64_t groups = ctx.getInt("groups");
    const int64_t c = staticSize(ctx, x, 1);
    if (groups <= 0 || c % groups != 0)
        ctx.fail("channel_shuffle needs the channels (" + std::to_string(c) + ") divisible by groups (" +
                 std::to_string(groups) + ")");
    mil::Value* split = reshapeTo(ctx, x, {dimArg(b, x, 0), intArg(groups), intArg(c / groups), intArg(-1)});
    split = b.add("transpose", {{"x", split}, {"perm", std::vector<int64_t>{0, 2, 1, 3}}});
    ctx.bind(0, reshapeTo(ctx, split, dimArgs(b, x, 0, rankOf(x))));
}

// ---- aliases ------------------------------------------------------------------------------------

/// A lowering re-entering the registry with the torch op `key`, passing on the arguments `names`
/// the node has (every one in `required` must be there: other overloads are refused).
LoweringFn sameAs(std::string key, std::vector<std::string> required, std::vector<std::string> optional = {}) {
    return [key, required, optional](LoweringContext& ctx) {
        std::vector<std::pair<std::string, Arg>> args;
        for (const auto& name : required) {
            if (!ctx.hasArg(name))
                ctx.fail(ctx.opName() + (ctx.overload().empty() ? "" : "." + ctx.overload()) +
                         " is not supported (only the overload taking '" + name + "', as " + key + ")");
            args.emplace_back(name, ctx.arg(name));
        }
        for (const auto& name : optional)
            if (ctx.hasArg(name)) args.emplace_back(name, ctx.arg(name));
        const std::vector<Arg> out = ctx.call(key, args);
        for (size_t i = 0; i < out.size() && i < ctx.numOutputs(); ++i) ctx.bind(i, out[i]);
    };
}

void lowerAlias(LoweringContext& ctx) { ctx.bind(0, ctx.arg("self")); }

void lowerReshapeAs(LoweringContext& ctx) {
    mil::Value* other = ctx.tensor("other");
    ctx.bind(0, reshapeTo(ctx, ctx.tensor("self"), dimArgs(ctx.builder(), other, 0, rankOf(other))));
}

// _reshape_from_tensor(self, shape): the shape is a 1-D int tensor, possibly computed at run time.
void lowerReshapeFromTensor(LoweringContext& ctx) {
    mil::Value* shape = ctx.tensor("shape");
    if (rankOf(shape) != 1 || isFloat(shape->type().dtype))
        ctx.fail("_reshape_from_tensor needs a 1-D int shape, got " + shape->type().str());
    mil::Builder& b = ctx.builder();
    ctx.bind(0, b.add("reshape", {{"x", ctx.tensor("self")}, {"shape", castTo(b, shape, DType::Int32)}}));
}

void lowerShapeAsTensor(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    ctx.bind(0, shapeSlice(ctx.builder(), x, 0, rankOf(x)));
}

// numpy_T(self): every dim reversed (x.T).
void lowerNumpyT(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    std::vector<int64_t> perm;
    for (int64_t i = rankOf(x) - 1; i >= 0; --i) perm.push_back(i);
    ctx.bind(0, permuted(ctx.builder(), x, perm));
}

}  // namespace

void populateArrangementLowerings(Registry& r) {
    r.add("aten::roll", lowerRoll);
    r.add("aten::tile", lowerTile);
    r.add("aten::split_with_sizes", lowerSplitWithSizes);
    r.add("aten::tensor_split", lowerTensorSplit);
    r.add("aten::unflatten", lowerUnflatten);
    r.add("aten::repeat_interleave", lowerRepeatInterleave);
    r.add("aten::diagonal", lowerDiagonal);
    r.add("aten::diag_embed", lowerDiagEmbed);
    r.add("aten::triu", triangle(true));
    r.add("aten::tril", triangle(false));
    r.add("aten::meshgrid", lowerMeshgrid);
    r.add("aten::atleast_1d", atLeastOp(1));
    r.add("aten::atleast_2d", atLeastOp(2));
    r.add("aten::atleast_3d", atLeastOp(3));
    r.add("aten::hstack", stackOf(1, 1));
    r.add("aten::vstack", stackOf(2, 0));
    r.add("aten::dstack", stackOf(3, 2));
    r.add("aten::broadcast_tensors", lowerBroadcastTensors);
    r.add("aten::movedim", lowerMovedim);
    r.add("aten::moveaxis", lowerMovedim);
    r.add("aten::fliplr", reversedAlong(1));
    r.add("aten::flipud", reversedAlong(0));
    r.add("aten::pixel_unshuffle", lowerPixelUnshuffle);
    r.add("aten::channel_shuffle", lowerChannelShuffle);

    r.add("aten::view_copy", sameAs("aten::view", {"self", "size"}));
    r.add("aten::_unsafe_view", sameAs("aten::view", {"self", "size"}));
    r.add("aten::permute_copy", sameAs("aten::permute", {"self", "dims"}));
    r.add("aten::select_copy", sameAs("aten::select", {"self", "dim", "index"}));
    r.add("aten::slice_copy", sameAs("aten::slice", {"self", "dim", "start", "end", "step"}));
    r.add("aten::squeeze_copy", sameAs("aten::squeeze", {"self"}, {"dim"}));
    r.add("aten::unsqueeze_copy", sameAs("aten::unsqueeze", {"self", "dim"}));
    r.add("aten::transpose_copy", sameAs("aten::transpose", {"self", "dim0", "dim1"}));
    r.add("aten::expand_copy", sameAs("aten::expand", {"self", "size"}));
    r.add("aten::unbind_copy", sameAs("aten::unbind", {"self", "dim"}));
    r.add("aten::split_with_sizes_copy", sameAs("aten::split_with_sizes", {"self", "split_sizes"}, {"dim"}));
    r.add("aten::diagonal_copy", sameAs("aten::diagonal", {"self", "offset", "dim1", "dim2"}));
    r.add("aten::alias", lowerAlias);
    r.add("aten::alias_copy", lowerAlias);
    r.add("aten::reshape_as", lowerReshapeAs);
    r.add("aten::_reshape_from_tensor", lowerReshapeFromTensor);
    r.add("aten::_shape_as_tensor", lowerShapeAsTensor);
    r.add("aten::numpy_T", lowerNumpyT);
}

TS2COREML_FAMILY(Registry, Arrangement, populateArrangementLowerings)

}  // namespace ts2coreml::lowering
