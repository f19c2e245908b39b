// Spectral lowerings (core/lowerings/Spectral.cpp) and the complex plumbing (core/lowerings/
// Complex.cpp), checked against LibTorch in both formats. A complex result is made real inside each
// case (abs, view_as_real, real, imag): a model cannot return a complex tensor.
//
// Tolerance: the default fp32 check (atol 1e-4 + rtol 1e-4 of the output's largest magnitude); a
// DFT sums n products, so its error grows with n like the output's scale does (n = 400: outputs
// near 30, rounding near 1e-5).
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"rfft magnitude",
     R"(def forward(self, x):
    return torch.fft_rfft(x).abs())",
     {{2, 16}},
     {{"linear", 1}, {"sqrt", 1}},
     {{2, 9}}},
    {"rfft zero-padded to an odd n along dim 1",
     R"(def forward(self, x):
    return torch.view_as_real(torch.fft_rfft(x, n=21, dim=1)))",
     {{3, 16}},
     {{"linear", 1}},
     {{3, 11, 2}}},
    {"rfft cropped along dim 0, ortho, real part",
     R"(def forward(self, x):
    return torch.fft_rfft(x, 7, 0, 'ortho').real)",
     {{10, 3}},
     {{"linear", 1}, {"transpose", 2}},
     {{4, 3}}},
    {"fft of a real tensor along a negative dim, forward norm, imaginary part",
     R"(def forward(self, x):
    return torch.fft_fft(x, dim=-2, norm='forward').imag)",
     {{2, 3, 8}},
     {{"linear", 1}},
     {{2, 3, 8}}},
    {"fft of a complex tensor",
     R"(def forward(self, x, y):
    return torch.view_as_real(torch.fft_fft(torch.complex(x, y))))",
     {{2, 12}, {2, 12}},
     {{"linear", 1}, {"stack", 1}},
     {{2, 12, 2}}},
    {"ifft of a complex tensor zero-padded to an odd n, batch dims",
     R"(def forward(self, x, y):
    return torch.view_as_real(torch.fft_ifft(torch.complex(x, y), n=11, dim=1)))",
     {{2, 9, 3}, {2, 9, 3}},
     {{"linear", 1}},
     {{2, 11, 3, 2}}},
    {"ifft cropped, ortho",
     R"(def forward(self, x, y):
    return torch.fft_ifft(torch.complex(x, y), 5, norm='ortho').abs())",
     {{4, 8}, {4, 8}},
     {{"linear", 1}},
     {{4, 5}}},
    {"irfft of a half spectrum",
     R"(def forward(self, x, y):
    return torch.fft_irfft(torch.complex(x, y)))",
     {{2, 9}, {2, 9}},
     {{"linear", 1}},
     {{2, 16}}},
    {"irfft to an odd n",
     R"(def forward(self, x, y):
    return torch.fft_irfft(torch.complex(x, y), n=15, dim=-1, norm='forward'))",
     {{2, 8}, {2, 8}},
     {{"linear", 1}},
     {{2, 15}}},
    {"irfft cropped bins along dim 0, ortho",
     R"(def forward(self, x, y):
    return torch.fft_irfft(torch.complex(x, y), 6, 0, 'ortho'))",
     {{9, 2}, {9, 2}},
     {{"linear", 1}},
     {{6, 2}}},
    {"irfft of a real tensor",
     R"(def forward(self, x):
    return torch.fft_irfft(x, 10))",
     {{3, 6}},
     {{"linear", 1}},
     {{3, 10}}},
    {"rfft then irfft round trip",
     R"(def forward(self, x):
    return torch.fft_irfft(torch.fft_rfft(x), 13))",
     {{2, 13}},
     {{"linear", 2}},
     {{2, 13}}},
    {"fftn over every dim",
     R"(def forward(self, x):
    return torch.view_as_real(torch.fft_fftn(x)))",
     {{3, 4, 5}},
     {{"linear", 3}},
     {{3, 4, 5, 2}}},
    {"fftn with sizes and negative dims, ortho",
     R"(def forward(self, x):
    return torch.fft_fftn(x, s=[6, 2], dim=[-1, 0], norm='ortho').abs())",
     {{3, 4, 5}},
     {{"linear", 2}},
     {{2, 4, 6}}},
    {"fftn with sizes only",
     R"(def forward(self, x):
    return torch.fft_fftn(x, s=[3, 7]).imag)",
     {{2, 4, 5}},
     {{"linear", 2}},
     {{2, 3, 7}}},
    {"ifftn of a complex tensor over two dims, forward norm",
     R"(def forward(self, x, y):
    return torch.view_as_real(torch.fft_ifftn(torch.complex(x, y), dim=[1, 2], norm='forward')))",
     {{2, 3, 4}, {2, 3, 4}},
     {{"linear", 2}},
     {{2, 3, 4, 2}}},
    {"rfftn over two dims",
     R"(def forward(self, x):
    return torch.fft_rfftn(x, dim=(1, 2)).abs())",
     {{2, 6, 7}},
     {{"linear", 2}},
     {{2, 6, 4}}},
    {"irfftn with sizes",
     R"(def forward(self, x, y):
    return torch.fft_irfftn(torch.complex(x, y), s=[4, 10]))",
     {{3, 4, 6}, {3, 4, 6}},
     {{"linear", 2}},
     {{3, 4, 10}}},
    {"fft2 and ifft2",
     R"(def forward(self, x):
    return torch.view_as_real(torch.fft_ifft2(torch.fft_fft2(x))))",
     {{2, 4, 6}},
     {{"linear", 4}},
     {{2, 4, 6, 2}}},
    {"rfft2 and irfft2 round trip",
     R"(def forward(self, x):
    return torch.fft_irfft2(torch.fft_rfft2(x), s=[4, 6]))",
     {{2, 4, 6}},
     {{"linear", 4}},
     {{2, 4, 6}}},
    {"stft magnitude with a hann window, centered",
     R"(def forward(self, x):
    return torch.stft(x, 64, 16, window=torch.hann_window(64), center=True, pad_mode='reflect', return_complex=True).abs())",
     {{1, 400}},
     {{"conv", 1}, {"pad", 1}},
     {{1, 33, 26}}},
    {"stft of n_fft 400 and hop 160, as a speech front end",
     R"(def forward(self, x):
    return torch.stft(x, 400, 160, window=torch.hann_window(400), center=True, return_complex=True).abs().pow(2))",
     {{2, 3200}},
     {{"conv", 1}},
     {{2, 201, 21}}},
    {"stft of a 1-D signal, no window, not centered, two-sided, normalized, real pairs",
     R"(def forward(self, x):
    return torch.stft(x, 32, normalized=True, onesided=False, return_complex=False))",
     {{200}},
     {{"conv", 1}},
     {{32, kAnyDim, 2}}},
    {"stft with a shorter symmetric window",
     R"(def forward(self, x):
    return torch.stft(x, 32, 10, 20, torch.hann_window(20, periodic=False), return_complex=True).real)",
     {{2, 150}},
     {{"conv", 1}},
     {{2, 17, kAnyDim}}},
    {"stft not centered",
     R"(def forward(self, x):
    return torch.stft(x, 32, 8, center=False, return_complex=True).abs())",
     {{2, 100}},
     {{"conv", 1}, {"pad", 0}},
     {{2, 17, 9}}},
    {"stft centered with constant padding",
     R"(def forward(self, x):
    return torch.stft(x, 16, 4, window=torch.hann_window(16), center=True, pad_mode='constant', return_complex=True).imag)",
     {{1, 50}},
     {{"conv", 1}, {"pad", 1}},
     {{1, 9, 13}}},
    {"hann windows, periodic and symmetric",
     R"(def forward(self, x):
    return x * torch.hann_window(8) + torch.hann_window(8, False))",
     {{3, 8}},
     {{"mul", 1}, {"add", 1}},
     {{3, 8}}},
    {"polar",
     R"(def forward(self, x, y):
    return torch.view_as_real(torch.polar(x.abs(), y)))",
     {{2, 5}, {2, 5}},
     {{"cos", 1}, {"sin", 1}},
     {{2, 5, 2}}},
    {"complex of broadcast parts, magnitude",
     R"(def forward(self, x, y):
    return torch.complex(x, y).abs())",
     {{2, 3}, {3}},
     {{"stack", 1}, {"sqrt", 1}},
     {{2, 3}}},
    {"real of a real tensor is the tensor",
     R"(def forward(self, x):
    return torch.real(x) + 1)",
     {{2, 3}},
     {{"add", 1}},
     {{2, 3}}},
    {"power spectrum of a batch of 3-D signals",
     R"(def forward(self, x):
    return torch.fft_rfft(x, dim=2).abs() ** 2)",
     {{2, 3, 10, 4}},
     {{"linear", 1}},
     {{2, 3, 6, 4}}},
};

const std::vector<RefusedCase> kRefused = {
    {"a complex output",
     R"(def forward(self, x):
    return torch.fft_rfft(x))",
     {{2, 8}},
     {"complex tensor, made by 'aten::fft_rfft'", "view_as_real"}},
    {"a complex tensor into an op taking real ones",
     R"(def forward(self, x):
    return torch.sigmoid(torch.fft_fft(x)))",
     {{2, 8}},
     {"'aten::sigmoid'", "complex tensor", "comes from 'aten::fft_fft'"}},
    {"a transform too large for a constant basis",
     R"(def forward(self, x):
    return torch.fft_rfft(x).abs())",
     {{1, 8192}},
     {"8192 points", "basis"}},
    {"a transform along a dynamic dim",
     R"(def forward(self, x):
    return torch.fft_rfft(x, dim=0).abs())",
     {dynamicInput({4, 3}, {0})},
     {"static size"}},
    {"stft with a computed window",
     R"(def forward(self, x, w):
    return torch.stft(x, 16, 4, window=w * 2, return_complex=True).abs())",
     {{1, 64}, {16}},
     {"window must be a constant"}},
    {"stft centered with circular padding",
     R"(def forward(self, x):
    return torch.stft(x, 16, 4, center=True, pad_mode='circular', return_complex=True).abs())",
     {{1, 64}},
     {"'aten::stft'", "pad mode 'circular'"}},
    {"an unknown norm",
     R"(def forward(self, x):
    return torch.fft_fft(x, norm='half').abs())",
     {{8}},
     {"norm 'half'"}},
};

}  // namespace

TEST_CASE("Spectral lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Spectral lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("Spectral lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Spectral lowering cases match LibTorch numerically as NeuralNetwork models") {
    checkNeuralNetworkNumerics(numericCases(kCases));
}
