"""Quantized TorchScript models, as torch 1.13's eager-mode quantization makes them (random weights,
fixed seeds). Run with /usr/bin/python3, which has torch; writes into --out:

  quantized_cnn.pt        post-training static quantization (qconfig 'fbgemm'), traced: quantize_per_tensor,
                          conv2d_relu, conv2d (grouped, strided), add, add_relu, mul, linear_relu, linear,
                          matmul, dequantize. Input x [2, 3, 8, 8]; outputs [2, 5] and [2, 5, 5].
  quantized_embedding.pt  nn.Embedding quantized with float_qparams_weight_only_qconfig, traced:
                          quantized::embedding_byte. Input indices [3, 4] (int).
  quantized_prepack.pt    scripted; prepacks in forward a weight computed from its input w
                          (quantized::linear_prepack stays in the graph), quantizes x per channel,
                          adds in qint8. Inputs x [4, 6], w [3, 6]; outputs [4, 3], [4, 6], [4, 6].
  quantized_models.json   per model, the scale of each output's last quantization (for a per-channel
                          one the largest): the size of one quantum, from which the tests take their
                          tolerance.
"""
import argparse
import json
import os
import warnings

import torch
import torch.nn as nn
from torch.ao.quantization import (DeQuantStub, QuantStub, convert, float_qparams_weight_only_qconfig,
                                   fuse_modules, get_default_qconfig, prepare)


class QuantizedCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = QuantStub()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2)
        self.add = nn.quantized.FloatFunctional()
        self.add_relu = nn.quantized.FloatFunctional()
        self.mul = nn.quantized.FloatFunctional()
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.relu2 = nn.ReLU()
        self.fc2 = nn.Linear(16, 5)
        self.dequant = DeQuantStub()
        self.dequant_mm = DeQuantStub()
        self.mm_scale = 1.0  # the outer product's quantization, set from calibration (see main)
        self.mm_zero_point = 0
        self.quantized = False

    def forward(self, x):
        x = self.quant(x)
        a = self.relu1(self.conv1(x))
        b = self.conv2(a)
        c = self.add.add(b, b)
        d = self.add_relu.add_relu(c, b)
        e = self.mul.mul(d, c)
        h = self.fc2(self.relu2(self.fc1(torch.flatten(e, 1))))
        if not self.quantized:
            return self.dequant(h), torch.zeros(h.shape[0], 5, 5)
        # torch.ao has no module for a quantized matmul: the op itself, per-batch outer product.
        m = torch.ops.quantized.matmul(h.reshape(-1, 5, 1), h.reshape(-1, 1, 5), self.mm_scale, self.mm_zero_point)
        return self.dequant(h), self.dequant_mm(m)


class QuantizedEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 6)

    def forward(self, indices):
        return self.emb(indices)


class PrepackInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = torch.randn(3)
        self.channel_scales = torch.tensor([0.02, 0.05, 0.03, 0.04, 0.06, 0.025], dtype=torch.double)
        self.channel_zero_points = torch.tensor([0, 3, -2, 5, -7, 1])

    def forward(self, x, w):
        qx = torch.quantize_per_tensor(x, 0.03, 128, torch.quint8)
        qw = torch.quantize_per_tensor(w, 0.01, 0, torch.qint8)
        packed = torch.ops.quantized.linear_prepack(qw, self.bias)
        y = torch.ops.quantized.linear(qx, packed, 0.05, 100)
        # x quantized per channel (qint8), and per tensor (qint8) into a qint8 add.
        px = torch.quantize_per_channel(x, self.channel_scales, self.channel_zero_points, 1, torch.qint8)
        sx = torch.quantize_per_tensor(x, 0.04, -3, torch.qint8)
        z = torch.ops.quantized.add(sx, sx, 0.06, 2)
        return y.dequantize(), z.dequantize(), px.dequantize()


def quantized_cnn():
    torch.manual_seed(0)
    model = QuantizedCnn().eval()
    model.qconfig = get_default_qconfig("fbgemm")
    fuse_modules(model, [["conv1", "relu1"], ["fc1", "relu2"]], inplace=True)
    prepare(model, inplace=True)
    calibration = [torch.randn(2, 3, 8, 8) for _ in range(8)]
    for x in calibration:
        model(x)
    convert(model, inplace=True)
    # The outer product's range over the calibration data gives its quantization (quint8).
    low, high = 0.0, 0.0
    for x in calibration:
        h = model(x)[0]
        outer = h.reshape(-1, 5, 1) @ h.reshape(-1, 1, 5)
        low, high = min(low, outer.min().item()), max(high, outer.max().item())
    model.mm_scale = (high - low) / 255.0
    model.mm_zero_point = int(round(-low / model.mm_scale))
    model.quantized = True
    traced = torch.jit.trace(model, torch.randn(2, 3, 8, 8))
    return traced, [model.fc2.scale, model.mm_scale]


def quantized_embedding():
    torch.manual_seed(1)
    model = QuantizedEmbedding().eval()
    model.emb.qconfig = float_qparams_weight_only_qconfig
    prepare(model, inplace=True)
    convert(model, inplace=True)
    traced = torch.jit.trace(model, torch.randint(0, 20, (3, 4)))
    # The output is float: the rows' own dequantized values, no quantization after the lookup.
    return traced, [0.0]


def quantized_prepack():
    torch.manual_seed(2)
    return torch.jit.script(PrepackInForward().eval()), [0.05, 0.06, 0.06]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    warnings.filterwarnings("ignore")  # the observers' reduce_range deprecation notice
    quanta = {}
    for name, make in [("quantized_cnn", quantized_cnn), ("quantized_embedding", quantized_embedding),
                       ("quantized_prepack", quantized_prepack)]:
        module, scales = make()
        module.save(os.path.join(out, name + ".pt"))
        quanta[name] = scales
    with open(os.path.join(out, "quantized_models.json"), "w") as f:
        json.dump(quanta, f, indent=1)


if __name__ == "__main__":
    main()
