#!/usr/bin/python3
"""Makes the seed corpus of the model fuzz target (tests/fuzz/corpus/model): tiny TorchScript models
(random weights) converted by ts2coreml to both formats, each wrapped as the target reads its input
(tests/fuzz/Targets.cpp, fuzzModel): byte 0, then
  0: the .mlmodel file;
  1: a u32 (little-endian) length, the .mlpackage's model spec, then its weights/weight.bin;
  2: a u32 length, the .mlpackage's Manifest.json, then its model spec.

    /usr/bin/python3 tests/fuzz/make_model_corpus.py BUILD_DIR   (BUILD_DIR/ts2coreml converts)
"""
import os
import struct
import subprocess
import sys
import tempfile

import torch


class Conv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        y = torch.nn.functional.adaptive_avg_pool2d(y, 1).flatten(1)
        return torch.softmax(self.fc(y), 1)


class Control(torch.nn.Module):
    def forward(self, x):
        if bool(x.sum() > 0):
            y = x * 2.0
        else:
            y = x - 1.0
        i = 0
        while i < x.size(0):
            y = torch.cat([y, x[:1]], 0)
            i += 1
        return y


class Mixed(torch.nn.Module):
    def forward(self, x, idx):
        a = x.reshape(2, -1).transpose(0, 1)
        b = torch.matmul(a, a.t()).sum(1, keepdim=True)
        g = torch.gather(x, 1, idx.long())
        return torch.nn.functional.gelu(b), g.max(1).values, torch.layer_norm(x, [6])


class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(4, 5)
        self.out = torch.nn.Linear(5, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.out(y)


def wrap(mode, *parts):
    out = bytes([mode])
    for p in parts[:-1]:
        out += struct.pack("<I", len(p)) + p
    return out + parts[-1]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    build = sys.argv[1]
    host = os.path.join(build, "ts2coreml")
    corpus = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "model")
    os.makedirs(corpus, exist_ok=True)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        labels = os.path.join(tmp, "labels.txt")
        with open(labels, "w") as f:
            f.write("cat\ndog\nbird\n")
        conv = torch.jit.trace(Conv().eval(), torch.rand(1, 3, 8, 8))
        models = {
            "conv": (conv, ["--input", "x:1,3,8,8"]),
            "conv_enumerated": (conv, ["--input", "x:1,3,8,8|1,3,12,12"]),
            "classifier": (conv, ["--image", "x:1,3,8,8:scale=0.0039:bias=-0.5,-0.4,-0.3:bgr",
                                  "--class-labels", labels, "--author", "me", "--metadata", "k=v"]),
            "control": (torch.jit.script(Control()), ["--input", "x:1..4,3"]),
            "mixed": (torch.jit.trace(Mixed(), (torch.rand(2, 6), torch.zeros(2, 3, dtype=torch.int32))),
                      ["--input", "x:2,6", "--input", "idx:2,3:int32"]),
            "lstm": (torch.jit.trace(Tagger().eval(), torch.rand(3, 1, 4)), ["--input", "x:3,1,4"]),
        }
        for name, (module, args) in models.items():
            pt = os.path.join(tmp, name + ".pt")
            module.save(pt)
            for fmt, extra in (("nn", []), ("nn_fp16", ["--precision", "fp16"]), ("pkg", []),
                               ("pkg_fp32", ["--precision", "fp32"])):
                if name not in ("conv", "mixed") and fmt in ("nn_fp16", "pkg_fp32"):
                    continue
                out = os.path.join(tmp, name + "_" + fmt + (".mlmodel" if fmt.startswith("nn") else ".mlpackage"))
                subprocess.run([host, "convert", pt, "-o", out] + args + extra, check=True,
                               stdout=subprocess.DEVNULL)
                if fmt.startswith("nn"):
                    seeds = {fmt: wrap(0, read(out))}
                else:
                    data = os.path.join(out, "Data", "com.apple.CoreML")
                    spec = read(os.path.join(data, "model.mlmodel"))
                    weights = os.path.join(data, "weights", "weight.bin")
                    seeds = {fmt: wrap(1, spec, read(weights) if os.path.exists(weights) else b"")}
                    if name == "conv" and fmt == "pkg":
                        seeds["manifest"] = wrap(2, read(os.path.join(out, "Manifest.json")), spec)
                for suffix, blob in seeds.items():
                    with open(os.path.join(corpus, name + "_" + suffix), "wb") as f:
                        f.write(blob)


if __name__ == "__main__":
    main()
