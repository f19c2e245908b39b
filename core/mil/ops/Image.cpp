// Image MIL ops (coremltools ops/defs/iOS15/image_resizing.py, iOS16 additions, and
// tensor_operation.py's non_maximum_suppression): resizing acts on the last two dimensions.
#include <cmath>
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

// Upsampling scale factors are fp32 or int32 (type variable U).
constexpr DTypeSet kScaleFactor = bit(DType::Float32) | kInt32;

const std::vector<std::string> kSamplingModes{"STRICT_ALIGN_CORNERS", "ALIGN_CORNERS", "UNALIGN_CORNERS", "DEFAULT",
                                              "OFFSET_CORNERS"};

// Output [.., H', W'] with the last two dimensions of x (rank >= 3) replaced.
TensorType withSpatial(const TensorType& x, Dim h, Dim w) {
    Shape out = x.shape;
    out[out.size() - 2] = std::move(h);
    out[out.size() - 1] = std::move(w);
    return tensor(x.dtype, out);
}

// H' = floor(H * scale_factor_height), W' = floor(W * scale_factor_width).
std::vector<TensorType> inferUpsample(const OpView& v) {
    requireRank(v, "x", 3, SIZE_MAX);
    const TensorType& x = v.type("x");
    auto scaled = [&](const std::string& name, const Dim& d) {
        const double s = floatParam(v, name);
        if (!(s > 0)) v.fail(name + " must be positive, got " + std::to_string(s));
        return shapes::mapDim(
            d, [s](int64_t n) { return static_cast<int64_t>(std::floor(n * s)); }, s == 1.0);
    };
    const size_t r = x.rank();
    return {
        withSpatial(x, scaled("scale_factor_height", x.shape[r - 2]), scaled("scale_factor_width", x.shape[r - 1]))};
}

Dim targetSize(const OpView& v, const std::string& name) {
    const int64_t n = intParam(v, name);
    if (n < 1) v.fail(name + " must be positive, got " + std::to_string(n));
    return Dim::fixed(n);
}

std::vector<TensorType> inferCropResize(const OpView& v) {
    requireRank(v, "x", 4);
    requireRank(v, "roi", 5);
    const TensorType& x = v.type("x");
    const Shape& roi = v.type("roi").shape;
    // roi is [N, 1, 4, 1, 1] (boxes applied to every image) or [N, 1, 5, 1, 1] (image index first).
    const bool shape4or5 = roi[2].isStatic() && (roi[2].size == 4 || roi[2].size == 5);
    for (size_t i : {1, 3, 4})
        if (!(roi[i].isStatic() && roi[i].size == 1) || !shape4or5)
            v.fail("roi " + v.type("roi").str() + " must have shape [N, 1, 4, 1, 1] or [N, 1, 5, 1, 1]");
    requireOneOf(
        v, "box_coordinate_mode", stringParam(v, "box_coordinate_mode"),
        {"CORNERS_HEIGHT_FIRST", "CORNERS_WIDTH_FIRST", "CENTER_SIZE_HEIGHT_FIRST", "CENTER_SIZE_WIDTH_FIRST"});
    requireOneOf(v, "sampling_mode", stringParam(v, "sampling_mode"), kSamplingModes);
    boolParam(v, "normalized_coordinates");
    floatParam(v, "spatial_scale");
    floatParam(v, "pad_value");
    const Dim images = roi[2].size == 5 ? Dim::fixed(1) : x.shape[0];
    return {
        tensor(x.dtype, {roi[0], images, x.shape[1], targetSize(v, "target_height"), targetSize(v, "target_width")})};
}

std::vector<TensorType> inferCrop(const OpView& v) {
    requireRank(v, "x", 3, SIZE_MAX);
    const TensorType& x = v.type("x");
    const size_t r = x.rank();
    auto cropped = [&](const std::string& name, const Dim& d) {
        const std::vector<int64_t> c = intsParam(v, name);
        if (c.size() != 2 || c[0] < 0 || c[1] < 0) v.fail(name + " must be two non-negative values [before, after]");
        if (d.isStatic() && c[0] + c[1] >= d.size)
            v.fail(name + " removes " + std::to_string(c[0] + c[1]) + " of " + std::to_string(d.size) +
                   " rows or columns");
        return shapes::mapDim(
            d, [&](int64_t n) { return n - c[0] - c[1]; }, c[0] + c[1] == 0);
    };
    return {withSpatial(x, cropped("crop_height", x.shape[r - 2]), cropped("crop_width", x.shape[r - 1]))};
}

std::vector<TensorType> inferNms(const OpView& v) {
    requireRank(v, "boxes", 3);
    requireRank(v, "scores", 3);
    const TensorType& boxes = v.type("boxes");
    const TensorType& scores = v.type("scores");
    if (!(boxes.shape[2].isStatic() && boxes.shape[2].size == 4)) v.fail("boxes " + boxes.str() + " must be [n, B, 4]");
    if (!shapes::compatibleDim(boxes.shape[0], scores.shape[0]) ||
        !shapes::compatibleDim(boxes.shape[1], scores.shape[1]))
        v.fail("scores " + scores.str() + " must be [n, B, K] for boxes " + boxes.str());
    floatParam(v, "iou_threshold");
    floatParam(v, "score_threshold");
    boolParam(v, "per_class_suppression");
    const int64_t maxBoxes = intParam(v, "max_boxes");
    if (maxBoxes < 1) v.fail("max_boxes must be positive");
    const Dim n = boxes.shape[0], m = Dim::fixed(maxBoxes);
    return {tensor(boxes.dtype, {n, m, Dim::fixed(4)}), tensor(scores.dtype, {n, m, scores.shape[2]}),
            tensor(DType::Int32, {n, m}), tensor(DType::Int32, {n})};
}

}  // namespace

void populateImageSchemas(SchemaTable& t) {
    declare(t, "upsample_nearest_neighbor",
            {input("x", kFloats, "T"), optionalConst("scale_factor_height", kScaleFactor, int64_t{1}, "U"),
             optionalConst("scale_factor_width", kScaleFactor, int64_t{1}, "U")},
            inferUpsample, "nearest-neighbour upsampling of the last two dimensions by scale factors (fp32 or int32)");

    declare(
        t, "upsample_bilinear",
        {input("x", kFloats, "T"), optionalConst("scale_factor_height", kScaleFactor, int64_t{1}, "U"),
         optionalConst("scale_factor_width", kScaleFactor, int64_t{1}, "U"),
         optionalConst("align_corners", kBool, true), optionalConst("half_pixel_centers", kBool)},
        [](const OpView& v) -> std::vector<TensorType> {
            boolParam(v, "align_corners");
            if (v.has("half_pixel_centers")) boolParam(v, "half_pixel_centers");
            return inferUpsample(v);
        },
        "bilinear upsampling of the last two dimensions: H' = floor(H * scale_factor_height); half_pixel_centers "
        "(default: not align_corners) needs iOS16");

    declare(
        t, "resize_nearest_neighbor",
        {input("x", kFloats, "T"), constInput("target_size_height", kInt32), constInput("target_size_width", kInt32)},
        [](const OpView& v) -> std::vector<TensorType> {
            requireRank(v, "x", 3, SIZE_MAX);
            return {withSpatial(v.type("x"), targetSize(v, "target_size_height"), targetSize(v, "target_size_width"))};
        },
        "nearest-neighbour resize of the last two dimensions to the target sizes");

    declare(
        t, "resize_bilinear",
        {input("x", kFloats, "T"), optionalConst("target_size_height", kInt32, int64_t{1}),
         optionalConst("target_size_width", kInt32, int64_t{1}),
         optionalConst("sampling_mode", kStr, std::string("DEFAULT"))},
        [](const OpView& v) -> std::vector<TensorType> {
            requireRank(v, "x", 3, SIZE_MAX);
            requireOneOf(v, "sampling_mode", stringParam(v, "sampling_mode"), kSamplingModes);
            return {withSpatial(v.type("x"), targetSize(v, "target_size_height"), targetSize(v, "target_size_width"))};
        },
        "bilinear resize of the last two dimensions to the target sizes; sampling_mode STRICT_ALIGN_CORNERS | "
        "ALIGN_CORNERS | UNALIGN_CORNERS | DEFAULT | OFFSET_CORNERS");

    declare(
        t, "crop_resize",
        {input("x", kFloats, "T"), input("roi", kFloats, "T"), optionalConst("target_height", kInt32, int64_t{1}),
         optionalConst("target_width", kInt32, int64_t{1}), optionalConst("normalized_coordinates", kBool, false),
         optionalConst("spatial_scale", bit(DType::Float32), 1.0),
         optionalConst("box_coordinate_mode", kStr, std::string("CORNERS_HEIGHT_FIRST")),
         optionalConst("sampling_mode", kStr, std::string("DEFAULT")), optionalConst("pad_value", kFloats, 0.0, "T")},
        inferCropResize,
        "bilinear crops of x [B, C, H, W] at the boxes of roi, each resized to the target size: [N, B or 1, C, "
        "target_height, target_width]; pad_value needs iOS16 (iOS17 replaces roi with boxes and box_indices)");

    declare(t, "crop", {input("x", kFloats, "T"), constInput("crop_height", kInt32), constInput("crop_width", kInt32)},
            inferCrop, "x with crop_height = [top, bottom] rows and crop_width = [left, right] columns removed");

    declare(t, "non_maximum_suppression",
            {input("boxes", kFloats, "T"), input("scores", kFloats, "T"), constInput("iou_threshold", kFloats, "T"),
             constInput("score_threshold", kFloats, "T"), constInput("max_boxes", kInt32),
             optionalConst("per_class_suppression", kBool, false)},
            inferNms,
            "boxes [n, B, 4] (center x, center y, width, height) and scores [n, B, K] -> selected boxes [n, max_boxes, "
            "4], scores [n, max_boxes, K], int32 indices [n, max_boxes], int32 counts [n]; padded to max_boxes "
            "(this is the iOS15 form: iOS17 drops score_threshold and the counts output)");
}

TS2COREML_FAMILY(SchemaTable, Image, populateImageSchemas)

}  // namespace ts2coreml::mil
