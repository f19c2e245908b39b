// Image MIL ops (coremltools ops/defs/iOS15/image_resizing.py, iOS16 additions): resizing acts
// on the last two dimensions. Every bilinear op samples the input at a per-axis grid of source
// coordinates, which is where the ops differ; the sampling itself is shared.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <algorithm>
#include <cmath>

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

/// Source coordinates of `out` samples over an axis of `in` pixels, for Apple's sampling modes
/// (resize_bilinear's notes), each clamped to [0, in - 1]:
///   STRICT_ALIGN_CORNERS  i * (in - 1) / (out - 1)                 (0 when out == 1)
///   ALIGN_CORNERS         the same, but (in - 1) / 2 when out == 1
///   DEFAULT               i * in / out                              (TF: no corners, no half pixels)
///   OFFSET_CORNERS        delta / 2 + i * delta, delta = max(1, in - 1) / out
///   UNALIGN_CORNERS       (i + 0.5) * in / out - 0.5                (half-pixel centers)
std::vector<double> sampleGrid(const KernelContext& k, const std::string& mode, int64_t in, int64_t out) {
    std::vector<double> grid(static_cast<size_t>(out));
    const double n = static_cast<double>(in), m = static_cast<double>(out);
    for (int64_t i = 0; i < out; ++i) {
        const double d = static_cast<double>(i);
        double g;
        if (mode == "STRICT_ALIGN_CORNERS" || mode == "ALIGN_CORNERS") {
            if (out == 1)
                g = mode == "ALIGN_CORNERS" ? (n - 1) / 2 : 0.0;
            else
                g = d * (n - 1) / (m - 1);
        } else if (mode == "DEFAULT") {
            g = d * n / m;
        } else if (mode == "OFFSET_CORNERS") {
            const double delta = std::max(1.0, n - 1) / m;
            g = delta / 2 + d * delta;
        } else if (mode == "UNALIGN_CORNERS") {
            g = (d + 0.5) * n / m - 0.5;
        } else {
            k.fail("unknown sampling_mode '" + mode + "'");
        }
        grid[static_cast<size_t>(i)] = std::min(std::max(g, 0.0), n - 1);
    }
    return grid;
}

/// Linear interpolation of x along `dim` at source coordinates `grid` (inside [0, size - 1]).
at::Tensor interpolateAxis(const at::Tensor& x, int64_t dim, const std::vector<double>& grid) {
    std::vector<int64_t> lo, hi;
    std::vector<double> w;
    const int64_t last = x.size(dim) - 1;
    for (double g : grid) {
        const auto l = static_cast<int64_t>(std::floor(g));
        lo.push_back(l);
        hi.push_back(std::min(l + 1, last));
        w.push_back(g - static_cast<double>(l));
    }
    std::vector<int64_t> wShape(static_cast<size_t>(x.dim()), 1);
    wShape[static_cast<size_t>(dim < 0 ? dim + x.dim() : dim)] = static_cast<int64_t>(grid.size());
    const at::Tensor weight = at::tensor(w, at::kDouble).to(x.scalar_type()).reshape(wShape);
    const at::Tensor a = x.index_select(dim, at::tensor(lo, at::kLong));
    const at::Tensor b = x.index_select(dim, at::tensor(hi, at::kLong));
    return a + (b - a) * weight;
}

at::Tensor bilinear(const KernelContext& k, const at::Tensor& x, const std::string& mode, int64_t outH, int64_t outW) {
    const at::Tensor rows = interpolateAxis(x, -2, sampleGrid(k, mode, x.size(-2), outH));
    return interpolateAxis(rows, -1, sampleGrid(k, mode, x.size(-1), outW));
}

/// Nearest neighbour: source index floor(i * step), clamped.
at::Tensor nearestAxis(const at::Tensor& x, int64_t dim, int64_t out, double step) {
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < out; ++i)
        idx.push_back(std::min(static_cast<int64_t>(std::floor(static_cast<double>(i) * step)), x.size(dim) - 1));
    return x.index_select(dim, at::tensor(idx, at::kLong));
}

int64_t scaledSize(int64_t n, double scale) { return static_cast<int64_t>(std::floor(static_cast<double>(n) * scale)); }

// upsample_nearest_neighbor: out = floor(in * scale); source index floor(i / scale).
at::Tensor upsampleNearest(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const double sh = k.getDouble("scale_factor_height"), sw = k.getDouble("scale_factor_width");
    const at::Tensor rows = nearestAxis(x, -2, scaledSize(x.size(-2), sh), 1.0 / sh);
    return nearestAxis(rows, -1, scaledSize(x.size(-1), sw), 1.0 / sw);
}

// resize_nearest_neighbor: source index floor(i * in / out).
at::Tensor resizeNearest(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const int64_t h = k.getInt("target_size_height"), w = k.getInt("target_size_width");
    const at::Tensor rows = nearestAxis(x, -2, h, static_cast<double>(x.size(-2)) / static_cast<double>(h));
    return nearestAxis(rows, -1, w, static_cast<double>(x.size(-1)) / static_cast<double>(w));
}

// upsample_bilinear: out = floor(in * scale), the grid spacing recomputed from the sizes (torch's
// recompute_scale_factor=True). align_corners -> STRICT_ALIGN_CORNERS; half_pixel_centers
// (default: not align_corners) -> UNALIGN_CORNERS; neither -> DEFAULT.
at::Tensor upsampleBilinear(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const bool alignCorners = k.getBool("align_corners");
    const bool halfPixel = k.has("half_pixel_centers") ? k.getBool("half_pixel_centers") : !alignCorners;
    if (alignCorners && halfPixel) k.fail("align_corners and half_pixel_centers cannot both be true");
    const std::string mode = alignCorners ? "STRICT_ALIGN_CORNERS" : halfPixel ? "UNALIGN_CORNERS" : "DEFAULT";
    return bilinear(k, x, mode, scaledSize(x.size(-2), k.getDouble("scale_factor_height")),
                    scaledSize(x.size(-1), k.getDouble("scale_factor_width")));
}

at::Tensor resizeBilinear(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    return bilinear(k, x, k.getString("sampling_mode"), k.getInt("target_size_height"), k.getInt("target_size_width"));
}

// crop: crop_height = [top, bottom] rows and crop_width = [left, right] columns removed.
at::Tensor crop(const KernelContext& k) {
    const at::Tensor x = k.raw("x");
    const auto ch = k.getInts("crop_height"), cw = k.getInts("crop_width");
    return x.narrow(-2, ch[0], x.size(-2) - ch[0] - ch[1]).narrow(-1, cw[0], x.size(-1) - cw[0] - cw[1]);
}

// crop_resize with (STRICT_)ALIGN_CORNERS sampling, as TF's crop_and_resize: box corners map to
// the first and last samples; samples outside the image take pad_value. Boxes are roi
// [N, 1, 4 or 5, 1, 1] (5: the image index first), scaled by spatial_scale, and by (H - 1, W - 1)
// when normalized. Output [N, B or 1, C, target_height, target_width].
at::Tensor cropResize(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    const at::Tensor roi = k.input("roi").reshape({k.input("roi").size(0), -1}).to(at::kDouble);
    const std::string mode = k.getString("sampling_mode");
    if (mode != "ALIGN_CORNERS" && mode != "STRICT_ALIGN_CORNERS")
        k.fail("crop_resize sampling_mode '" + mode +
               "' is not supported (ALIGN_CORNERS and STRICT_ALIGN_CORNERS are)");
    const std::string coords = k.getString("box_coordinate_mode");
    const int64_t th = k.getInt("target_height"), tw = k.getInt("target_width");
    const double scale = k.getDouble("spatial_scale"), padValue = k.getDouble("pad_value");
    const bool normalized = k.getBool("normalized_coordinates");
    const int64_t H = x.size(2), W = x.size(3);
    const bool indexed = roi.size(1) == 5;

    std::vector<at::Tensor> crops;
    for (int64_t n = 0; n < roi.size(0); ++n) {
        const auto box = roi[n];
        const int64_t o = indexed ? 1 : 0;
        double b[4];
        for (int64_t i = 0; i < 4; ++i) b[i] = box[o + i].item<double>();
        double y1, x1, y2, x2;
        if (coords == "CORNERS_HEIGHT_FIRST")
            y1 = b[0], x1 = b[1], y2 = b[2], x2 = b[3];
        else if (coords == "CORNERS_WIDTH_FIRST")
            x1 = b[0], y1 = b[1], x2 = b[2], y2 = b[3];
        else if (coords == "CENTER_SIZE_HEIGHT_FIRST")
            y1 = b[0] - b[2] / 2, x1 = b[1] - b[3] / 2, y2 = b[0] + b[2] / 2, x2 = b[1] + b[3] / 2;
        else if (coords == "CENTER_SIZE_WIDTH_FIRST")
            x1 = b[0] - b[2] / 2, y1 = b[1] - b[3] / 2, x2 = b[0] + b[2] / 2, y2 = b[1] + b[3] / 2;
        else
            k.fail("unknown box_coordinate_mode '" + coords + "'");
        const double sy = normalized ? static_cast<double>(H - 1) : 1.0,
                     sx = normalized ? static_cast<double>(W - 1) : 1.0;
        y1 *= sy * scale, y2 *= sy * scale, x1 *= sx * scale, x2 *= sx * scale;

        auto axis = [&](double a, double e, int64_t out, int64_t size, std::vector<double>& grid,
                        std::vector<bool>& inside) {
            for (int64_t i = 0; i < out; ++i) {
                const double g = out == 1 ? (mode == "ALIGN_CORNERS" ? (a + e) / 2 : a)
                                          : a + static_cast<double>(i) * (e - a) / static_cast<double>(out - 1);
                inside.push_back(g >= 0 && g <= static_cast<double>(size - 1));
                grid.push_back(std::min(std::max(g, 0.0), static_cast<double>(size - 1)));
            }
        };
        std::vector<double> gy, gx;
        std::vector<bool> iy, ix;
        axis(y1, y2, th, H, gy, iy);
        axis(x1, x2, tw, W, gx, ix);
        const at::Tensor images = indexed ? x.narrow(0, static_cast<int64_t>(box[0].item<double>()), 1) : x;
        at::Tensor c = interpolateAxis(interpolateAxis(images, -2, gy), -1, gx);
        std::vector<uint8_t> my(iy.begin(), iy.end()), mx(ix.begin(), ix.end());
        const at::Tensor inside =
            at::tensor(my, at::kByte).to(at::kBool).unsqueeze(1) & at::tensor(mx, at::kByte).to(at::kBool).unsqueeze(0);
        crops.push_back(at::where(inside, c, at::scalar_tensor(padValue, c.options())));
    }
    return at::stack(crops);
}

// non_maximum_suppression, per batch: boxes (center x, center y, width, height) whose best class
// score is at least score_threshold, in decreasing score order (ties: lower index first), each kept
// unless its IoU with a kept box (of the same best class, with per_class_suppression) exceeds
// iou_threshold, until max_boxes are kept. Outputs are padded: boxes and scores with 0, indices with -1.
std::vector<at::Tensor> nonMaximumSuppression(const KernelContext& k) {
    const at::Tensor boxes = k.input("boxes").to(at::kDouble), scores = k.input("scores").to(at::kDouble);
    const double iouThreshold = k.getDouble("iou_threshold"), scoreThreshold = k.getDouble("score_threshold");
    const int64_t maxBoxes = k.getInt("max_boxes");
    const bool perClass = k.getBool("per_class_suppression");
    const int64_t n = boxes.size(0), count = boxes.size(1), classes = scores.size(2);
    at::Tensor outBoxes = at::zeros({n, maxBoxes, 4}, at::kDouble),
               outScores = at::zeros({n, maxBoxes, classes}, at::kDouble);
    at::Tensor outIndices = at::full({n, maxBoxes}, -1, at::kInt), outCounts = at::zeros({n}, at::kInt);
    for (int64_t b = 0; b < n; ++b) {
        const auto [bestScore, bestClass] = scores[b].max(1);
        const at::Tensor batchBoxes = boxes[b].contiguous();
        const at::Tensor best = bestScore.contiguous(), cls64 = bestClass.contiguous();
        const double* bp = batchBoxes.data_ptr<double>();
        const double* sc = best.data_ptr<double>();
        const int64_t* cls = cls64.data_ptr<int64_t>();
        auto bx = [&](int64_t i, int64_t c) { return bp[i * 4 + c]; };
        std::vector<int64_t> order;
        for (int64_t i = 0; i < count; ++i)
            if (sc[i] >= scoreThreshold) order.push_back(i);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t c) { return sc[a] > sc[c]; });
        auto iou = [&](int64_t a, int64_t c) {
            // Overlap of two center-size intervals along coordinate k (0: x, 1: y).
            auto overlap = [&](int k) {
                const double lo = std::max(bx(a, k) - bx(a, k + 2) / 2, bx(c, k) - bx(c, k + 2) / 2);
                const double hi = std::min(bx(a, k) + bx(a, k + 2) / 2, bx(c, k) + bx(c, k + 2) / 2);
                return std::max(0.0, hi - lo);
            };
            const double inter = overlap(0) * overlap(1), uni = bx(a, 2) * bx(a, 3) + bx(c, 2) * bx(c, 3) - inter;
            return uni > 0 ? inter / uni : 0.0;
        };
        std::vector<int64_t> kept;
        for (int64_t i : order) {
            if (static_cast<int64_t>(kept.size()) == maxBoxes) break;
            const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](int64_t j) {
                return (!perClass || cls[i] == cls[j]) && iou(i, j) > iouThreshold;
            });
            if (!suppressed) kept.push_back(i);
        }
        for (size_t s = 0; s < kept.size(); ++s) {
            const auto slot = static_cast<int64_t>(s);
            outBoxes[b][slot] = boxes[b][kept[s]];
            outScores[b][slot] = scores[b][kept[s]];
            outIndices[b][slot] = static_cast<int32_t>(kept[s]);
        }
        outCounts[b] = static_cast<int32_t>(kept.size());
    }
    return {outBoxes.to(at::kFloat), outScores.to(at::kFloat), outIndices, outCounts};
}

}  // namespace

void populateImageKernels(KernelTable& t) {
    t.addMulti("non_maximum_suppression", nonMaximumSuppression);
    t.add("upsample_nearest_neighbor", upsampleNearest);
    t.add("resize_nearest_neighbor", resizeNearest);
    t.add("upsample_bilinear", upsampleBilinear);
    t.add("resize_bilinear", resizeBilinear);
    t.add("crop", crop);
    t.add("crop_resize", cropResize);
}

TS2COREML_FAMILY(KernelTable, Image, populateImageKernels)

}  // namespace ts2coreml::runtime
