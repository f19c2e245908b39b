"""Recurrent models over packed variable-length sequences: token ids [4, 6] -> embedding ->
pack_padded_sequence -> a 2-layer bidirectional LSTM or GRU -> pad_packed_sequence -> linear.
Writes into --out (run with /usr/bin/python3, which has torch; random weights, fixed seeds):
  packed_lstm_input.pt, packed_gru_input.pt   lengths a second input (enforce_sorted False / True)
  packed_lstm_const.pt, packed_gru_const.pt   lengths constant (sorted, enforce_sorted True)
  lengths_unsorted.pt, lengths_sorted.pt      lengths to verify the first two with (max 5 < 6 steps)
The LSTM models also return the final hidden and cell states, the GRU ones the final hidden state."""
import argparse
import os

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class PackedRnn(nn.Module):
    def __init__(self, cell, enforce_sorted, lengths=None):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.rnn = cell(8, 6, num_layers=2, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(12, 5)
        self.enforce_sorted = enforce_sorted
        self.is_lstm = cell is nn.LSTM
        if lengths is not None:
            self.register_buffer("lengths", lengths)

    def run(self, tokens, lengths):
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True,
                                      enforce_sorted=self.enforce_sorted)
        out, state = self.rnn(packed)
        padded, _ = pad_packed_sequence(out, batch_first=True)
        if self.is_lstm:
            return self.linear(padded), state[0], state[1]
        return self.linear(padded), state


class WithLengths(PackedRnn):
    def forward(self, tokens, lengths):
        return self.run(tokens, lengths)


class ConstLengths(PackedRnn):
    def forward(self, tokens):
        return self.run(tokens, self.lengths)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tokens = torch.randint(0, 10, (4, 6))
    unsorted = torch.tensor([3, 5, 2, 4])
    sorted_lengths = torch.tensor([5, 4, 3, 1])
    torch.save(unsorted, os.path.join(args.out, "lengths_unsorted.pt"))
    torch.save(sorted_lengths, os.path.join(args.out, "lengths_sorted.pt"))
    for seed, (name, cell) in enumerate([("lstm", nn.LSTM), ("gru", nn.GRU)]):
        torch.manual_seed(seed)
        model = WithLengths(cell, enforce_sorted=(cell is nn.GRU)).eval()
        example = torch.tensor([6, 5, 3, 2]) if cell is nn.GRU else torch.tensor([6, 3, 5, 2])
        with torch.no_grad():
            traced = torch.jit.trace(model, (tokens, example), check_trace=False)
        traced.save(os.path.join(args.out, "packed_%s_input.pt" % name))
        torch.manual_seed(seed)
        model = ConstLengths(cell, enforce_sorted=True, lengths=torch.tensor([6, 4, 4, 2])).eval()
        with torch.no_grad():
            traced = torch.jit.trace(model, (tokens,), check_trace=False)
        traced.save(os.path.join(args.out, "packed_%s_const.pt" % name))


if __name__ == "__main__":
    main()
