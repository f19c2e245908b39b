#!/usr/bin/python3
"""Makes the TorchScript models the plugin tests convert (random weights, nothing downloads):

  torchvision_nms.pt        torchvision::nms on boxes built from its input   --input x:12,4 --input s:12
  torchvision_roi_align.pt  torchvision::roi_align                           --input x:1,3,16,16 --input r:5,4
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


if __name__ == "__main__":
    main()
