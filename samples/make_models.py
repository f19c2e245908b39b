#!/usr/bin/python3
"""Makes the sample TorchScript models ts2coreml converts, with random weights (nothing downloads).

Run with Debian's interpreter, which has python3-torch and python3-torchvision:

    /usr/bin/python3 samples/make_models.py --out models            # resnet18 only (the quick start)
    /usr/bin/python3 samples/make_models.py --out models --all      # every sample model

Each model is traced in eval mode and saved as NAME.pt; NAME.input says its --input flag. --all
also makes the sentence-completion demo, finish_my_sentence.pt (samples/sentence/), and the
small models of the end-to-end tests: an LSTM tagger, lstm_tagger.pt (token ids -> embedding ->
bidirectional LSTM -> linear -> log_softmax), and transformer_encoder.pt (torch's fused encoder
layers).
"""
import argparse
import os
import sys

import torch
import torchvision


class SegmentationOut(torch.nn.Module):
    """deeplabv3 returns a dict; Core ML wants tensors, so the wrapper returns its 'out'."""

    def __init__(self):
        super().__init__()
        self.model = torchvision.models.segmentation.deeplabv3_resnet50(
            weights=None, weights_backbone=None, aux_loss=False)

    def forward(self, x):
        return self.model(x)["out"]


def torchvision_models():
    return {
        "resnet18": (lambda: torchvision.models.resnet18(weights=None), (1, 3, 224, 224)),
        "resnet50": (lambda: torchvision.models.resnet50(weights=None), (1, 3, 224, 224)),
        "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), (1, 3, 224, 224)),
        "mobilenet_v3_large": (lambda: torchvision.models.mobilenet_v3_large(weights=None), (1, 3, 224, 224)),
        "deeplabv3_resnet50": (SegmentationOut, (1, 3, 256, 256)),
    }


class Unsupported(torch.nn.Module):
    """Uses three ops ts2coreml has no lowering for, one inside a nested (scripted if) block."""

    def forward(self, x):
        y = torch.special.erfinv(x.clamp(-0.5, 0.5))
        if bool(x.sum() > 0):
            y = torch.special.i0(y)
        return torch.polygamma(1, y)


class LibraryOp(torch.nn.Module):
    """Calls an op ts2coreml has no lowering for (aten::pairwise_distance) through a torch module, traced:
    the error names the line below, and torch's own line as a note."""

    def __init__(self):
        super().__init__()
        self.distance = torch.nn.PairwiseDistance()

    def forward(self, x, y):
        return self.distance(x, y) * 2.0


class Int64Offsets(torch.nn.Module):
    """Adds int64 offsets, one beyond the int32 range Core ML's integers have (the converter warns
    at the line using it)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("offsets", torch.tensor([1, 2, 3, 2 ** 40]))

    def forward(self, x):
        return x + self.offsets  # int64 beyond int32


class LstmTagger(torch.nn.Module):
    """A sequence tagger (part-of-speech style): token ids -> embedding -> bidirectional LSTM ->
    linear -> log-probabilities of each token's tag."""

    def __init__(self, vocabulary=50, embedding=16, hidden=24, tags=9):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, embedding)
        self.lstm = torch.nn.LSTM(embedding, hidden, batch_first=True, bidirectional=True)
        self.tags = torch.nn.Linear(2 * hidden, tags)

    def forward(self, tokens):
        states, _ = self.lstm(self.embedding(tokens))
        return torch.log_softmax(self.tags(states), dim=-1)


def make_lstm_tagger(path, shape):
    module = LstmTagger().eval()
    with torch.no_grad():
        traced = torch.jit.trace(module, torch.randint(0, 50, shape))
    traced.save(path)
def transformer_encoder(path):
    """A 2-layer nn.TransformerEncoder (d_model 32, 4 heads, batch_first), traced in eval mode under
    no_grad: each layer becomes torch's fused aten::_transformer_encoder_layer_fwd."""
    layer = torch.nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, batch_first=True)
    encoder = torch.nn.TransformerEncoder(layer, 2).eval()
    with torch.no_grad():
        torch.jit.trace(encoder, torch.randn(2, 10, 32)).save(path)
    with open(path[: -len(".pt")] + ".input", "w") as f:
        f.write("x:2,10,32\n")


def calibrate(module, shape):
    """Random weights alone let activations shrink layer after layer (a fresh mobilenet_v2 answers
    about 1e-9 everywhere), which would make any numerical comparison of outputs vacuous. As training
    would, give every batch norm an affine transform and the statistics of its actual inputs (here
    random images), so each layer's output stays of the order of 1."""
    norms = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in norms:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
            bn.reset_running_stats()
            bn.momentum = None  # a plain average over the calibration batches
        # Trained residual networks keep each residual branch small next to the identity path;
        # random ones do not, and then amplify rounding like a chaotic system (fp32 itself drifts
        # 1e-4 from fp64 on deeplabv3). Small last-norm scales give the trained kind of network.
        for block in module.modules():
            if isinstance(block, torchvision.models.resnet.Bottleneck):
                block.bn3.weight.uniform_(0.1, 0.3)
            elif isinstance(block, torchvision.models.resnet.BasicBlock):
                block.bn2.weight.uniform_(0.1, 0.3)
        module.train()
        for _ in range(2):
            module(torch.randn(2, *shape[1:]))
        for bn in norms:
            bn.momentum = 0.1


def save(module, shape, path):
    calibrate(module, shape)
    module.eval()
    with torch.no_grad():
        traced = torch.jit.trace(module, torch.randn(*shape))
    traced.save(path)


def make_sentence_demo(out):
    """The sentence-completion demo (a traced predictor in a scripted loop), made again when its
    script changed since."""
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "sentence", "finish_my_sentence.py")
    path = os.path.join(out, "finish_my_sentence.pt")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(script):
        return
    sys.path.insert(0, os.path.dirname(script))
    import finish_my_sentence
    finish_my_sentence.build(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="directory for the .pt files")
    parser.add_argument("--all", action="store_true", help="every sample model, not just resnet18")
    parser.add_argument("--only", nargs="*", help="just these models")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)

    names = args.only or (list(torchvision_models()) + ["finish_my_sentence", "lstm_tagger"]
                          if args.all else ["resnet18"])
    for name in names:
        path = os.path.join(args.out, name + ".pt")
        if name == "finish_my_sentence":
            make_sentence_demo(args.out)
            continue
        if name == "lstm_tagger":
            shape = (1, 12)
            make_lstm_tagger(path, shape)
            with open(os.path.join(args.out, name + ".input"), "w") as f:
                f.write("tokens:" + ",".join(str(d) for d in shape) + ":int32\n")
            print("made", path, file=sys.stderr)
            continue
        if name == "transformer_encoder":
            transformer_encoder(path)
            continue
        if name == "unsupported":
            torch.jit.script(Unsupported()).save(path)
            shape = (1, 4)
        else:
            make, shape = torchvision_models()[name]
            # Made again when this script changed since; otherwise kept (deeplabv3 takes a while).
            if not os.path.exists(path) or os.path.getmtime(path) < os.path.getmtime(__file__):
                save(make(), shape, path)
        with open(os.path.join(args.out, name + ".input"), "w") as f:
            f.write("x:" + ",".join(str(d) for d in shape) + "\n")
        print("made", path, file=sys.stderr)
    if args.all and not args.only:
        torch.jit.script(Unsupported()).save(os.path.join(args.out, "unsupported.pt"))
        torch.jit.script(Int64Offsets()).save(os.path.join(args.out, "int64_offsets.pt"))
        pair = (torch.randn(2, 8), torch.randn(2, 8))
        torch.jit.trace(LibraryOp(), pair).save(os.path.join(args.out, "library_op.pt"))
        transformer_encoder(os.path.join(args.out, "transformer_encoder.pt"))


if __name__ == "__main__":
    main()
