#!/usr/bin/python3
"""Makes the TorchScript models the plugin tests convert (random weights, nothing downloads):

  torchvision_nms.pt        torchvision::nms on boxes built from its input   --input x:12,4 --input s:12
  torchvision_roi_align.pt  torchvision::roi_align                           --input x:1,3,16,16 --input r:5,4
  deform_*.pt               torchvision::deform_conv2d, traced (see DEFORM)  --input x:B,C,H,W
  sorting.pt                aten::topk, aten::sort, aten::argsort            --input x:3,10
  ndtr.pt                   aten::special_ndtr (samples/plugin lowers it)    --input x:2,8
  mylib_scaled_tanh.pt      mylib::scaled_tanh, a custom op (samples/plugin declares it)  --input x:2,8

Run with Debian's interpreter (python3-torch, python3-torchvision):
    /usr/bin/python3 tests/plugin/make_plugin_models.py --out build/models/plugin
"""
import argparse
import os

import torch
import torchvision


class Nms(torch.nn.Module):
    def forward(self, x, s):
        # Valid boxes (x2 > x1, y2 > y1) from any input: corners, then positive sizes.
        corner = x[:, :2] * 1.5
        boxes = torch.cat([corner, corner + x[:, 2:].abs() * 6.0 + 1.0], 1)
        return torchvision.ops.nms(boxes, s, 0.3)


class RoiAlign(torch.nn.Module):
    def forward(self, x, r):
        # Boxes well inside the 16x16 image: corners in [2, 6], sizes in [2, 8].
        start = 2.0 + torch.sigmoid(r[:, :2]) * 4.0
        end = start + 2.0 + torch.sigmoid(r[:, 2:]) * 6.0
        rois = torch.cat([r[:, :1] * 0.0, start, end], 1)
        # The op itself: torchvision.ops.roi_align's wrapper adds an isinstance branch that torch's
        # passes leave in the scripted graph (a frontend gap, see plugins/torchvision/README.md).
        return torch.ops.torchvision.roi_align(x, rois, 1.0, 3, 3, 2, True)


class Deform(torch.nn.Module):
    """torchvision.ops.DeformConv2d whose offsets (and mask) a conv computes from the input, so they
    vary per position; `reach` scales the offsets (large: samples land outside the image)."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0, dilation=1, groups=1, offset_groups=1, mask=False,
                 reach=2.0, bias=True):
        super().__init__()
        taps = kernel[0] * kernel[1]
        window = dict(stride=stride, padding=padding, dilation=dilation)
        self.offset = torch.nn.Conv2d(cin, 2 * offset_groups * taps, kernel, **window)
        self.mask = torch.nn.Conv2d(cin, offset_groups * taps, kernel, **window) if mask else None
        self.deform = torchvision.ops.DeformConv2d(cin, cout, kernel, groups=groups, bias=bias, **window)
        self.reach = reach

    def forward(self, x):
        offset = self.offset(x) * self.reach
        if self.mask is None:
            return self.deform(x, offset)
        return self.deform(x, offset, torch.sigmoid(self.mask(x)) * 1.5)


# name: (constructor arguments, input size). Non-square kernels and images, so that a swapped
# (dy, dx) or (H, W) shows.
DEFORM = {
    "deform_plain": (dict(cin=3, cout=4, kernel=(3, 3), padding=1), (1, 3, 7, 9)),
    "deform_mask": (dict(cin=3, cout=4, kernel=(3, 2), padding=1, mask=True), (1, 3, 7, 9)),
    "deform_groups": (dict(cin=4, cout=6, kernel=(3, 3), padding=1, groups=2, bias=False), (1, 4, 6, 8)),
    "deform_offset_groups": (dict(cin=4, cout=5, kernel=(2, 3), padding=1, offset_groups=2, mask=True), (1, 4, 6, 8)),
    "deform_strided": (dict(cin=3, cout=4, kernel=(3, 2), stride=2, padding=2, dilation=2), (1, 3, 9, 11)),
    "deform_batch": (dict(cin=4, cout=6, kernel=(3, 3), padding=1, groups=2, offset_groups=2, mask=True),
                     (2, 4, 6, 7)),
    "deform_outside": (dict(cin=2, cout=3, kernel=(3, 3), padding=1, mask=True, reach=6.0), (2, 2, 5, 6)),
}


class Sorting(torch.nn.Module):
    def forward(self, x):
        values, indices = torch.topk(x, 4, 1)
        ascending, order = torch.sort(x, 1)
        return values, indices, ascending, order, torch.argsort(x, 0, True)


class Ndtr(torch.nn.Module):
    def forward(self, x):
        return torch.special.ndtr(x * 3.0) + 1.0


# mylib::scaled_tanh exists only in this script (and in the user's app): its kernel is Python.
_mylib = torch.library.Library("mylib", "DEF")
_mylib.define("scaled_tanh(Tensor x, float alpha=1.) -> Tensor")
_mylib.impl("scaled_tanh", lambda x, alpha=1.0: torch.tanh(x) * alpha, "CPU")


class MylibScaledTanh(torch.nn.Module):
    def forward(self, x):
        return torch.ops.mylib.scaled_tanh(x + 1.0, 2.0)


MODELS = {
    "torchvision_nms": (Nms, "--input x:12,4 --input s:12"),
    "torchvision_roi_align": (RoiAlign, "--input x:1,3,16,16 --input r:5,4"),
    "sorting": (Sorting, "--input x:3,10"),
    "ndtr": (Ndtr, "--input x:2,8"),
    "mylib_scaled_tanh": (MylibScaledTanh, "--input x:2,8"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, (make, flags) in MODELS.items():
        path = os.path.join(args.out, name + ".pt")
        # Scripted, so each node keeps its line in this file.
        torch.jit.script(make().eval()).save(path)
        with open(os.path.join(args.out, name + ".input"), "w") as f:
            f.write(flags + "\n")
    for name, (kwargs, size) in DEFORM.items():
        # Traced, as torchvision.ops.deform_conv2d's optional mask and bias branch in Python.
        torch.manual_seed(sum(map(ord, name)))
        model = Deform(**kwargs).eval()
        torch.jit.trace(model, torch.randn(size)).save(os.path.join(args.out, name + ".pt"))
        with open(os.path.join(args.out, name + ".input"), "w") as f:
            f.write("--input x:" + ",".join(map(str, size)) + "\n")


if __name__ == "__main__":
    main()
