// MIL ops that select or write elements by index (coremltools ops/defs/iOS15/scatter_gather.py,
// tensor_transformation.py's slices, tensor_operation.py's non_zero and band_part; iOS16 gather
// batch_dims; iOS18 slice_update). Negative indices count from the end of their dimension.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <algorithm>

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

/// One dimension of x[begin:end:stride] as the equivalent forward slice: elements start,
/// start + step, ... (count of them), read in reverse when the stride is negative.
struct DimSlice {
    int64_t start = 0, count = 0, step = 1;
    bool reversed = false;
    bool squeeze = false;
};

// numpy slicing (Python's slice.indices(n)): masked bounds are "from the start" / "to the end"
// in the stride's direction; squeeze_mask takes the single element x[begin].
std::vector<DimSlice> sliceDims(const KernelContext& k, const at::Tensor& x) {
    const size_t rank = static_cast<size_t>(x.dim());
    const std::vector<int64_t> begin = k.getInts("begin"), end = k.getInts("end");
    const std::vector<int64_t> stride = k.optionalInts("stride").value_or(std::vector<int64_t>(rank, 1));
    auto mask = [&](const std::string& name) {
        std::vector<int64_t> m = k.optionalInts(name).value_or(std::vector<int64_t>(rank, 0));
        if (m.size() != rank)
            k.fail(name + " has " + std::to_string(m.size()) + " values, x has rank " + std::to_string(rank));
        return m;
    };
    const auto beginMask = mask("begin_mask"), endMask = mask("end_mask"), squeezeMask = mask("squeeze_mask");
    if (begin.size() != rank || end.size() != rank || stride.size() != rank)
        k.fail("begin, end and stride need one value per dimension of x (rank " + std::to_string(rank) + ")");
    std::vector<DimSlice> out(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t n = x.size(static_cast<int64_t>(i));
        const int64_t s = stride[i];
        DimSlice& d = out[i];
        if (s == 0) k.fail("stride must not be 0");
        if (squeezeMask[i]) {
            const int64_t b = begin[i] < 0 ? begin[i] + n : begin[i];
            if (b < 0 || b >= n)
                k.fail("index " + std::to_string(begin[i]) + " is out of range for size " + std::to_string(n));
            d = {b, 1, 1, false, true};
            continue;
        }
        int64_t first, last;  // Python's start and stop
        if (s > 0) {
            auto clamp = [n](int64_t v) { return v < 0 ? std::max<int64_t>(0, v + n) : std::min(v, n); };
            first = beginMask[i] ? 0 : clamp(begin[i]);
            last = endMask[i] ? n : clamp(end[i]);
            d.count = std::max<int64_t>(0, (last - first + s - 1) / s);
            d.start = first;
            d.step = s;
        } else {
            auto clamp = [n](int64_t v) { return v < 0 ? std::max<int64_t>(-1, v + n) : std::min(v, n - 1); };
            first = beginMask[i] ? n - 1 : clamp(begin[i]);
            last = endMask[i] ? -1 : clamp(end[i]);
            d.count = std::max<int64_t>(0, (first - last + (-s) - 1) / (-s));
            // Elements first, first + s, ..., read forwards from the last of them.
            d.start = d.count > 0 ? first + (d.count - 1) * s : 0;
            d.step = -s;
            d.reversed = true;
        }
    }
    return out;
}

/// The forward-slice view of x (no copy), dimensions kept.
at::Tensor sliceView(const at::Tensor& x, const std::vector<DimSlice>& dims) {
    at::Tensor v = x;
    for (size_t i = 0; i < dims.size(); ++i) {
        const auto& d = dims[i];
        const auto dim = static_cast<int64_t>(i);
        v = d.count == 0 ? v.narrow(dim, 0, 0) : v.slice(dim, d.start, d.start + (d.count - 1) * d.step + 1, d.step);
    }
    return v;
}

at::Tensor sliceByIndex(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const auto dims = sliceDims(k, x);
    at::Tensor v = sliceView(x, dims);
    std::vector<int64_t> flips, squeezed;
    for (size_t i = 0; i < dims.size(); ++i) {
        if (dims[i].reversed) flips.push_back(static_cast<int64_t>(i));
        if (dims[i].squeeze) squeezed.push_back(static_cast<int64_t>(i));
    }
    if (!flips.empty()) v = v.flip(flips);
    for (auto it = squeezed.rbegin(); it != squeezed.rend(); ++it) v = v.squeeze(*it);
    return v;
}

// slice_update: x with the slice slice_by_index would read replaced by update.
at::Tensor sliceUpdate(const KernelContext& k) {
    at::Tensor y = k.raw("x").clone();
    const auto dims = sliceDims(k, y);
    at::Tensor view = sliceView(y, dims);
    at::Tensor update = k.raw("update").to(y.scalar_type());
    std::vector<int64_t> flips;
    for (size_t i = 0; i < dims.size(); ++i) {
        if (dims[i].squeeze && update.dim() < view.dim()) update = update.unsqueeze(static_cast<int64_t>(i));
        if (dims[i].reversed) flips.push_back(static_cast<int64_t>(i));
    }
    if (!flips.empty()) update = update.flip(flips);
    view.copy_(update.expand_as(view));
    return y;
}

// slice_by_size: x[begin[i] : begin[i] + size[i]], size -1 running to the end.
at::Tensor sliceBySize(const KernelContext& k) {
    at::Tensor x = k.raw("x");
    const std::vector<int64_t> begin = k.getInts("begin"), size = k.getInts("size");
    for (int64_t i = 0; i < x.dim(); ++i) {
        const int64_t n = x.size(i);
        const int64_t b =
            begin[static_cast<size_t>(i)] < 0 ? begin[static_cast<size_t>(i)] + n : begin[static_cast<size_t>(i)];
        const int64_t s = size[static_cast<size_t>(i)] < 0 ? n - b : size[static_cast<size_t>(i)];
        x = x.narrow(i, b, s);
    }
    return x;
}

/// Indices as int64 with negative values counted from the end of a dimension of size n.
at::Tensor wrapIndices(const at::Tensor& indices, int64_t n) {
    const at::Tensor i = indices.to(at::kLong);
    return at::where(i < 0, i + n, i);
}

// gather: x.shape[:axis] + indices.shape[batch_dims:] + x.shape[axis + 1:]; with batch_dims, each
// of the leading batch entries gathers with its own indices.
at::Tensor gatherOne(const at::Tensor& x, const at::Tensor& indices, int64_t axis) {
    const at::Tensor flat = x.index_select(axis, wrapIndices(indices, x.size(axis)).reshape({-1}));
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
    shape.insert(shape.end(), indices.sizes().begin(), indices.sizes().end());
    shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
    return flat.reshape(shape);
}

at::Tensor gather(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const at::Tensor indices = k.raw("indices");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), x.dim());
    const int64_t batchDims = k.getInt("batch_dims");
    if (batchDims == 0) return gatherOne(x, indices, axis);
    std::vector<int64_t> batch(x.sizes().begin(), x.sizes().begin() + batchDims);
    std::vector<int64_t> xs{-1}, is{-1};
    xs.insert(xs.end(), x.sizes().begin() + batchDims, x.sizes().end());
    is.insert(is.end(), indices.sizes().begin() + batchDims, indices.sizes().end());
    const at::Tensor bx = x.reshape(xs), bi = indices.reshape(is);
    std::vector<at::Tensor> parts;
    for (int64_t b = 0; b < bx.size(0); ++b) parts.push_back(gatherOne(bx[b], bi[b], axis - batchDims));
    const at::Tensor stacked = at::stack(parts);
    std::vector<int64_t> shape = batch;
    shape.insert(shape.end(), stacked.sizes().begin() + 1, stacked.sizes().end());
    return stacked.reshape(shape);
}

// gather_along_axis: numpy's take_along_axis.
at::Tensor gatherAlongAxis(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), x.dim());
    return at::gather(x, axis, wrapIndices(k.raw("indices"), x.size(axis)));
}

/// Rows of `data` flattened over its first `depth` dimensions ([prod, rest...]), and the row of
/// each index vector in `indices` [..., depth].
std::pair<at::Tensor, at::Tensor> flatRows(const at::Tensor& data, const at::Tensor& indices) {
    const int64_t depth = indices.size(-1);
    at::Tensor linear = at::zeros(indices.sizes().slice(0, indices.dim() - 1), at::kLong);
    const at::Tensor idx = indices.to(at::kLong);
    for (int64_t d = 0; d < depth; ++d) {
        const int64_t n = data.size(d);
        at::Tensor i = idx.select(-1, d);
        linear = linear * n + at::where(i < 0, i + n, i);
    }
    std::vector<int64_t> rows{-1};
    rows.insert(rows.end(), data.sizes().begin() + depth, data.sizes().end());
    return {data.reshape(rows), linear};
}

// gather_nd: indices.shape[:-1] + x.shape[batch_dims + depth:].
at::Tensor gatherNdOne(const at::Tensor& x, const at::Tensor& indices) {
    auto [rows, linear] = flatRows(x, indices);
    const at::Tensor picked = rows.index_select(0, linear.reshape({-1}));
    std::vector<int64_t> shape(indices.sizes().begin(), indices.sizes().end() - 1);
    shape.insert(shape.end(), x.sizes().begin() + indices.size(-1), x.sizes().end());
    return picked.reshape(shape);
}

at::Tensor gatherNd(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const at::Tensor indices = k.raw("indices");
    const int64_t batchDims = k.getInt("batch_dims");
    if (batchDims == 0) return gatherNdOne(x, indices);
    std::vector<int64_t> xs{-1}, is{-1};
    xs.insert(xs.end(), x.sizes().begin() + batchDims, x.sizes().end());
    is.insert(is.end(), indices.sizes().begin() + batchDims, indices.sizes().end());
    const at::Tensor bx = x.reshape(xs), bi = indices.reshape(is);
    std::vector<at::Tensor> parts;
    for (int64_t b = 0; b < bx.size(0); ++b) parts.push_back(gatherNdOne(bx[b], bi[b]));
    const at::Tensor stacked = at::stack(parts);
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + batchDims);
    shape.insert(shape.end(), stacked.sizes().begin() + 1, stacked.sizes().end());
    return stacked.reshape(shape);
}

// Scatter modes: update overwrites, the others combine data and updates. div divides data by the
// update; sub subtracts it.
at::Tensor indexCombine(const KernelContext& k, const at::Tensor& data, int64_t axis, const at::Tensor& index,
                        const at::Tensor& updates) {
    const std::string mode = k.getString("mode");
    if (mode == "update") return data.index_copy(axis, index, updates);
    if (mode == "add") return data.index_add(axis, index, updates);
    if (mode == "sub") return data.index_add(axis, index, -updates);
    if (mode == "mul") return data.index_reduce(axis, index, updates, "prod");
    if (mode == "div") return data.index_reduce(axis, index, at::reciprocal(updates), "prod");
    if (mode == "max") return data.index_reduce(axis, index, updates, "amax");
    if (mode == "min") return data.index_reduce(axis, index, updates, "amin");
    k.fail("unknown scatter mode '" + mode + "'");
}

// scatter: updates [data.shape[:axis] + indices.shape + data.shape[axis + 1:]] combined into data
// at indices along axis.
at::Tensor scatter(const KernelContext& k) {
    const at::Tensor data = k.input("data");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), data.dim());
    const at::Tensor indices = k.raw("indices");
    const at::Tensor index = wrapIndices(indices, data.size(axis)).reshape({-1});
    std::vector<int64_t> shape(data.sizes().begin(), data.sizes().end());
    shape[static_cast<size_t>(axis)] = index.numel();
    const at::Tensor updates = k.input("updates").to(data.scalar_type()).reshape(shape);
    return indexCombine(k, data, axis, index, updates);
}

// scatter_along_axis: the inverse of gather_along_axis.
at::Tensor scatterAlongAxis(const KernelContext& k) {
    const at::Tensor data = k.input("data");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), data.dim());
    const at::Tensor index = wrapIndices(k.raw("indices"), data.size(axis));
    const at::Tensor updates = k.input("updates").to(data.scalar_type());
    const std::string mode = k.getString("mode");
    if (mode == "update") return data.scatter(axis, index, updates);
    if (mode == "add") return data.scatter_add(axis, index, updates);
    if (mode == "sub") return data.scatter_add(axis, index, -updates);
    if (mode == "mul") return data.scatter_reduce(axis, index, updates, "prod");
    if (mode == "div") return data.scatter_reduce(axis, index, at::reciprocal(updates), "prod");
    if (mode == "max") return data.scatter_reduce(axis, index, updates, "amax");
    if (mode == "min") return data.scatter_reduce(axis, index, updates, "amin");
    k.fail("unknown scatter mode '" + mode + "'");
}

// scatter_nd: the inverse of gather_nd.
at::Tensor scatterNd(const KernelContext& k) {
    const at::Tensor data = k.input("data");
    const at::Tensor indices = k.raw("indices");
    auto [rows, linear] = flatRows(data, indices);
    std::vector<int64_t> shape{linear.numel()};
    shape.insert(shape.end(), rows.sizes().begin() + 1, rows.sizes().end());
    const at::Tensor updates = k.input("updates").to(data.scalar_type()).reshape(shape);
    return indexCombine(k, rows, 0, linear.reshape({-1}), updates).reshape(data.sizes());
}

// non_zero: int32 [N, rank] coordinates of the non-zero elements, in row-major order.
at::Tensor nonZero(const KernelContext& k) { return at::nonzero(k.raw("x")); }

// band_part: keeps element (i, j) of the last two dimensions when (lower < 0 or i - j <= lower)
// and (upper < 0 or j - i <= upper).
at::Tensor bandPart(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const int64_t lower = k.getInt("lower"), upper = k.getInt("upper");
    const at::Tensor i = at::arange(x.size(-2), at::kLong).unsqueeze(1);
    const at::Tensor j = at::arange(x.size(-1), at::kLong).unsqueeze(0);
    at::Tensor keep = at::ones({x.size(-2), x.size(-1)}, at::kBool);
    if (lower >= 0) keep = keep & (i - j <= lower);
    if (upper >= 0) keep = keep & (j - i <= upper);
    return at::where(keep, x, at::zeros_like(x));
}

}  // namespace

void populateIndexingKernels(KernelTable& t) {
    t.add("slice_by_index", sliceByIndex);
    t.add("slice_by_size", sliceBySize);
    t.add("slice_update", sliceUpdate);
    t.add("gather", gather);
    t.add("gather_along_axis", gatherAlongAxis);
    t.add("gather_nd", gatherNd);
    t.add("scatter", scatter);
    t.add("scatter_along_axis", scatterAlongAxis);
    t.add("scatter_nd", scatterNd);
    t.add("non_zero", nonZero);
    t.add("band_part", bandPart);
}

TS2COREML_FAMILY(KernelTable, Indexing, populateIndexingKernels)

}  // namespace ts2coreml::runtime
