// MIL ops that select or write elements by index (coremltools ops/defs/iOS15/scatter_gather.py,
// tensor_transformation.py's slices, tensor_operation.py's non_zero and band_part; iOS16 gather
// batch_dims; iOS18 slice_update).
#include <algorithm>
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

const std::vector<std::string> kScatterModes{"update", "add", "sub", "mul", "div", "max", "min"};

int64_t rankOf(const OpView& v, const std::string& name) { return static_cast<int64_t>(v.type(name).rank()); }

// A rank-1 int input with one value per dimension of x.
void requirePerDimension(const OpView& v, const std::string& name) {
    requireRank(v, name, 1);
    const Dim& n = v.type(name).shape[0];
    const size_t rank = v.type("x").rank();
    if (!n.isStatic() || n.size != static_cast<int64_t>(rank))
        v.fail("input '" + name + "' must have one value per dimension of x " + v.type("x").str() + ", got " +
               v.type(name).str());
}

template <typename T>
std::vector<T> perDimensionParam(const OpView& v, const std::vector<T>& values, const std::string& name) {
    if (values.size() != v.type("x").rank())
        v.fail("input '" + name + "' has " + std::to_string(values.size()) + " values, x " + v.type("x").str() +
               " has rank " + std::to_string(v.type("x").rank()));
    return values;
}

// Shape of x[begin:end:stride] per dimension, without the squeezed dimensions.
Shape sliceShape(const OpView& v) {
    const TensorType& x = v.type("x");
    const size_t rank = x.rank();
    requirePerDimension(v, "begin");
    requirePerDimension(v, "end");
    const auto begin = constInts(v, "begin");
    const auto end = constInts(v, "end");
    const auto stride = perDimensionParam(v, intsParam(v, "stride", std::vector<int64_t>(rank, 1)), "stride");
    const auto beginMask = perDimensionParam(v, boolsParam(v, "begin_mask", rank), "begin_mask");
    const auto endMask = perDimensionParam(v, boolsParam(v, "end_mask", rank), "end_mask");
    const auto squeezeMask = perDimensionParam(v, boolsParam(v, "squeeze_mask", rank), "squeeze_mask");
    Shape out;
    for (size_t i = 0; i < rank; ++i) {
        if (squeezeMask[i]) continue;  // x[begin[i]]: the dimension goes
        auto b = begin ? std::optional<int64_t>((*begin)[i]) : std::nullopt;
        auto e = end ? std::optional<int64_t>((*end)[i]) : std::nullopt;
        out.push_back(shapes::sliceDim(x.shape[i], b, e, stride[i], beginMask[i], endMask[i]));
    }
    return out;
}

std::vector<TensorType> inferSliceBySize(const OpView& v) {
    const TensorType& x = v.type("x");
    requirePerDimension(v, "begin");
    requirePerDimension(v, "size");
    const auto begin = constInts(v, "begin");
    const auto size = constInts(v, "size");
    Shape out;
    for (size_t i = 0; i < x.rank(); ++i) {
        if (!size) {
            out.push_back(shapes::freshDim());
            continue;
        }
        const int64_t s = (*size)[i];
        const Dim& d = x.shape[i];
        if (s < -1) v.fail("size " + std::to_string(s) + " is invalid (sizes are >= 0, or -1 for 'to the end')");
        std::optional<int64_t> b;
        if (begin) b = (*begin)[i] < 0 && d.isStatic() ? (*begin)[i] + d.size : (*begin)[i];
        if (s >= 0) {
            if (b && d.isStatic() && (*b < 0 || *b + s > d.size))
                v.fail("slice [" + std::to_string(*b) + ", +" + std::to_string(s) + ") of dimension " +
                       std::to_string(i) + " is outside x " + x.str());
            out.push_back(Dim::fixed(s));
        } else if (b && d.isStatic()) {
            if (*b < 0 || *b > d.size)
                v.fail("begin " + std::to_string((*begin)[i]) + " is outside dimension " + std::to_string(i));
            out.push_back(Dim::fixed(d.size - *b));
        } else if (b && *b == 0) {
            out.push_back(d);
        } else {
            out.push_back(shapes::freshDim());
        }
    }
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferGather(const OpView& v) {
    const TensorType& x = v.type("x");
    const TensorType& indices = v.type("indices");
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), rankOf(v, "x"));
    const int64_t batchDims = intParam(v, "batch_dims");
    if (batchDims < 0 || batchDims >= rankOf(v, "x") || batchDims > rankOf(v, "indices"))
        v.fail("batch_dims " + std::to_string(batchDims) + " must be in [0, min(rank(x) - 1, rank(indices))]");
    if (batchDims > axis)
        v.fail("batch_dims " + std::to_string(batchDims) + " must not exceed axis " + std::to_string(axis));
    for (int64_t i = 0; i < batchDims; ++i)
        if (!shapes::compatibleDim(x.shape[i], indices.shape[i]))
            v.fail("x " + x.str() + " and indices " + indices.str() + " differ in batch dimension " +
                   std::to_string(i));
    // out = x.shape[:axis] + indices.shape[batch_dims:] + x.shape[axis + 1:]
    Shape out(x.shape.begin(), x.shape.begin() + axis);
    out.insert(out.end(), indices.shape.begin() + batchDims, indices.shape.end());
    out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferGatherAlongAxis(const OpView& v) {
    const TensorType& x = v.type("x");
    const TensorType& indices = v.type("indices");
    if (x.rank() != indices.rank()) v.fail("x " + x.str() + " and indices " + indices.str() + " must have one rank");
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), rankOf(v, "x"));
    for (int64_t i = 0; i < rankOf(v, "x"); ++i)
        if (i != axis && !shapes::compatibleDim(x.shape[i], indices.shape[i]))
            v.fail("x " + x.str() + " and indices " + indices.str() + " differ in dimension " + std::to_string(i) +
                   " (only the axis may differ)");
    return {tensor(x.dtype, indices.shape)};
}

// The index depth: the last dimension of indices, which must be static.
int64_t indexDepth(const OpView& v, int64_t batchDims, const std::string& target) {
    requireRank(v, "indices", 1, SIZE_MAX);
    const Dim& depth = v.type("indices").shape.back();
    if (!depth.isStatic()) v.fail("the last dimension of indices " + v.type("indices").str() + " must be static");
    if (batchDims < 0 || depth.size + batchDims > rankOf(v, target))
        v.fail("indices " + v.type("indices").str() + " index " + std::to_string(depth.size) +
               " dimensions past batch_dims " + std::to_string(batchDims) + " of " + target + " " +
               v.type(target).str());
    return depth.size;
}

// indices.shape[:-1] + data.shape[batch_dims + depth:]
Shape gatherNdShape(const OpView& v, const std::string& target, int64_t batchDims) {
    const int64_t depth = indexDepth(v, batchDims, target);
    const Shape& indices = v.type("indices").shape;
    const Shape& data = v.type(target).shape;
    Shape out(indices.begin(), indices.end() - 1);
    out.insert(out.end(), data.begin() + batchDims + depth, data.end());
    return out;
}

void checkUpdates(const OpView& v, const Shape& expected) {
    const TensorType& updates = v.type("updates");
    if (!shapes::compatibleShape(updates.shape, expected))
        v.fail("updates " + updates.str() + " must have shape " + shapes::str(expected));
}

std::vector<TensorType> inferScatter(const OpView& v) {
    const TensorType& data = v.type("data");
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), rankOf(v, "data"));
    requireOneOf(v, "mode", stringParam(v, "mode"), kScatterModes);
    const Shape& indices = v.type("indices").shape;
    Shape expected(data.shape.begin(), data.shape.begin() + axis);
    expected.insert(expected.end(), indices.begin(), indices.end());
    expected.insert(expected.end(), data.shape.begin() + axis + 1, data.shape.end());
    checkUpdates(v, expected);
    return {data};
}

std::vector<TensorType> inferScatterAlongAxis(const OpView& v) {
    const TensorType& data = v.type("data");
    const TensorType& indices = v.type("indices");
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), rankOf(v, "data"));
    requireOneOf(v, "mode", stringParam(v, "mode"), kScatterModes);
    if (data.rank() != indices.rank())
        v.fail("data " + data.str() + " and indices " + indices.str() + " must have one rank");
    for (int64_t i = 0; i < rankOf(v, "data"); ++i)
        if (i != axis && !shapes::compatibleDim(data.shape[i], indices.shape[i]))
            v.fail("data " + data.str() + " and indices " + indices.str() + " differ in dimension " +
                   std::to_string(i));
    checkUpdates(v, indices.shape);
    return {data};
}

}  // namespace

void populateIndexingSchemas(SchemaTable& t) {
    declare(
        t, "slice_by_index",
        {input("x", kFloatsInt32Bool, "T"), input("begin", kInt32), input("end", kInt32),
         optionalConst("stride", kInt32), optionalConst("begin_mask", kBool), optionalConst("end_mask", kBool),
         optionalConst("squeeze_mask", kBool)},
        [](const OpView& v) -> std::vector<TensorType> { return {tensor(v.type("x").dtype, sliceShape(v))}; },
        "x[begin[i]:end[i]:stride[i]] per dimension (numpy semantics); begin_mask / end_mask ignore begin / end; "
        "squeeze_mask takes x[begin[i]] and drops the dimension; strides default to 1, masks to false");

    declare(t, "slice_by_size", {input("x", kFloatsInt32Bool, "T"), input("begin", kInt32), input("size", kInt32)},
            inferSliceBySize, "x[begin[i] : begin[i] + size[i]] per dimension; size -1 runs to the end");

    declare(
        t, "slice_update",
        {input("x", kFloatsInt32Bool, "T"), input("update", kFloatsInt32Bool, "T"), input("begin", kInt32, "U"),
         input("end", kInt32, "U"), optionalConst("stride", kInt32, {}, "U"), optionalConst("begin_mask", kBool),
         optionalConst("end_mask", kBool), optionalConst("squeeze_mask", kBool)},
        [](const OpView& v) -> std::vector<TensorType> {
            const Shape expected = sliceShape(v);
            const TensorType& update = v.type("update");
            if (update.rank() == 0) v.fail("update must not be a scalar");
            if (!shapes::compatibleShape(update.shape, expected))
                v.fail("update " + update.str() + " must have the slice's shape " + shapes::str(expected));
            return {v.type("x")};
        },
        "x with the slice of slice_by_index replaced by update", Target::iOS18);

    declare(t, "gather",
            {input("x", kFloatsInt32, "T"), input("indices", kInt32), optionalConst("axis", kInt32, int64_t{0}),
             optionalConst("batch_dims", kInt32, int64_t{0})},
            inferGather,
            "x taken at indices along axis: x.shape[:axis] + indices.shape[batch_dims:] + x.shape[axis+1:]; "
            "batch_dims needs iOS16 (iOS16 also takes int16 / uint16 indices; iOS17 adds validate_indices)");

    declare(t, "gather_along_axis",
            {input("x", kFloatsInt32, "T"), input("indices", kInt32), optionalConst("axis", kInt32, int64_t{0})},
            inferGatherAlongAxis, "numpy take_along_axis: out[...i...] = x[...indices[...i...]...] along axis");

    declare(
        t, "gather_nd",
        {input("x", kFloatsInt32, "T"), input("indices", kInt32), optionalConst("batch_dims", kInt32, int64_t{0})},
        [](const OpView& v) -> std::vector<TensorType> {
            return {tensor(v.type("x").dtype, gatherNdShape(v, "x", intParam(v, "batch_dims")))};
        },
        "x indexed by the last dimension of indices: indices.shape[:-1] + x.shape[batch_dims + indices.shape[-1]:]; "
        "batch_dims needs iOS16");

    declare(t, "scatter",
            {input("data", kFloatsInt32, "T"), input("indices", kInt32), input("updates", kFloatsInt32, "T"),
             optionalConst("axis", kInt32, int64_t{0}), optionalConst("mode", kStr, std::string("add"))},
            inferScatter,
            "data with updates combined in at indices along axis; mode update | add | sub | mul | div | max | min");

    declare(t, "scatter_along_axis",
            {input("data", kFloatsInt32, "T"), input("indices", kInt32), input("updates", kFloatsInt32, "T"),
             optionalConst("axis", kInt32, int64_t{0}), optionalConst("mode", kStr, std::string("add"))},
            inferScatterAlongAxis, "the inverse of gather_along_axis, updates combined in by mode");

    declare(
        t, "scatter_nd",
        {input("data", kFloatsInt32, "T"), input("indices", kInt32), input("updates", kFloatsInt32, "T"),
         optionalConst("mode", kStr, std::string("add"))},
        [](const OpView& v) -> std::vector<TensorType> {
            requireOneOf(v, "mode", stringParam(v, "mode"), kScatterModes);
            checkUpdates(v, gatherNdShape(v, "data", 0));
            return {v.type("data")};
        },
        "the inverse of gather_nd, updates combined in by mode");

    declare(
        t, "non_zero", {input("x", kFloatsInt32Bool, "T")},
        [](const OpView& v) -> std::vector<TensorType> {
            Dim count = shapes::freshDim();
            if (const ConstData* c = v.value("x")->constant()) {
                int64_t n = 0;
                for (int64_t i = 0; i < c->numel(); ++i) n += c->asDouble(static_cast<size_t>(i)) != 0.0;
                count = Dim::fixed(n);
            }
            return {tensor(DType::Int32, {count, Dim::fixed(rankOf(v, "x"))})};
        },
        "int32 [N, rank(x)]: the coordinates of the N non-zero elements (N known only at run time)");

    declare(
        t, "band_part",
        {input("x", kFloatsInt32Bool, "T"), optionalConst("lower", kInt32, int64_t{-1}),
         optionalConst("upper", kInt32, int64_t{-1})},
        [](const OpView& v) -> std::vector<TensorType> {
            requireRank(v, "x", 2, SIZE_MAX);
            intParam(v, "lower");
            intParam(v, "upper");
            return {v.type("x")};
        },
        "x with elements outside the band lower below / upper above the diagonal of the last two dimensions "
        "zeroed (-1 keeps that whole side)");
}

TS2COREML_FAMILY(SchemaTable, Indexing, populateIndexingSchemas)

}  // namespace ts2coreml::mil
