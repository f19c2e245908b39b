#!/usr/bin/python3
"""Converts torchvision 0.14's classification and segmentation models with ts2coreml and verifies
each against LibTorch, printing one row per model and format (random weights, nothing downloads).

    /usr/bin/python3 tests/zoo/torchvision_zoo.py --bin build/ts2coreml --out /tmp/zoo
    /usr/bin/python3 tests/zoo/torchvision_zoo.py --bin build/ts2coreml --out /tmp/zoo --models swin_t maxvit_t
    /usr/bin/python3 tests/zoo/torchvision_zoo.py ... --formats mlpackage mlmodel --precision fp32

Too long for the test suite (the whole zoo is ~80 models, some with 600M parameters): run it by
hand after changing lowerings. Exit 1 when any conversion or verification failed. Each model's .pt
is deleted after its row unless --keep; --skip-larger N leaves out models above N parameters.
"""
import argparse
import os
import subprocess
import sys
import time

import torch
import torchvision


class FirstOutput(torch.nn.Module):
    """Segmentation models return a dict; Core ML wants tensors: the wrapper returns its 'out'."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def catalog():
    """name -> (constructor, input size) for every classification and segmentation model."""
    models = {}
    for name in torchvision.models.list_models(module=torchvision.models):
        size = 299 if name == "inception_v3" else 224
        models[name] = (lambda n=name: torchvision.models.get_model(n, weights=None), (1, 3, size, size))
    for name in torchvision.models.list_models(module=torchvision.models.segmentation):
        models[name] = (
            lambda n=name: FirstOutput(torchvision.models.get_model(n, weights=None, weights_backbone=None)),
            (1, 3, 224, 224),
        )
    return models


def run(cmd):
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    return done.returncode, time.monotonic() - start, (done.stdout + done.stderr).strip()


def summary(text, limit=150):
    """The lines that say what happened: errors first, else the verdict."""
    lines = [line for line in text.splitlines() if "error" in line or "FAIL" in line or "PASS" in line]
    return (lines[0] if lines else (text.splitlines() or [""])[-1])[:limit]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the ts2coreml executable")
    parser.add_argument("--out", required=True, help="working directory for .pt and converted models")
    parser.add_argument("--models", nargs="*", help="just these (default: all)")
    parser.add_argument("--formats", nargs="*", default=["mlpackage"], choices=["mlpackage", "mlmodel"])
    parser.add_argument("--precision", default="fp32", choices=["fp16", "fp32"])
    parser.add_argument("--skip-larger", type=float, default=0, help="skip models above this many parameters")
    parser.add_argument("--keep", action="store_true", help="keep the .pt and converted files")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    models = catalog()
    unknown = [m for m in args.models or [] if m not in models]
    if unknown:
        sys.exit("unknown model(s): " + ", ".join(unknown))
    failed = 0
    print(f"{'model':28} {'params':>8} {'format':10} {'convert':>8} {'verify':>8}  result", flush=True)
    for name in args.models or sorted(models):
        make, shape = models[name]
        model = make().eval()
        # torchvision zeroes some parameters at construction (ViT's classification head, for one), which
        # would make an output identically zero and its comparison empty: give those small random values.
        with torch.no_grad():
            for p in model.parameters():
                if p.numel() and not p.any():
                    p.normal_(0, 0.02)
        params = sum(p.numel() for p in model.parameters())
        if args.skip_larger and params > args.skip_larger:
            print(f"{name:28} {params / 1e6:7.1f}M skipped (larger than --skip-larger)", flush=True)
            continue
        pt = os.path.join(args.out, name + ".pt")
        with torch.no_grad():
            torch.jit.trace(model, torch.rand(shape)).save(pt)
        del model
        for fmt in args.formats:
            out = os.path.join(args.out, name + "." + fmt)
            code, convert_s, text = run([args.bin, "convert", pt, "-o", out, "--input",
                                         "x:" + ",".join(map(str, shape)), "--precision", args.precision])
            verify_s = 0.0
            if code == 0:
                code, verify_s, text = run([args.bin, "verify", pt, out])
            failed += code != 0
            verdict = ("ok   " if code == 0 else "FAIL ") + summary(text)
            print(f"{name:28} {params / 1e6:7.1f}M {fmt:10} {convert_s:7.1f}s {verify_s:7.1f}s  {verdict}", flush=True)
            if not args.keep:
                subprocess.run(["rm", "-rf", out])
        if not args.keep:
            os.remove(pt)
    print(f"{failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
