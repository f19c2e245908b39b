// torchvision::nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor
//
// torchvision keeps, in decreasing score order, every box whose IoU with each kept box is at most
// iou_threshold, and returns their indices: a tensor of data-dependent length. Core ML's
// non_maximum_suppression returns a fixed max_boxes indices (padded) and the count selected. With
// max_boxes = the number of boxes and no score threshold it selects exactly torchvision's boxes;
// slicing its indices to the count gives torchvision's variable-length result.
#include "TorchvisionLowerings.h"

#include <limits>

namespace ts2coreml::torchvision {

namespace {

void lowerNms(LoweringContext& ctx) {
    auto& b = ctx.builder();
    mil::Value* dets = ctx.tensor("dets");      // [N, 4] as (x1, y1, x2, y2)
    mil::Value* scores = ctx.tensor("scores");  // [N]
    const double iou = ctx.getDouble("iou_threshold");
    const TensorType& boxes = dets->type();
    if (boxes.rank() != 2 || !boxes.shape[1].isStatic() || boxes.shape[1].size != 4)
        ctx.fail("dets must be [N, 4] boxes (x1, y1, x2, y2), got " + boxes.str());
    if (scores->type().rank() != 1) ctx.fail("scores must be [N], got " + scores->type().str());
    // max_boxes must be a constant: a box count that varies at run time cannot be expressed.
    if (!boxes.shape[0].isStatic())
        ctx.fail("needs a fixed number of boxes (dets is " + boxes.str() +
                 "): Core ML's non_maximum_suppression selects at most a constant max_boxes");
    const int64_t n = boxes.shape[0].size;

    // (x1, y1, x2, y2) -> (cx, cy, w, h), MIL's box layout: corners @ M.
    //   cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, w = x2 - x1, h = y2 - y1
    mil::Value* toCenter = b.constant(mil::ConstData::fromFloats(
        {0.5f, 0.f, -1.f, 0.f, 0.f, 0.5f, 0.f, -1.f, 0.5f, 0.f, 1.f, 0.f, 0.f, 0.5f, 0.f, 1.f}, {4, 4}));
    mil::Value* centers = b.add("matmul", {{"x", dets}, {"y", toCenter}});
    mil::Value* batchBoxes = b.add("expand_dims", {{"x", centers}, {"axes", std::vector<int64_t>{0}}});     // [1, N, 4]
    mil::Value* batchScores = b.add("expand_dims", {{"x", scores}, {"axes", std::vector<int64_t>{0, 2}}});  // [1, N, 1]
    auto selected =
        b.addOp("non_maximum_suppression", {{"boxes", batchBoxes},
                                            {"scores", batchScores},
                                            {"iou_threshold", iou},
                                            // No box is rejected for its score: torchvision has no score threshold.
                                            {"score_threshold", double{std::numeric_limits<float>::lowest()}},
                                            {"max_boxes", n}});
    // selected: boxes [1, N, 4], scores [1, N, 1], indices [1, N], count [1]
    mil::Value* indices = b.add("squeeze", {{"x", selected[2]}, {"axes", std::vector<int64_t>{0}}});  // [N]
    mil::Value* kept =
        b.add("slice_by_size", {{"x", indices}, {"begin", std::vector<int64_t>{0}}, {"size", selected[3]}});
    ctx.bind(0, kept);
}

}  // namespace

void populateNmsLowerings(Registry& registry) { registry.add("torchvision::nms", lowerNms); }

}  // namespace ts2coreml::torchvision
