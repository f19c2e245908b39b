// torchvision::roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height,
//                        int pooled_width, int sampling_ratio, bool aligned) -> Tensor
//
// RoIAlign averages, in each of the pooled_height x pooled_width bins of a box, a grid of
// sampling_ratio x sampling_ratio bilinear samples. Over a whole box (after scaling and, when
// aligned, the half-pixel shift) the samples form one regular grid of th = pooled_height * sr rows:
//   y_k = y1 + (k + 1/2) * h / th,  k = 0 .. th-1      (h = box height, at least 1 unless aligned)
// which is crop_resize's ALIGN_CORNERS grid (first and last sample on the box edges) of the box
// [y1 + h/(2 th), y1 + h - h/(2 th)]. So: shrink each box by half a sample, crop_resize to
// th x tw, and average-pool sr x sr windows.
#include "TorchvisionLowerings.h"

namespace ts2coreml::torchvision {

namespace {

mil::Value* matrix(mil::Builder& b, std::vector<float> values, int64_t rows, int64_t cols) {
    return b.constant(mil::ConstData::fromFloats(std::move(values), {rows, cols}));
}

void lowerRoiAlign(LoweringContext& ctx) {
    auto& b = ctx.builder();
    mil::Value* input = ctx.tensor("input");  // [B, C, H, W]
    mil::Value* rois = ctx.tensor("rois");    // [K, 5] as (batch index, x1, y1, x2, y2)
    const float scale = static_cast<float>(ctx.getDouble("spatial_scale"));
    const int64_t ph = ctx.getInt("pooled_height"), pw = ctx.getInt("pooled_width");
    const int64_t sr = ctx.getInt("sampling_ratio");
    const bool aligned = ctx.getBool("aligned");
    if (input->type().rank() != 4) ctx.fail("input must be [B, C, H, W], got " + input->type().str());
    const TensorType& r = rois->type();
    if (r.rank() != 2 || !r.shape[1].isStatic() || r.shape[1].size != 5)
        ctx.fail("rois must be [K, 5] (batch index, x1, y1, x2, y2), got " + r.str());
    if (ph < 1 || pw < 1) ctx.fail("pooled_height and pooled_width must be positive");
    // sampling_ratio <= 0 means ceil(box size / pooled size) samples per bin: a different count per
    // box, which no fixed-size Core ML op can take.
    if (sr < 1)
        ctx.fail("sampling_ratio " + std::to_string(sr) +
                 " (adaptive) is not supported: the samples per bin would depend on each box's size; "
                 "use a positive sampling_ratio");
    const int64_t th = ph * sr, tw = pw * sr;
    const float offset = aligned ? 0.5f : 0.0f;

    // corner = (index, y1 * s - offset, x1 * s - offset)            [K, 3]
    mil::Value* corner = b.add(
        "add", {{"x", b.add("matmul", {{"x", rois},
                                       {"y", matrix(b, {1, 0, 0, 0, 0, scale, 0, scale, 0, 0, 0, 0, 0, 0, 0}, 5, 3)}})},
                {"y", b.constant(mil::ConstData::fromFloats({0.f, -offset, -offset}, {3}))}});
    // size = ((y2 - y1) * s, (x2 - x1) * s), at least 1 unless aligned     [K, 2]
    mil::Value* size =
        b.add("matmul", {{"x", rois}, {"y", matrix(b, {0, 0, 0, -scale, -scale, 0, 0, scale, scale, 0}, 5, 2)}});
    if (!aligned) size = b.add("maximum", {{"x", size}, {"y", 1.0f}});
    // box = (index, y1 + h/(2 th), x1 + w/(2 tw), y1 + h - h/(2 th), x1 + w - w/(2 tw))   [K, 5]
    const float ah = 0.5f / static_cast<float>(th), aw = 0.5f / static_cast<float>(tw);
    mil::Value* fromCorner = matrix(b, {1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1}, 3, 5);
    mil::Value* fromSize = matrix(b, {0, ah, 0, 1 - ah, 0, 0, 0, aw, 0, 1 - aw}, 2, 5);
    mil::Value* box = b.add("add", {{"x", b.add("matmul", {{"x", corner}, {"y", fromCorner}})},
                                    {"y", b.add("matmul", {{"x", size}, {"y", fromSize}})}});
    mil::Value* roi = b.add("expand_dims", {{"x", box}, {"axes", std::vector<int64_t>{1, 3, 4}}});  // [K, 1, 5, 1, 1]
    mil::Value* crops = b.add("crop_resize", {{"x", input},
                                              {"roi", roi},
                                              {"target_height", th},
                                              {"target_width", tw},
                                              {"normalized_coordinates", false},
                                              {"spatial_scale", 1.0f},
                                              {"box_coordinate_mode", "CORNERS_HEIGHT_FIRST"},
                                              {"sampling_mode", "ALIGN_CORNERS"}});  // [K, 1, C, th, tw]
    mil::Value* out = b.add("squeeze", {{"x", crops}, {"axes", std::vector<int64_t>{1}}});
    if (sr > 1)
        out = b.add("avg_pool", {{"x", out},
                                 {"kernel_sizes", std::vector<int64_t>{sr, sr}},
                                 {"strides", std::vector<int64_t>{sr, sr}},
                                 {"pad_type", "valid"}});
    ctx.bind(0, out);
}

}  // namespace

void populateRoiAlignLowerings(Registry& registry) { registry.add("torchvision::roi_align", lowerRoiAlign); }

}  // namespace ts2coreml::torchvision
