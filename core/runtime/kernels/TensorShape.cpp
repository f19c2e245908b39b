// MIL ops that rearrange elements into a new shape (coremltools ops/defs/iOS15/
// tensor_transformation.py, tensor_operation.py).
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <algorithm>

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

// reshape: in the target shape, 0 keeps the input dimension at that position and one -1 takes
// the remaining size.
at::Tensor reshape(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    std::vector<int64_t> shape = k.getInts("shape");
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] != 0) continue;
        if (static_cast<int64_t>(i) >= x.dim())
            k.fail("shape entry " + std::to_string(i) + " is 0 but x has rank " + std::to_string(x.dim()));
        shape[i] = x.size(static_cast<int64_t>(i));
    }
    return x.reshape(shape);
}

at::Tensor transpose(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    return x.permute(normalizeAxes(k, k.getInts("perm"), x.dim()));
}

// squeeze: the listed size-1 dimensions, or every dimension the program's type has as static 1.
at::Tensor squeeze(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    std::vector<int64_t> axes;
    if (auto given = k.optionalInts("axes")) {
        axes = normalizeAxes(k, *given, x.dim());
    } else {
        const TensorType& type = k.inputType("x");
        for (size_t i = 0; i < type.rank(); ++i)
            if (type.shape[i].isStatic() && type.shape[i].size == 1) axes.push_back(static_cast<int64_t>(i));
    }
    std::vector<int64_t> shape;
    for (int64_t i = 0; i < x.dim(); ++i) {
        if (std::find(axes.begin(), axes.end(), i) == axes.end())
            shape.push_back(x.size(i));
        else if (x.size(i) != 1)
            k.fail("cannot squeeze dimension " + std::to_string(i) + " of size " + std::to_string(x.size(i)));
    }
    return x.reshape(shape);
}

// expand_dims: axes are positions in the output.
at::Tensor expandDims(const KernelContext& k) {
    at::Tensor x = k.raw("x");
    const std::vector<int64_t> given = k.getInts("axes");
    std::vector<int64_t> axes = normalizeAxes(k, given, x.dim() + static_cast<int64_t>(given.size()));
    std::sort(axes.begin(), axes.end());
    for (int64_t a : axes) x = x.unsqueeze(a);
    return x;
}

// flatten2d: [prod(shape[:axis]), prod(shape[axis:])]
at::Tensor flatten2d(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    int64_t axis = k.getInt("axis");
    if (axis < 0) axis += x.dim();
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= x.size(i);
    return x.reshape({outer, -1});
}

at::Tensor shape(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    return at::tensor(std::vector<int64_t>(x.sizes().begin(), x.sizes().end()), at::kLong).to(at::kInt);
}

at::Tensor identity(const KernelContext& k) { return k.raw("x"); }

// concat along axis; interleave alternates the values' slices (values of equal shape):
// out[..., i * n + j, ...] = values[j][..., i, ...]. Scalars concatenate into a vector.
at::Tensor concat(const KernelContext& k) {
    const std::vector<at::Tensor> values = k.inputs("values");
    if (values.front().dim() == 0) return at::stack(values);
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), values.front().dim());
    if (!k.getBool("interleave")) return at::cat(values, axis);
    std::vector<int64_t> shape(values.front().sizes().begin(), values.front().sizes().end());
    shape[static_cast<size_t>(axis)] *= static_cast<int64_t>(values.size());
    return at::stack(values, axis + 1).reshape(shape);
}

std::vector<at::Tensor> split(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), x.dim());
    if (auto sizes = k.optionalInts("split_sizes")) return x.split_with_sizes(*sizes, axis);
    const int64_t n = k.getInt("num_splits");
    if (x.size(axis) % n != 0)
        k.fail("num_splits " + std::to_string(n) + " does not divide " + std::to_string(x.size(axis)));
    return x.split(x.size(axis) / n, axis);
}

at::Tensor stack(const KernelContext& k) {
    const std::vector<at::Tensor> values = k.inputs("values");
    return at::stack(values, normalizeAxis(k, k.getInt("axis"), values.front().dim() + 1));
}

at::Tensor tile(const KernelContext& k) { return k.raw("x").repeat(k.getInts("reps")); }

// Indices of a padded dimension of size n: reflect mirrors without repeating the edge, replicate
// repeats the edge.
at::Tensor padIndices(int64_t n, int64_t before, int64_t after, bool reflect) {
    std::vector<int64_t> idx;
    for (int64_t p = -before; p < n + after; ++p) {
        int64_t i = p;
        if (reflect) {
            const int64_t period = 2 * (n - 1);
            if (period == 0)
                i = 0;
            else {
                i = ((i % period) + period) % period;
                if (i >= n) i = period - i;
            }
        } else {
            i = std::min(std::max<int64_t>(i, 0), n - 1);
        }
        idx.push_back(i);
    }
    return at::tensor(idx, at::kLong);
}

// pad: the last len(pad) / 2 dimensions, pad[2i] before and pad[2i+1] after dimension
// rank - len(pad) / 2 + i; mode constant | reflect | replicate.
at::Tensor pad(const KernelContext& k) {
    at::Tensor x = k.input("x");
    const std::vector<int64_t> pad = k.getInts("pad");
    const std::string mode = k.getString("mode");
    const int64_t padded = static_cast<int64_t>(pad.size() / 2);
    const int64_t first = x.dim() - padded;
    if (mode == "constant") {
        std::vector<int64_t> pairs;  // ATen lists the last dimension first
        for (int64_t i = padded; i-- > 0;) {
            pairs.push_back(pad[2 * i]);
            pairs.push_back(pad[2 * i + 1]);
        }
        return at::constant_pad_nd(x, pairs, k.getDouble("constant_val"));
    }
    if (mode != "reflect" && mode != "replicate") k.fail("unknown pad mode '" + mode + "'");
    for (int64_t i = 0; i < padded; ++i) {
        const int64_t dim = first + i;
        x = x.index_select(dim, padIndices(x.size(dim), pad[2 * i], pad[2 * i + 1], mode == "reflect"));
    }
    return x;
}

at::Tensor reverse(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    std::vector<int64_t> axes;
    if (auto given = k.optionalInts("axes"))
        axes = normalizeAxes(k, *given, x.dim());
    else
        for (int64_t i = 0; i < x.dim(); ++i) axes.push_back(i);
    return axes.empty() ? x : x.flip(axes);
}

// depth_to_space (TensorFlow's DCR order): [n, c, h, w] -> [n, b, b, c / b^2, h, w] ->
// [n, c / b^2, h, b, w, b] -> [n, c / b^2, h * b, w * b].
at::Tensor depthToSpace(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const int64_t b = k.getInt("block_size");
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    return x.reshape({n, b, b, c / (b * b), h, w}).permute({0, 3, 4, 1, 5, 2}).reshape({n, c / (b * b), h * b, w * b});
}

// pixel_shuffle (torch's CRD order): [n, c / f^2, f, f, h, w] -> [n, c / f^2, h, f, w, f].
at::Tensor pixelShuffle(const KernelContext& k) { return at::pixel_shuffle(k.raw("x"), k.getInt("upscale_factor")); }

// space_to_depth, the inverse of depth_to_space: [n, c, h, w] -> [n, c, h / b, b, w / b, b] ->
// [n, b, b, c, h / b, w / b] -> [n, c * b^2, h / b, w / b].
at::Tensor spaceToDepth(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const int64_t b = k.getInt("block_size");
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    return x.reshape({n, c, h / b, b, w / b, b}).permute({0, 3, 5, 1, 2, 4}).reshape({n, c * b * b, h / b, w / b});
}

// sliding_windows: windows of `size` every `stride` along axis, the window as a new dimension
// right after axis.
at::Tensor slidingWindows(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const int64_t axis = normalizeAxis(k, k.getInt("axis"), x.dim());
    return x.unfold(axis, k.getInt("size"), k.getInt("stride")).movedim(-1, axis + 1);
}

}  // namespace

void populateTensorShapeKernels(KernelTable& t) {
    t.add("reshape", reshape);
    t.add("transpose", transpose);
    t.add("squeeze", squeeze);
    t.add("expand_dims", expandDims);
    t.add("flatten2d", flatten2d);
    t.add("shape", shape);
    t.add("identity", identity);
    t.add("concat", concat);
    t.addMulti("split", split);
    t.add("stack", stack);
    t.add("tile", tile);
    t.add("pad", pad);
    t.add("reverse", reverse);
    t.add("depth_to_space", depthToSpace);
    t.add("pixel_shuffle", pixelShuffle);
    t.add("space_to_depth", spaceToDepth);
    t.add("sliding_windows", slidingWindows);
}

TS2COREML_FAMILY(KernelTable, TensorShape, populateTensorShapeKernels)

}  // namespace ts2coreml::runtime
