// Lowerings of torchvision's detection ops (torchvision/csrc/ops), one file per op.
#pragma once

#include <ts2coreml/Lowering.h>

namespace ts2coreml::torchvision {

/// torchvision::nms -> MIL non_maximum_suppression (Nms.cpp).
void populateNmsLowerings(Registry& registry);
/// torchvision::roi_align -> MIL crop_resize + avg_pool (RoiAlign.cpp).
void populateRoiAlignLowerings(Registry& registry);
/// torchvision::deform_conv2d -> bilinear gathers + grouped 1x1 conv (DeformConv.cpp).
void populateDeformConvLowerings(Registry& registry);

}  // namespace ts2coreml::torchvision
