// The torchvision plugin: detection ops of torchvision, with their schemas declared so that a model
// calling them loads without torchvision's C++ library.
#include "TorchvisionLowerings.h"

#include <ts2coreml/Plugin.h>

namespace {

void registerTorchvision(ts2coreml::Registry& registry) {
    // Exactly torchvision 0.14's schemas (torch.ops.torchvision.<op>.default._schema): when
    // torchvision's own library is loaded too, the same schema is no conflict.
    registry.declareTorchOp("torchvision::nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor");
    registry.declareTorchOp(
        "torchvision::roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, "
        "int pooled_width, int sampling_ratio, bool aligned) -> Tensor");
    registry.declareTorchOp(
        "torchvision::deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, "
        "int stride_h, int stride_w, int pad_h, int pad_w, int dilation_h, int dilation_w, int groups, "
        "int offset_groups, bool use_mask) -> Tensor");
    ts2coreml::torchvision::populateNmsLowerings(registry);
    ts2coreml::torchvision::populateRoiAlignLowerings(registry);
    ts2coreml::torchvision::populateDeformConvLowerings(registry);
}

}  // namespace

TS2COREML_PLUGIN("torchvision", "1.0", registerTorchvision)
