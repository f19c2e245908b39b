#!/usr/bin/python3
"""Conversion benchmark: wall time and peak RSS of `ts2coreml convert` next to a bare
torch::jit::load of the same file (the target: convert within 1.5x the load's time, and peak memory
within the load's plus one copy of the output weights).

    /usr/bin/python3 tests/bench/convert_bench.py BUILD_DIR MODELS_DIR [names...]
"""
import os
import resource
import subprocess
import sys
import tempfile
import time


def measure(cmd):
    """Wall seconds and peak RSS (MiB) of one child process."""
    pid_start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - pid_start
    if status != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024.0


def weights_mib(package):
    path = os.path.join(package, "Data", "com.apple.CoreML", "weights", "weight.bin")
    return os.path.getsize(path) / 2**20


def main():
    build, models = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or ["resnet50", "deeplabv3_resnet50"]
    header = f"{'model':20} {'prec':5} {'load_s':>7} {'load_MiB':>9} {'conv_s':>7} {'conv_MiB':>9} " \
             f"{'t_ratio':>7} {'extra_MiB':>9} {'weights_MiB':>11}"
    print(header)
    with tempfile.TemporaryDirectory() as out:
        for name in names:
            pt = os.path.join(models, name + ".pt")
            with open(os.path.join(models, name + ".input")) as f:
                spec = f.read().strip()
            load_s, load_m = min(measure([os.path.join(build, "tests", "ts2coreml_bare_load"), pt]) for _ in range(3))
            for prec in ("fp32", "fp16"):
                pkg = os.path.join(out, f"{name}_{prec}.mlpackage")
                runs = [measure([os.path.join(build, "ts2coreml"), "convert", pt, "--input", spec,
                                 "--precision", prec, "-o", pkg]) for _ in range(3)]
                conv_s, conv_m = min(runs)
                print(f"{name:20} {prec:5} {load_s:7.2f} {load_m:9.0f} {conv_s:7.2f} {conv_m:9.0f} "
                      f"{conv_s / load_s:7.2f} {conv_m - load_m:9.0f} {weights_mib(pkg):11.0f}")


if __name__ == "__main__":
    main()
