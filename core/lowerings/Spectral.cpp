// Spectral ops: the discrete Fourier transforms of torch.fft (fft, ifft, rfft, irfft and their n-D
// and 2-D forms), stft and hann_window, in real arithmetic. A 1-D transform along a dim is a real
// linear map of the dim's values (interleaved (real, imaginary) pairs for complex tensors, see
// Complex.h), so it is one `linear` op with a constant cos/sin basis; stft is one strided `conv`
// whose kernels are the windowed basis. Zero-padding or cropping the signal to `n` points is folded
// into the basis (rows of the missing or cropped samples are zero).
#include "lowerings/Builtins.h"
#include "lowerings/Complex.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml::lowering {
namespace {

constexpr double kPi = 3.14159265358979323846;
/// The largest basis built (64 MiB of fp32): a DFT of n points needs about n^2 values.
constexpr int64_t kMaxBasisValues = int64_t{1} << 24;

enum class Kind {
    C2C,  ///< complex (or real) input -> complex output of n points
    R2C,  ///< real input -> the n / 2 + 1 non-negative frequencies (onesided)
    C2R,  ///< n / 2 + 1 frequencies of a Hermitian signal -> its n real points
};

/// One 1-D transform: `length` values of the input dim, transformed as `n` points.
struct Dft {
    Kind kind = Kind::C2C;
    bool inverse = false;
    bool complexIn = false;
    int64_t length = 0;
    int64_t n = 0;
    double scale = 1.0;

    bool complexOut() const { return kind != Kind::C2R; }
    int64_t outLength() const { return kind == Kind::R2C ? n / 2 + 1 : n; }
    int64_t rows() const { return complexIn ? 2 * length : length; }
    int64_t cols() const { return complexOut() ? 2 * outLength() : outLength(); }
};

/// e^{sign 2 pi i k t / n} with the product reduced mod n first, so large k t lose no precision.
double angle(int64_t k, int64_t t, int64_t n) { return 2.0 * kPi * static_cast<double>((k * t) % n) / n; }

/// The transform as a real matrix [cols][rows]: output value c = sum over r of basis[c][r] * input[r].
std::vector<float> basisOf(const Dft& d) {
    const int64_t rows = d.rows(), cols = d.cols();
    std::vector<float> w(static_cast<size_t>(rows * cols), 0.0f);
    auto at = [&](int64_t c, int64_t r) -> float& { return w[static_cast<size_t>(c * rows + r)]; };
    const int64_t re = d.complexIn ? 2 : 1;  // row stride of one input point
    if (d.kind == Kind::C2R) {
        // x_t = scale * sum_k w_k (Re X_k cos - Im X_k sin), w_k = 2 for the bins whose mirror
        // image n - k is not given; the imaginary parts of bins 0 and n / 2 meet sin = 0.
        for (int64_t k = 0; k < std::min(d.length, d.n / 2 + 1); ++k) {
            const double weight = (k == 0 || 2 * k == d.n) ? 1.0 : 2.0;
            for (int64_t t = 0; t < d.n; ++t) {
                const double a = angle(k, t, d.n);
                at(t, re * k) = static_cast<float>(d.scale * weight * std::cos(a));
                if (d.complexIn) at(t, 2 * k + 1) = static_cast<float>(-d.scale * weight * std::sin(a));
            }
        }
        return w;
    }
    // (x + iy)(c + is) = (xc - ys) + i(xs + yc), with s = -sin for the forward transform.
    const double sign = d.inverse ? 1.0 : -1.0;
    for (int64_t t = 0; t < std::min(d.length, d.n); ++t) {
        for (int64_t k = 0; k < d.outLength(); ++k) {
            const double a = angle(k, t, d.n);
            const auto c = static_cast<float>(d.scale * std::cos(a));
            const auto s = static_cast<float>(d.scale * sign * std::sin(a));
            at(2 * k, re * t) = c;
            at(2 * k + 1, re * t) = s;
            if (d.complexIn) {
                at(2 * k, 2 * t + 1) = -s;
                at(2 * k + 1, 2 * t + 1) = c;
            }
        }
    }
    return w;
}

void checkBasisSize(const LoweringContext& ctx, const Dft& d) {
    if (d.rows() * d.cols() > kMaxBasisValues)
        ctx.fail("a transform of " + std::to_string(d.n) + " points (from " + std::to_string(d.length) +
                 " values) needs a " + std::to_string(d.cols()) + " x " + std::to_string(d.rows()) +
                 " real basis, above the " + std::to_string(kMaxBasisValues) +
                 " values ts2coreml builds as a constant; transform fewer points (n)");
}

/// torch's `norm`: which direction is scaled by 1 / n ("backward", the default: the inverse),
/// or both by 1 / sqrt(n) ("ortho").
double normScale(const LoweringContext& ctx, int64_t n, bool inverse) {
    const std::string norm = ctx.isNone("norm") ? "backward" : ctx.getString("norm");
    if (norm == "ortho") return 1.0 / std::sqrt(static_cast<double>(n));
    if (norm == "backward") return inverse ? 1.0 / n : 1.0;
    if (norm == "forward") return inverse ? 1.0 : 1.0 / n;
    ctx.fail("norm '" + norm + "' is not one of 'backward', 'forward', 'ortho'");
}

/// A tensor being transformed: real, or complex pairs.
struct Signal {
    mil::Value* value;
    bool complex;
    int64_t rank() const { return rankOf(value) - (complex ? 1 : 0); }  ///< torch's rank
};

Signal signalArg(LoweringContext& ctx, const std::string& name) {
    const Arg& a = ctx.arg(name);
    if (a.isComplex()) return {a.value(), true};
    return {toFloat(ctx.builder(), ctx.tensor(name)), false};
}

int64_t staticLength(const LoweringContext& ctx, const Signal& s, int64_t dim) {
    const auto size = staticDim(s.value, dim);
    if (!size)
        ctx.fail("the transformed dim " + std::to_string(dim) + " of " + s.value->type().str() +
                 " must have a static size (the basis is a constant)");
    return *size;
}

/// `s` transformed by `kind` along torch dim `dim` (non-negative); n < 1 means "the input's length"
/// (twice the bins less one for C2R).
Signal transformAlong(LoweringContext& ctx, Signal s, int64_t dim, Kind kind, bool inverse, int64_t n) {
    mil::Builder& b = ctx.builder();
    if (kind == Kind::R2C && s.complex) ctx.fail("rfft takes a real tensor, got a complex one");
    Dft d;
    d.kind = kind;
    d.inverse = inverse;
    d.complexIn = s.complex;
    d.length = staticLength(ctx, s, dim);
    d.n = n >= 1 ? n : (kind == Kind::C2R ? 2 * (d.length - 1) : d.length);
    if (d.n < 1) ctx.fail("the transform would have " + std::to_string(d.n) + " points; give n >= 1");
    d.scale = normScale(ctx, d.n, inverse);
    checkBasisSize(ctx, d);

    // Move `dim` last (before the pairs of a complex tensor), transform, move it back.
    const int64_t rank = s.rank();
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < rank; ++i)
        if (i != dim) perm.push_back(i);
    perm.push_back(dim);
    std::vector<int64_t> back(static_cast<size_t>(rank));
    for (int64_t i = 0; i < rank; ++i) back[static_cast<size_t>(perm[static_cast<size_t>(i)])] = i;
    if (s.complex) perm.push_back(rank);
    mil::Value* x = permuted(b, s.value, perm);
    std::vector<Arg> leading = dimArgs(b, x, 0, rank - 1);
    if (s.complex) {
        std::vector<Arg> flat = leading;
        flat.push_back(intArg(d.rows()));
        x = reshapeTo(ctx, x, flat);
    }
    mil::Value* basis = b.constant(mil::ConstData::fromFloats(basisOf(d), {d.cols(), d.rows()}));
    mil::Value* y = b.add("linear", {{"x", x}, {"weight", basis}});
    if (d.complexOut()) {
        std::vector<Arg> pairs = leading;
        pairs.push_back(intArg(d.outLength()));
        pairs.push_back(intArg(2));
        y = reshapeTo(ctx, y, pairs);
        back.push_back(rank);
    }
    return {permuted(b, y, back), d.complexOut()};
}

void bindSignal(LoweringContext& ctx, const Signal& s) {
    ctx.bind(0, s.complex ? Arg::complex(s.value) : Arg::tensor(s.value));
}

// fft_fft / fft_ifft / fft_rfft / fft_irfft(self, n=None, dim=-1, norm=None)
LoweringFn oneDim(Kind kind, bool inverse) {
    return [kind, inverse](LoweringContext& ctx) {
        const Signal s = signalArg(ctx, "self");
        const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), s.rank(), "dim");
        bindSignal(ctx, transformAlong(ctx, s, dim, kind, inverse, ctx.optInt("n").value_or(0)));
    };
}

/// The dims and sizes of an n-D transform (torch's rules): `dim` when given (`s`, if given too,
/// matching it), else the last len(s) dims, else every dim. A size of -1 keeps the input's.
std::pair<std::vector<int64_t>, std::vector<int64_t>> nDims(const LoweringContext& ctx, int64_t rank) {
    std::vector<int64_t> sizes = ctx.isNone("s") ? std::vector<int64_t>{} : intList(ctx, "s");
    std::vector<int64_t> dims;
    if (!ctx.isNone("dim")) {
        for (int64_t d : intList(ctx, "dim")) dims.push_back(normalizeDim(ctx, d, rank, "dim"));
        if (!sizes.empty() && sizes.size() != dims.size())
            ctx.fail("s has " + std::to_string(sizes.size()) + " sizes for " + std::to_string(dims.size()) + " dims");
    } else {
        const auto count = sizes.empty() ? rank : static_cast<int64_t>(sizes.size());
        if (count > rank) ctx.fail("s has more sizes than the input has dims");
        for (int64_t d = rank - count; d < rank; ++d) dims.push_back(d);
    }
    for (size_t i = 0; i < dims.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (dims[i] == dims[j]) ctx.fail("dim " + std::to_string(dims[i]) + " is given twice");
    if (sizes.empty()) sizes.assign(dims.size(), -1);
    return {dims, sizes};
}

// fft_fftn / fft_ifftn / fft_fft2 / fft_ifft2(self, s=None, dim=None, norm=None): one C2C
// transform per dim (scaled per dim, which multiplies to torch's scale of the whole).
LoweringFn nDimComplex(bool inverse) {
    return [inverse](LoweringContext& ctx) {
        Signal s = signalArg(ctx, "self");
        const auto [dims, sizes] = nDims(ctx, s.rank());
        if (dims.empty()) ctx.fail("no dims to transform");
        for (size_t i = 0; i < dims.size(); ++i) s = transformAlong(ctx, s, dims[i], Kind::C2C, inverse, sizes[i]);
        bindSignal(ctx, s);
    };
}

// fft_rfftn / fft_rfft2: rfft along the last of the dims, then fft along the others.
void lowerRfftn(LoweringContext& ctx) {
    Signal s = signalArg(ctx, "self");
    const auto [dims, sizes] = nDims(ctx, s.rank());
    if (dims.empty()) ctx.fail("no dims to transform");
    s = transformAlong(ctx, s, dims.back(), Kind::R2C, false, sizes.back());
    for (size_t i = 0; i + 1 < dims.size(); ++i) s = transformAlong(ctx, s, dims[i], Kind::C2C, false, sizes[i]);
    bindSignal(ctx, s);
}

// fft_irfftn / fft_irfft2: ifft along all but the last of the dims, then irfft along it.
void lowerIrfftn(LoweringContext& ctx) {
    Signal s = signalArg(ctx, "self");
    const auto [dims, sizes] = nDims(ctx, s.rank());
    if (dims.empty()) ctx.fail("no dims to transform");
    for (size_t i = 0; i + 1 < dims.size(); ++i) s = transformAlong(ctx, s, dims[i], Kind::C2C, true, sizes[i]);
    bindSignal(ctx, transformAlong(ctx, s, dims.back(), Kind::C2R, true, sizes.back()));
}

/// The values of a constant tensor argument, else nullopt.
std::optional<std::vector<double>> constantValues(const LoweringContext& ctx, const std::string& name) {
    const mil::ConstData* data = constantData(ctx.arg(name));
    if (!data) return std::nullopt;
    return data->toDoubles();
}

// stft(self, n_fft, hop_length, win_length, window, [center, pad_mode,] normalized, onesided,
// return_complex): frames of n_fft samples every hop_length, each multiplied by the window (zero-
// padded to n_fft, centered) and transformed: one conv of stride hop_length whose 2 * bins output
// channels are the windowed cos / -sin bases, [B, 2 * bins, frames] -> [B, bins, frames, 2].
void lowerStft(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    if (ctx.arg("self").isComplex()) ctx.fail("stft of a complex signal is not supported");
    mil::Value* x = toFloat(b, ctx.tensor("self"));
    const int64_t rank = rankOf(x);
    if (rank != 1 && rank != 2) ctx.fail("stft takes a 1-D or 2-D (batch, time) signal, got " + x->type().str());
    const int64_t nFft = ctx.getInt("n_fft");
    const int64_t hop = ctx.optInt("hop_length").value_or(nFft / 4);
    const int64_t winLength = ctx.optInt("win_length").value_or(nFft);
    if (nFft < 1 || hop < 1 || winLength < 1 || winLength > nFft)
        ctx.fail("need n_fft >= 1, hop_length >= 1 and 1 <= win_length <= n_fft (got " + std::to_string(nFft) + ", " +
                 std::to_string(hop) + ", " + std::to_string(winLength) + ")");
    std::vector<double> window(static_cast<size_t>(winLength), 1.0);
    if (!ctx.isNone("window")) {
        auto values = constantValues(ctx, "window");
        if (!values)
            ctx.fail("the window must be a constant (such as torch.hann_window(n)), not computed by the model");
        if (static_cast<int64_t>(values->size()) != winLength)
            ctx.fail("the window has " + std::to_string(values->size()) + " values, win_length is " +
                     std::to_string(winLength));
        window = *values;
    }
    const bool onesided = !ctx.isNone("onesided") ? ctx.getBool("onesided") : true;
    const bool normalized = ctx.getBool("normalized");
    const bool returnComplex = !ctx.isNone("return_complex") && ctx.getBool("return_complex");

    // [B, 1, L], padded by n_fft / 2 on both sides when centered.
    x = b.add("expand_dims", {{"x", x}, {"axes", rank == 1 ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{1}}});
    if (ctx.hasArg("center") && ctx.getBool("center")) {
        const Arg mode = Arg::constant(mil::Literal(ctx.getString("pad_mode")));
        x = callTensor(ctx, "aten::pad",
                       {{"self", Arg::tensor(x)},
                        {"pad", Arg::constant(mil::Literal(std::vector<int64_t>{nFft / 2, nFft / 2}))},
                        {"mode", mode},
                        {"value", Arg::none()}});
    }

    Dft d;
    d.kind = onesided ? Kind::R2C : Kind::C2C;
    d.length = d.n = nFft;
    d.scale = normalized ? 1.0 / std::sqrt(static_cast<double>(nFft)) : 1.0;
    checkBasisSize(ctx, d);
    std::vector<float> kernel = basisOf(d);  // [2 * bins][n_fft]
    const int64_t offset = (nFft - winLength) / 2;
    for (int64_t c = 0; c < d.cols(); ++c)
        for (int64_t t = 0; t < nFft; ++t) {
            const bool inside = t >= offset && t < offset + winLength;
            kernel[static_cast<size_t>(c * nFft + t)] *=
                inside ? static_cast<float>(window[static_cast<size_t>(t - offset)]) : 0.0f;
        }
    mil::Value* weight = b.constant(mil::ConstData::fromFloats(kernel, {d.cols(), 1, nFft}));
    mil::Value* y = b.add("conv", {{"x", x},
                                   {"weight", weight},
                                   {"strides", std::vector<int64_t>{hop}},
                                   {"pad_type", "valid"},
                                   {"dilations", std::vector<int64_t>{1}},
                                   {"groups", int64_t{1}}});
    std::vector<Arg> split = dimArgs(b, y, 0, 1);
    const int64_t bins = d.outLength();
    split.insert(split.end(), {intArg(bins), intArg(2), dimArg(b, y, 2)});
    y = b.add("transpose", {{"x", reshapeTo(ctx, y, split)}, {"perm", std::vector<int64_t>{0, 1, 3, 2}}});
    if (rank == 1) y = b.add("squeeze", {{"x", y}, {"axes", std::vector<int64_t>{0}}});
    ctx.bind(0, returnComplex ? Arg::complex(y) : Arg::tensor(y));
}

// hann_window(window_length, periodic=True): 0.5 - 0.5 cos(2 pi i / M), M = N (periodic) or N - 1.
void lowerHannWindow(LoweringContext& ctx) {
    const int64_t n = ctx.getInt("window_length");
    const bool periodic = !ctx.hasArg("periodic") || ctx.getBool("periodic");
    if (n < 0) ctx.fail("window_length must be >= 0, got " + std::to_string(n));
    if (!ctx.isNone("dtype")) {
        const auto dtype = dtypeFromTorch(ctx.getInt("dtype"));
        if (!dtype || !isFloat(*dtype)) ctx.fail("hann_window needs a floating dtype");
    }
    std::vector<float> w(static_cast<size_t>(n), 1.0f);
    const double m = periodic ? static_cast<double>(n) : static_cast<double>(n - 1);
    if (n > 1)
        for (int64_t i = 0; i < n; ++i)
            w[static_cast<size_t>(i)] =
                static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * static_cast<double>(i) / m));
    ctx.bind(0, Arg::constTensor(mil::ConstData::fromFloats(w, {n})));
}

}  // namespace

void populateSpectralLowerings(Registry& r) {
    r.add("aten::fft_fft", oneDim(Kind::C2C, false));
    r.add("aten::fft_ifft", oneDim(Kind::C2C, true));
    r.add("aten::fft_rfft", oneDim(Kind::R2C, false));
    r.add("aten::fft_irfft", oneDim(Kind::C2R, true));
    r.add("aten::fft_fftn", nDimComplex(false));
    r.add("aten::fft_ifftn", nDimComplex(true));
    r.add("aten::fft_fft2", nDimComplex(false));
    r.add("aten::fft_ifft2", nDimComplex(true));
    r.add("aten::fft_rfftn", lowerRfftn);
    r.add("aten::fft_rfft2", lowerRfftn);
    r.add("aten::fft_irfftn", lowerIrfftn);
    r.add("aten::fft_irfft2", lowerIrfftn);
    r.add("aten::stft", lowerStft);
    r.add("aten::hann_window", lowerHannWindow);
}

TS2COREML_FAMILY(Registry, Spectral, populateSpectralLowerings)

}  // namespace ts2coreml::lowering
