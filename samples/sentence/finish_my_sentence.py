#!/usr/bin/python3
"""The sentence-completion demo: a small GPT-2-style next-token predictor, traced, inside a scripted
generation loop, saved as one TorchScript model that ts2coreml converts with a flexible input length.

    /usr/bin/python3 samples/sentence/finish_my_sentence.py --out models

writes models/finish_my_sentence.pt (and .input, its --input flag). The weights are random (seeded,
nothing downloads) but not arbitrary: the LM head reads the residual stream through a fixed
permutation of the token embeddings, so each step's greedy choice wins by a wide margin (the script
checks it) and the generated tokens are a stable thing to compare exactly across implementations.
"""
import argparse
import math
import os
import sys

import torch
from torch import nn

VOCAB = 256
D_MODEL = 64
HEADS = 4
LAYERS = 2
CONTEXT = 64
SCORE_SCALE = 1.0 / math.sqrt(D_MODEL // HEADS)  # attention scores are q.k / sqrt(head width)
# Smallest accepted gap between the best and second-best logit, relative to the largest |logit|:
# fp16 programs round each op to 2^-11 of its scale, and this leaves room for ~100 such roundings.
MIN_RELATIVE_MARGIN = 0.05


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.register_buffer("causal", torch.tril(torch.ones(CONTEXT, CONTEXT)).view(1, 1, CONTEXT, CONTEXT))

    def forward(self, x):
        batch, length, width = x.size()
        q, k, v = self.qkv(x).split(D_MODEL, dim=2)
        # [batch, length, width] -> [batch, heads, length, width / heads]; sizes from x, not the trace.
        q = q.view(batch, length, HEADS, width // HEADS).transpose(1, 2)
        k = k.view(batch, length, HEADS, width // HEADS).transpose(1, 2)
        v = v.view(batch, length, HEADS, width // HEADS).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) * SCORE_SCALE
        scores = scores.masked_fill(self.causal[:, :, :length, :length] == 0, float("-inf"))
        y = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.proj(y.transpose(1, 2).contiguous().view(batch, length, width))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.attn = CausalSelfAttention()
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.mlp = nn.Sequential(nn.Linear(D_MODEL, 4 * D_MODEL), nn.GELU(), nn.Linear(4 * D_MODEL, D_MODEL))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class NextTokenPredictor(nn.Module):
    """tokens [length] -> logits [length, VOCAB] (GPT-2's layout: pre-norm blocks, final norm)."""

    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(VOCAB, D_MODEL)
        self.position_embedding = nn.Embedding(CONTEXT, D_MODEL)
        self.blocks = nn.Sequential(*[Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.lm_head = nn.Linear(D_MODEL, VOCAB, bias=False)

    def forward(self, tokens):
        positions = torch.arange(0, tokens.size(0), dtype=torch.long)
        x = self.token_embedding(tokens) + self.position_embedding(positions)
        x = self.blocks(x.unsqueeze(0))
        return self.lm_head(self.ln_f(x))[0]


class FinishMySentence(nn.Module):
    """Greedy generation: appends the predictor's most likely next token until it says EOS or the
    sentence fills the context."""

    def __init__(self, predictor, eos: int, max_length: int = CONTEXT):
        super().__init__()
        self.predictor = predictor
        self.eos = eos
        self.max_length = max_length

    def forward(self, sentence):
        token = torch.zeros(1, dtype=torch.long)
        while int(token) != self.eos and sentence.size(0) < self.max_length:
            logits = self.predictor(sentence)
            token = torch.argmax(logits[-1, :], dim=0, keepdim=True)
            sentence = torch.cat((sentence, token), 0)
        return sentence


def make_predictor():
    torch.manual_seed(7)
    model = NextTokenPredictor().eval()
    with torch.no_grad():
        # Trained-like scales: unit token embeddings, small positions, residual branches that add to
        # the stream rather than drown it.
        model.token_embedding.weight.normal_(0.0, 1.0)
        model.position_embedding.weight.normal_(0.0, 0.1)
        for block in model.blocks:
            block.attn.proj.weight.mul_(0.5)
            block.mlp[2].weight.mul_(0.5)
        # Each token predicts a fixed successor: the head is the permuted token embeddings, so the
        # winning logit is ~|e|^2 = D_MODEL against ~N(0, D_MODEL) for the others.
        successor = torch.randperm(VOCAB)
        model.lm_head.weight.copy_(model.token_embedding.weight[successor])
    return model


def generate(predictor, prompt, eos, max_length=CONTEXT):
    """The loop of FinishMySentence in plain Python, with the margin of every step."""
    sentence, margins = prompt.clone(), []
    with torch.no_grad():
        while sentence.size(0) < max_length:
            logits = predictor(sentence)[-1]
            top = torch.topk(logits, 2).values
            margins.append(float((top[0] - top[1]) / logits.abs().max()))
            token = torch.argmax(logits).view(1)
            sentence = torch.cat((sentence, token))
            if int(token) == eos:
                break
    return sentence, margins


def choose_eos(predictor):
    """A token the predictor reaches a few steps after a small token id (verify's random prompts
    are ids 0..9), so that some sentences end at EOS and others fill the context."""
    sentence, _ = generate(predictor, torch.tensor([3]), eos=-1, max_length=10)
    return int(sentence[-1])


def build(out_dir):
    predictor = make_predictor()
    # Prompts like verify's random ones (token ids 0..9) and a few over the whole vocabulary.
    generator = torch.Generator().manual_seed(1)
    prompts = [torch.randint(0, 10, (n,), generator=generator) for n in (1, 2, 3, 5, 8, 13, 21, 34, 55)]
    prompts += [torch.randint(0, VOCAB, (n,), generator=generator) for n in (1, 4, 16, 40)]
    eos = choose_eos(predictor)
    worst, stopped = 1.0, 0
    for prompt in prompts:
        sentence, margins = generate(predictor, prompt, eos)
        worst = min([worst] + margins)
        stopped += int(sentence[-1]) == eos and sentence.size(0) < CONTEXT
    if worst < MIN_RELATIVE_MARGIN:
        sys.exit("finish_my_sentence: a greedy step is a near-tie (relative margin %.3g)" % worst)

    with torch.no_grad():
        traced = torch.jit.trace(predictor, torch.randint(0, VOCAB, (5,)))
    model = torch.jit.script(FinishMySentence(traced, eos))
    # The scripted loop must agree with the plain one it stands for.
    for prompt in prompts:
        if not torch.equal(model(prompt), generate(predictor, prompt, eos)[0]):
            sys.exit("finish_my_sentence: the scripted model disagrees with eager generation")
    path = os.path.join(out_dir, "finish_my_sentence.pt")
    model.save(path)
    with open(os.path.join(out_dir, "finish_my_sentence.input"), "w") as f:
        f.write("tokens:1..%d:int32\n" % CONTEXT)
    print("made %s (EOS %d; smallest greedy margin %.2f of the logit scale; %d of %d prompts stop at EOS)"
          % (path, eos, worst, stopped, len(prompts)), file=sys.stderr)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="directory for finish_my_sentence.pt")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    build(args.out)


if __name__ == "__main__":
    main()
