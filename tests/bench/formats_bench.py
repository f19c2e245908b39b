#!/usr/bin/python3
"""The two output formats side by side: for each model, the file size and conversion wall time of
a NeuralNetwork .mlmodel (weights inside the protobuf, fp32 and fp16 weights) and of an ML Program
.mlpackage (weights in weight.bin, fp32 and fp16 precision). Best of three runs.

    /usr/bin/python3 tests/bench/formats_bench.py BUILD_DIR MODELS_DIR [names...]   (default: resnet50)
"""
import os
import subprocess
import sys
import tempfile
import time


def size_mib(path):
    if os.path.isfile(path):
        return os.path.getsize(path) / 2**20
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files) / 2**20


def convert(ts2coreml, pt, spec, out, precision):
    cmd = [ts2coreml, "convert", pt, "--input", spec, "--precision", precision, "-o", out]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    return wall


def main():
    build, models = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or ["resnet50"]
    ts2coreml = os.path.join(build, "ts2coreml")
    print(f"{'model':20} {'format':26} {'precision':9} {'size_MiB':>9} {'convert_s':>9}")
    with tempfile.TemporaryDirectory() as out:
        for name in names:
            pt = os.path.join(models, name + ".pt")
            with open(os.path.join(models, name + ".input")) as f:
                spec = f.read().strip().split(" ")[0]
            for ext, label in ((".mlmodel", "NeuralNetwork .mlmodel"), (".mlpackage", "ML Program .mlpackage")):
                for precision in ("fp32", "fp16"):
                    path = os.path.join(out, f"{name}_{precision}{ext}")
                    wall = min(convert(ts2coreml, pt, spec, path, precision) for _ in range(3))
                    print(f"{name:20} {label:26} {precision:9} {size_mib(path):9.1f} {wall:9.2f}")


if __name__ == "__main__":
    main()
