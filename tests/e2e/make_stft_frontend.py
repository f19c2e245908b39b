"""An STFT magnitude front end for speech: waveform [1, 16000] -> |stft| (n_fft 400, hop 160, hann
window) -> log(x + 1e-6) -> a mel filter bank matrix. Writes stft_frontend_traced.pt and
stft_frontend_scripted.pt into --out (run with /usr/bin/python3, which has torch)."""
import argparse
import math
import os

import torch


def mel_matrix(n_fft, n_mels, sample_rate):
    """Triangular filters evenly spaced on the mel scale: [n_fft // 2 + 1, n_mels]."""
    def to_mel(f):
        return 2595.0 * math.log10(1.0 + f / 700.0)

    def to_hz(m):
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    bins = n_fft // 2 + 1
    freqs = torch.linspace(0, sample_rate / 2, bins)
    edges = [to_hz(to_mel(sample_rate / 2) * i / (n_mels + 1)) for i in range(n_mels + 2)]
    fb = torch.zeros(bins, n_mels)
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rising = (freqs - lo) / (mid - lo)
        falling = (hi - freqs) / (hi - mid)
        fb[:, m] = torch.clamp(torch.minimum(rising, falling), min=0.0)
    return fb


class StftFrontEnd(torch.nn.Module):
    def __init__(self, n_fft=400, hop=160, n_mels=40, sample_rate=16000):
        super().__init__()
        self.n_fft = n_fft
        self.hop = hop
        self.register_buffer("mel", mel_matrix(n_fft, n_mels, sample_rate))

    def forward(self, waveform):
        spec = torch.stft(waveform, self.n_fft, self.hop, window=torch.hann_window(self.n_fft),
                          return_complex=True).abs()             # [1, 201, 101]
        return torch.matmul(torch.log(spec + 1e-6).transpose(1, 2), self.mel)  # [1, 101, 40]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = StftFrontEnd().eval()
    waveform = torch.randn(1, 16000)
    torch.jit.trace(model, waveform).save(os.path.join(out, "stft_frontend_traced.pt"))
    torch.jit.script(model).save(os.path.join(out, "stft_frontend_scripted.pt"))


if __name__ == "__main__":
    main()
