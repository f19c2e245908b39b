// MIL ops that rearrange a tensor's elements into a new shape (coremltools ops/defs/iOS15/
// tensor_transformation.py and tensor_operation.py): reshape, transpose, squeeze, expand_dims,
// flatten2d, shape, identity, concat, split, stack, tile, pad, reverse, depth/space moves,
// sliding_windows.
#include <algorithm>
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

int64_t rankOf(const OpView& v, const std::string& name) { return static_cast<int64_t>(v.type(name).rank()); }

// The length of a rank-1 int input; it must be static because it sets the output rank.
size_t staticLength(const OpView& v, const std::string& name) {
    requireRank(v, name, 1);
    const Dim& n = v.type(name).shape[0];
    if (!n.isStatic()) v.fail("input '" + name + "' must have a static length, got " + v.type(name).str());
    return static_cast<size_t>(n.size);
}

std::vector<TensorType> inferReshape(const OpView& v) {
    const TensorType& x = v.type("x");
    const size_t k = staticLength(v, "shape");
    if (auto target = constInts(v, "shape")) return {tensor(x.dtype, shapes::reshape(x.shape, *target))};
    Shape out;
    for (size_t i = 0; i < k; ++i) out.push_back(shapes::freshDim());
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferTranspose(const OpView& v) {
    const TensorType& x = v.type("x");
    const std::vector<int64_t> perm = intsParam(v, "perm");
    if (perm.size() != x.rank())
        v.fail("perm has " + std::to_string(perm.size()) + " values, x " + x.str() + " has rank " +
               std::to_string(x.rank()));
    Shape out;
    for (int64_t p : shapes::normalizeAxes(perm, rankOf(v, "x"))) out.push_back(x.shape[p]);
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferSqueeze(const OpView& v) {
    const TensorType& x = v.type("x");
    Shape out;
    if (!v.has("axes")) {
        // Without axes, every static 1 goes; symbolic dimensions stay.
        for (const Dim& d : x.shape)
            if (!(d.isStatic() && d.size == 1)) out.push_back(d);
        return {tensor(x.dtype, out)};
    }
    const std::vector<int64_t> axes = shapes::normalizeAxes(intsParam(v, "axes"), rankOf(v, "x"));
    for (size_t i = 0; i < x.rank(); ++i) {
        if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) == axes.end()) {
            out.push_back(x.shape[i]);
        } else if (x.shape[i].isStatic() && x.shape[i].size != 1) {
            v.fail("cannot squeeze axis " + std::to_string(i) + " of x " + x.str() + ": its size is " +
                   std::to_string(x.shape[i].size) + ", not 1");
        }
    }
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferExpandDims(const OpView& v) {
    const TensorType& x = v.type("x");
    const std::vector<int64_t> given = intsParam(v, "axes");
    const auto outRank = static_cast<int64_t>(x.rank() + given.size());
    std::vector<int64_t> axes = shapes::normalizeAxes(given, outRank);
    std::sort(axes.begin(), axes.end());
    Shape out = x.shape;
    for (int64_t a : axes) out.insert(out.begin() + a, Dim::fixed(1));
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferFlatten2d(const OpView& v) {
    const TensorType& x = v.type("x");
    const int64_t rank = rankOf(v, "x");
    int64_t axis = intParam(v, "axis");
    if (axis < -rank || axis > rank)
        v.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank) +
               " (valid: " + std::to_string(-rank) + ".." + std::to_string(rank) + ")");
    if (axis < 0) axis += rank;
    return {tensor(x.dtype, {shapes::product(Shape(x.shape.begin(), x.shape.begin() + axis)),
                             shapes::product(Shape(x.shape.begin() + axis, x.shape.end()))})};
}

std::vector<TensorType> inferConcat(const OpView& v) {
    const std::vector<Value*> values = v.values("values");
    if (values.empty()) v.fail("values is empty");
    const TensorType& first = values.front()->type();
    const int64_t rank = static_cast<int64_t>(first.rank());
    for (const Value* value : values)
        if (value->type().rank() != first.rank())
            v.fail("values must share one rank: " + first.str() + " vs " + value->type().str());
    const bool interleave = boolParam(v, "interleave");
    const int64_t given = intParam(v, "axis");
    if (rank == 0) {  // scalars concatenate into a vector
        if (given != 0 && given != -1) v.fail("axis " + std::to_string(given) + " is out of range for scalars");
        return {tensor(first.dtype, {Dim::fixed(static_cast<int64_t>(values.size()))})};
    }
    const int64_t axis = shapes::normalizeAxis(given, rank);
    Shape out = first.shape;
    std::vector<Dim> along;
    for (const Value* value : values) {
        const Shape& s = value->type().shape;
        for (int64_t i = 0; i < rank; ++i) {
            if (i == axis && !interleave) continue;
            if (!shapes::compatibleDim(out[i], s[i]))
                v.fail("values " + first.str() + " and " + value->type().str() + " differ in dimension " +
                       std::to_string(i) + (interleave ? " (interleave needs equal shapes)" : ""));
            if (!out[i].isStatic() && s[i].isStatic()) out[i] = s[i];  // keep the better-known size
        }
        along.push_back(s[axis]);
    }
    int64_t sum = 0;
    bool known = true;
    for (const Dim& d : along) {
        if (!d.isStatic())
            known = false;
        else
            sum += d.size;
    }
    out[axis] = known ? Dim::fixed(sum) : (along.size() == 1 ? along[0] : shapes::freshDim());
    return {tensor(first.dtype, out)};
}

std::vector<TensorType> inferSplit(const OpView& v) {
    const TensorType& x = v.type("x");
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), rankOf(v, "x"));
    const Dim& d = x.shape[axis];
    std::vector<Dim> sizes;
    if (v.has("split_sizes")) {
        const std::vector<int64_t> given = intsParam(v, "split_sizes");
        if (given.empty()) v.fail("split_sizes is empty");
        if (v.has("num_splits") && intParam(v, "num_splits") != static_cast<int64_t>(given.size()))
            v.fail("num_splits (" + std::to_string(intParam(v, "num_splits")) +
                   ") differs from the number of split_sizes (" + std::to_string(given.size()) + ")");
        int64_t sum = 0;
        for (int64_t s : given) {
            if (s <= 0) v.fail("split_sizes must be positive, got " + std::to_string(s));
            sum += s;
            sizes.push_back(Dim::fixed(s));
        }
        if (d.isStatic() && sum != d.size)
            v.fail("split_sizes sum to " + std::to_string(sum) + " but dimension " + std::to_string(axis) + " of x " +
                   x.str() + " is " + std::to_string(d.size));
    } else if (v.has("num_splits")) {
        const int64_t n = intParam(v, "num_splits");
        if (n < 1) v.fail("num_splits must be positive, got " + std::to_string(n));
        if (d.isStatic() && d.size % n != 0)
            v.fail("num_splits " + std::to_string(n) + " does not divide dimension " + std::to_string(axis) + " of x " +
                   x.str());
        // Even splits of a symbolic dimension are all the same unknown size.
        const Dim each = n == 1 ? d : shapes::mapDim(d, [n](int64_t s) { return s / n; });
        sizes.assign(static_cast<size_t>(n), each);
    } else {
        v.fail("one of num_splits or split_sizes is required");
    }
    std::vector<TensorType> outs;
    for (const Dim& s : sizes) {
        Shape shape = x.shape;
        shape[axis] = s;
        outs.push_back(tensor(x.dtype, shape));
    }
    return outs;
}

std::vector<TensorType> inferStack(const OpView& v) {
    const std::vector<Value*> values = v.values("values");
    if (values.empty()) v.fail("values is empty");
    Shape shape = values.front()->type().shape;
    for (const Value* value : values) {
        if (!shapes::compatibleShape(shape, value->type().shape))
            v.fail("values must share one shape: " + values.front()->type().str() + " vs " + value->type().str());
        for (size_t i = 0; i < shape.size(); ++i)
            if (!shape[i].isStatic() && value->type().shape[i].isStatic()) shape[i] = value->type().shape[i];
    }
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), static_cast<int64_t>(shape.size()) + 1);
    shape.insert(shape.begin() + axis, Dim::fixed(static_cast<int64_t>(values.size())));
    return {tensor(values.front()->type().dtype, shape)};
}

std::vector<TensorType> inferTile(const OpView& v) {
    const TensorType& x = v.type("x");
    const size_t n = staticLength(v, "reps");
    if (n != x.rank())
        v.fail("reps has " + std::to_string(n) + " values, x " + x.str() + " has rank " + std::to_string(x.rank()));
    const auto reps = constInts(v, "reps");
    Shape out;
    for (size_t i = 0; i < x.rank(); ++i) {
        if (!reps) {
            out.push_back(shapes::freshDim());
            continue;
        }
        const int64_t r = (*reps)[i];
        if (r < 1) v.fail("reps must be positive, got " + std::to_string(r));
        out.push_back(shapes::mapDim(
            x.shape[i], [r](int64_t s) { return s * r; }, r == 1));
    }
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferPad(const OpView& v) {
    const TensorType& x = v.type("x");
    const std::string mode = stringParam(v, "mode");
    requireOneOf(v, "mode", mode, {"constant", "reflect", "replicate"});
    floatParam(v, "constant_val");
    const size_t n = staticLength(v, "pad");
    if (n % 2 != 0 || n / 2 > x.rank())
        v.fail("pad has " + std::to_string(n) + " values; it needs before/after pairs for at most the " +
               std::to_string(x.rank()) + " dimensions of x " + x.str());
    const size_t padded = n / 2;  // the last `padded` dimensions
    const size_t first = x.rank() - padded;
    Shape out = x.shape;
    const auto pad = constInts(v, "pad");
    if (!pad) {
        if (padded != x.rank())
            v.fail("a computed pad must have 2 * rank(x) = " + std::to_string(2 * x.rank()) + " values");
        for (size_t i = 0; i < x.rank(); ++i) out[i] = shapes::freshDim();
        return {tensor(x.dtype, out)};
    }
    for (size_t i = 0; i < padded; ++i) {
        const int64_t before = (*pad)[2 * i], after = (*pad)[2 * i + 1];
        if (before < 0 || after < 0) v.fail("pad values must not be negative");
        const Dim& d = x.shape[first + i];
        // reflect mirrors without repeating the edge; replicate repeats it.
        const int64_t limit = mode == "reflect" ? 1 : 0;
        if (mode != "constant" && d.isStatic() && std::max(before, after) > d.size - limit)
            v.fail("mode '" + mode + "' can pad dimension " + std::to_string(first + i) + " of size " +
                   std::to_string(d.size) + " by at most " + std::to_string(d.size - limit));
        out[first + i] = shapes::mapDim(
            d, [&](int64_t s) { return s + before + after; }, before + after == 0);
    }
    return {tensor(x.dtype, out)};
}

// depth_to_space and pixel_shuffle: [n, c, h, w] -> [n, c / f^2, h * f, w * f].
InferFn inferDepthToSpace(const std::string& factorName) {
    return [factorName](const OpView& v) -> std::vector<TensorType> {
        requireRank(v, "x", 4);
        const TensorType& x = v.type("x");
        const int64_t f = intParam(v, factorName);
        if (f < 1) v.fail(factorName + " must be positive");
        const Dim& c = x.shape[1];
        if (c.isStatic() && c.size % (f * f) != 0)
            v.fail("x " + x.str() + " has " + std::to_string(c.size) + " channels, not divisible by " + factorName +
                   "^2 = " + std::to_string(f * f));
        const bool one = f == 1;
        return {tensor(x.dtype, {x.shape[0],
                                 shapes::mapDim(
                                     c, [f](int64_t s) { return s / (f * f); }, one),
                                 shapes::mapDim(
                                     x.shape[2], [f](int64_t s) { return s * f; }, one),
                                 shapes::mapDim(
                                     x.shape[3], [f](int64_t s) { return s * f; }, one)})};
    };
}

std::vector<TensorType> inferSpaceToDepth(const OpView& v) {
    requireRank(v, "x", 4);
    const TensorType& x = v.type("x");
    const int64_t f = intParam(v, "block_size");
    if (f < 1) v.fail("block_size must be positive");
    for (size_t i = 2; i < 4; ++i)
        if (x.shape[i].isStatic() && x.shape[i].size % f != 0)
            v.fail("dimension " + std::to_string(i) + " of x " + x.str() + " is not divisible by block_size " +
                   std::to_string(f));
    const bool one = f == 1;
    return {tensor(x.dtype, {x.shape[0],
                             shapes::mapDim(
                                 x.shape[1], [f](int64_t s) { return s * f * f; }, one),
                             shapes::mapDim(
                                 x.shape[2], [f](int64_t s) { return s / f; }, one),
                             shapes::mapDim(
                                 x.shape[3], [f](int64_t s) { return s / f; }, one)})};
}

std::vector<TensorType> inferSlidingWindows(const OpView& v) {
    const TensorType& x = v.type("x");
    const int64_t axis = shapes::normalizeAxis(intParam(v, "axis"), rankOf(v, "x"));
    const int64_t size = intParam(v, "size"), stride = intParam(v, "stride");
    if (size < 1 || stride < 1) v.fail("size and stride must be positive");
    const Dim& d = x.shape[axis];
    if (d.isStatic() && d.size < size)
        v.fail("window size " + std::to_string(size) + " exceeds dimension " + std::to_string(axis) + " of x " +
               x.str());
    Shape out = x.shape;
    // windows = (d - size) / stride + 1, each of `size` elements, inserted after axis.
    out[axis] = shapes::mapDim(d, [&](int64_t s) { return (s - size) / stride + 1; });
    out.insert(out.begin() + axis + 1, Dim::fixed(size));
    return {tensor(x.dtype, out)};
}

}  // namespace

void populateTensorShapeSchemas(SchemaTable& t) {
    declare(t, "reshape", {input("x", kFloatsInt32Bool, "T"), input("shape", kInt32)}, inferReshape,
            "x with a new shape of the same volume; in a constant shape, 0 keeps the input dimension at that "
            "position (the shape then has the input's rank) and one -1 takes the remaining size");
    declare(t, "transpose", {input("x", kFloatsInt32Bool, "T"), constInput("perm", kInt32)}, inferTranspose,
            "x with dimensions permuted: out.shape[i] = x.shape[perm[i]]");
    declare(t, "squeeze", {input("x", kFloatsInt32Bool, "T"), optionalConst("axes", kInt32)}, inferSqueeze,
            "x without the size-1 dimensions in axes (default: every static size-1 dimension)");
    declare(t, "expand_dims", {input("x", kFloatsInt32Bool, "T"), constInput("axes", kInt32)}, inferExpandDims,
            "x with size-1 dimensions inserted at axes (positions in the output)");
    declare(t, "flatten2d", {input("x", kFloatsInt32Bool, "T"), optionalConst("axis", kInt32, int64_t{1})},
            inferFlatten2d, "[prod(x.shape[:axis]), prod(x.shape[axis:])]");
    declare(
        t, "shape", {input("x", kFloatsInt32Bool, "T")},
        [](const OpView& v) -> std::vector<TensorType> { return {tensor(DType::Int32, {Dim::fixed(rankOf(v, "x"))})}; },
        "the shape of x as an int32 vector");
    declare(
        t, "identity", {input("x", kAnyDType)},
        [](const OpView& v) -> std::vector<TensorType> { return {v.type("x")}; }, "x unchanged");
    declare(t, "concat",
            {variadic("values", kFloatsInt32Bool, "T"), constInput("axis", kInt32),
             optionalConst("interleave", kBool, false)},
            inferConcat, "values joined along axis; interleave alternates them (all shapes equal)");
    declare(t, "split",
            {input("x", kFloatsInt32Bool, "T"), optionalConst("num_splits", kInt32),
             optionalConst("split_sizes", kInt32), constInput("axis", kInt32)},
            inferSplit, "x cut along axis into num_splits equal parts or parts of split_sizes; one output per part");
    declare(t, "stack", {variadic("values", kFloatsInt32Bool, "T"), constInput("axis", kInt32)}, inferStack,
            "values of one shape stacked along a new axis");
    declare(t, "tile", {input("x", kFloatsInt32Bool, "T"), input("reps", kInt32)}, inferTile,
            "x repeated reps[i] times along dimension i");
    declare(t, "pad",
            {input("x", kFloats, "T"), input("pad", kInt32), optionalConst("mode", kStr, std::string("constant")),
             optionalConst("constant_val", kFloats, 0.0, "T")},
            inferPad,
            "x padded in its last len(pad) / 2 dimensions by pad[2i] before and pad[2i+1] after; mode constant | "
            "reflect | replicate");
    declare(
        t, "reverse", {input("x", kFloatsInt32Bool, "T"), optionalConst("axes", kInt32)},
        [](const OpView& v) -> std::vector<TensorType> {
            if (v.has("axes")) shapes::normalizeAxes(intsParam(v, "axes"), rankOf(v, "x"));
            return {v.type("x")};
        },
        "x reversed along axes (default all)");
    declare(t, "depth_to_space", {input("x", kFloats, "T"), constInput("block_size", kInt32)},
            inferDepthToSpace("block_size"), "[n, c, h, w] -> [n, c / b^2, h * b, w * b]");
    declare(t, "pixel_shuffle", {input("x", kFloats, "T"), constInput("upscale_factor", kInt32)},
            inferDepthToSpace("upscale_factor"), "[n, c, h, w] -> [n, c / f^2, h * f, w * f], as torch.pixel_shuffle");
    declare(t, "space_to_depth", {input("x", kFloats, "T"), constInput("block_size", kInt32)}, inferSpaceToDepth,
            "[n, c, h, w] -> [n, c * b^2, h / b, w / b]");
    declare(t, "sliding_windows",
            {input("x", kFloatsInt32, "T"), constInput("axis", kInt32), constInput("size", kInt32),
             optionalConst("stride", kInt32, int64_t{1})},
            inferSlidingWindows, "windows of size elements every stride along axis, as a new dimension after axis");
}

TS2COREML_FAMILY(SchemaTable, TensorShape, populateTensorShapeSchemas)

}  // namespace ts2coreml::mil
