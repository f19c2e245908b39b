#include "mil/ops/ShapeInference.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <sstream>

namespace ts2coreml::mil::shapes {

std::string str(const Shape& shape) {
    std::ostringstream os;
    os << '[';
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) os << ',';
        if (shape[i].isStatic())
            os << shape[i].size;
        else
            os << (shape[i].symbol.empty() ? "?" : shape[i].symbol);
    }
    os << ']';
    return os.str();
}

Dim freshDim() {
    static std::atomic<uint64_t> counter{0};
    return Dim::symbolic("~" + std::to_string(counter++), 0, -1);
}

bool sameDim(const Dim& a, const Dim& b) {
    if (a.isStatic() || b.isStatic()) return a.isStatic() && b.isStatic() && a.size == b.size;
    return !a.symbol.empty() && a.symbol == b.symbol;
}

bool compatibleDim(const Dim& a, const Dim& b) { return !a.isStatic() || !b.isStatic() || a.size == b.size; }

bool compatibleShape(const Shape& a, const Shape& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!compatibleDim(a[i], b[i])) return false;
    return true;
}

Shape broadcast(const Shape& a, const Shape& b) {
    const size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
        // Align at the last dimension; missing leading dimensions are 1.
        const Dim one = Dim::fixed(1);
        const Dim& da = i + a.size() >= rank ? a[i + a.size() - rank] : one;
        const Dim& db = i + b.size() >= rank ? b[i + b.size() - rank] : one;
        if (sameDim(da, db)) {
            out[i] = da;
        } else if (da.isStatic() && da.size == 1) {
            out[i] = db;
        } else if (db.isStatic() && db.size == 1) {
            out[i] = da;
        } else if (da.isStatic() && db.isStatic()) {
            throw ShapeError("shapes " + str(a) + " and " + str(b) + " are not broadcastable (dimension " +
                             std::to_string(static_cast<int64_t>(i) - static_cast<int64_t>(rank)) + ": " +
                             std::to_string(da.size) + " vs " + std::to_string(db.size) + ")");
        } else if (da.isStatic()) {
            out[i] = da;  // the symbol must be 1 or da at run time; either way the result is da
        } else if (db.isStatic()) {
            out[i] = db;
        } else {
            out[i] = freshDim();
        }
    }
    return out;
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
    if (axis < -rank || axis >= rank)
        throw ShapeError("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank) +
                         " (valid: " + std::to_string(-rank) + ".." + std::to_string(rank - 1) + ")");
    return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> normalizeAxes(const std::vector<int64_t>& axes, int64_t rank) {
    std::vector<int64_t> out;
    for (int64_t a : axes) {
        const int64_t n = normalizeAxis(a, rank);
        if (std::find(out.begin(), out.end(), n) != out.end())
            throw ShapeError("axis " + std::to_string(a) + " is repeated");
        out.push_back(n);
    }
    return out;
}

Dim product(const std::vector<Dim>& dims) {
    int64_t n = 1;
    const Dim* onlyNonUnit = nullptr;
    size_t nonUnit = 0;
    bool allStatic = true;
    for (const Dim& d : dims) {
        if (d.isStatic()) {
            n *= d.size;
            if (d.size == 1) continue;
        } else {
            allStatic = false;
        }
        ++nonUnit;
        onlyNonUnit = &d;
    }
    if (allStatic) return Dim::fixed(n);
    if (nonUnit == 1) return *onlyNonUnit;
    return freshDim();
}

namespace {

int64_t floorDiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

int64_t effectiveKernel(int64_t k, int64_t d) { return (k - 1) * d + 1; }

// Total padding along one dimension (before + after).
int64_t totalPad(const Window& w, size_t r, int64_t in) {
    if (w.padType == "valid") return 0;
    if (w.padType == "custom") return w.pad[2 * r] + w.pad[2 * r + 1];
    // same / same_lower: whatever makes out = ceil(in / s).
    const int64_t s = w.strides[r];
    const int64_t k = effectiveKernel(w.kernel[r], w.dilations[r]);
    return std::max<int64_t>(0, s * ceilDiv(in, s) - in + k - s);
}

int64_t windowSize(const Window& w, size_t r, int64_t in) {
    const int64_t s = w.strides[r];
    const int64_t k = effectiveKernel(w.kernel[r], w.dilations[r]);
    const int64_t pad = totalPad(w, r, in);
    if (!w.ceilMode) return floorDiv(in + pad - k, s) + 1;
    int64_t out = floorDiv(in + pad - k + s - 1, s) + 1;
    // The last window must start inside the input or the left padding.
    if (pad > 0 && static_cast<double>((out - 1) * s) >= static_cast<double>(in) + pad / 2.0) --out;
    return out;
}

}  // namespace

void checkWindow(const Window& w, size_t spatialRank) {
    auto checkLength = [&](const std::vector<int64_t>& v, size_t n, const char* what) {
        if (v.size() != n)
            throw ShapeError(std::string(what) + " has " + std::to_string(v.size()) + " values, expected " +
                             std::to_string(n) + " (one per spatial dimension" +
                             (n == 2 * spatialRank ? ", before and after" : "") + ")");
    };
    checkLength(w.kernel, spatialRank, "kernel");
    checkLength(w.strides, spatialRank, "strides");
    checkLength(w.dilations, spatialRank, "dilations");
    for (size_t i = 0; i < spatialRank; ++i) {
        if (w.kernel[i] < 1) throw ShapeError("kernel size " + std::to_string(w.kernel[i]) + " must be positive");
        if (w.strides[i] < 1) throw ShapeError("stride " + std::to_string(w.strides[i]) + " must be positive");
        if (w.dilations[i] < 1) throw ShapeError("dilation " + std::to_string(w.dilations[i]) + " must be positive");
    }
    if (w.padType != "valid" && w.padType != "same" && w.padType != "same_lower" && w.padType != "custom")
        throw ShapeError("pad_type '" + w.padType + "' is not one of valid, same, same_lower, custom");
    if (w.padType == "custom") {
        checkLength(w.pad, 2 * spatialRank, "pad");
        for (int64_t p : w.pad)
            if (p < 0) throw ShapeError("pad " + std::to_string(p) + " must not be negative");
    }
}

Shape windowOutput(const Shape& in, const Window& w) {
    checkWindow(w, in.size());
    Shape out;
    for (size_t r = 0; r < in.size(); ++r) {
        const bool identity = w.strides[r] == 1 && effectiveKernel(w.kernel[r], w.dilations[r]) == 1 &&
                              (w.padType != "custom" || (w.pad[2 * r] == 0 && w.pad[2 * r + 1] == 0));
        if (in[r].isStatic()) {
            const int64_t n = windowSize(w, r, in[r].size);
            if (n <= 0)
                throw ShapeError("spatial dimension " + std::to_string(r) + " of size " + std::to_string(in[r].size) +
                                 " is too small for the window (kernel " + std::to_string(w.kernel[r]) + ", dilation " +
                                 std::to_string(w.dilations[r]) + "): output size " + std::to_string(n));
            out.push_back(Dim::fixed(n));
        } else {
            out.push_back(mapDim(
                in[r], [&](int64_t i) { return windowSize(w, r, i); }, identity));
        }
    }
    return out;
}

Shape transposedWindowOutput(const Shape& in, const Window& w) {
    checkWindow(w, in.size());
    Shape out;
    for (size_t r = 0; r < in.size(); ++r) {
        const int64_t s = w.strides[r];
        const int64_t k = effectiveKernel(w.kernel[r], w.dilations[r]);
        const int64_t pad = w.padType == "custom" ? w.pad[2 * r] + w.pad[2 * r + 1] : 0;
        auto size = [&](int64_t i) {
            if (w.padType == "same" || w.padType == "same_lower") return i * s;
            return (i - 1) * s + k - pad;
        };
        if (in[r].isStatic()) {
            const int64_t n = size(in[r].size);
            if (n <= 0)
                throw ShapeError("spatial dimension " + std::to_string(r) + " has output size " + std::to_string(n) +
                                 " (padding larger than the output)");
            out.push_back(Dim::fixed(n));
        } else {
            out.push_back(mapDim(in[r], size, s == 1 && (k - pad == 1 || w.padType == "same")));
        }
    }
    return out;
}

Dim sliceDim(const Dim& d, std::optional<int64_t> begin, std::optional<int64_t> end, int64_t stride, bool beginMask,
             bool endMask) {
    if (stride == 0) throw ShapeError("slice stride must not be 0");
    // A masked bound is "from the start" / "to the end"; an unknown one is computed at run time.
    const bool hasBegin = !beginMask && begin.has_value(), hasEnd = !endMask && end.has_value();
    const int64_t b = hasBegin ? *begin : 0, e = hasEnd ? *end : 0;
    const bool beginKnown = beginMask || hasBegin, endKnown = endMask || hasEnd;

    if (!d.isStatic()) {
        if (beginMask && endMask) {
            if (stride == 1 || stride == -1) return d;
            const int64_t s = std::abs(stride);
            return mapDim(d, [s](int64_t n) { return ceilDiv(n, s); });
        }
        // Sizes that do not depend on the input size: x[b:b+1], x[-1:], x[b:b].
        if (hasBegin && hasEnd && ((b >= 0 && e >= 0 && stride > 0) || (b < 0 && e < 0 && stride < 0))) {
            const int64_t n = stride > 0 ? ceilDiv(e - b, stride) : ceilDiv(b - e, -stride);
            if (n <= 1) return Dim::fixed(std::max<int64_t>(0, n));
        }
        if (hasBegin && endMask && ((b == -1 && stride > 0) || (b == 0 && stride < 0))) return Dim::fixed(1);
        return freshDim();
    }

    const int64_t n = d.size;
    if (!beginKnown || !endKnown) return n == 1 ? Dim::fixed(1) : freshDim();
    // Python's slice.indices(n).
    if (stride > 0) {
        auto clamp = [n](int64_t i) { return i < 0 ? std::max<int64_t>(0, i + n) : std::min(i, n); };
        const int64_t start = hasBegin ? clamp(b) : 0;
        const int64_t stop = hasEnd ? clamp(e) : n;
        return Dim::fixed(std::max<int64_t>(0, ceilDiv(stop - start, stride)));
    }
    auto clamp = [n](int64_t i) { return i < 0 ? std::max<int64_t>(-1, i + n) : std::min(i, n - 1); };
    const int64_t start = hasBegin ? clamp(b) : n - 1;
    const int64_t stop = hasEnd ? clamp(e) : -1;
    return Dim::fixed(std::max<int64_t>(0, ceilDiv(start - stop, -stride)));
}

Shape reshape(const Shape& from, const std::vector<int64_t>& target) {
    const std::string what = "cannot reshape " + str(from) + " to [";
    auto describe = [&] {
        std::string s = what;
        for (size_t i = 0; i < target.size(); ++i) s += (i ? "," : "") + std::to_string(target[i]);
        return s + "]";
    };
    const bool hasZero = std::count(target.begin(), target.end(), int64_t{0}) > 0;
    if (hasZero && target.size() != from.size())
        throw ShapeError(describe() + ": 0 (keep the input dimension) needs a shape of the input's rank " +
                         std::to_string(from.size()));
    if (std::count(target.begin(), target.end(), int64_t{-1}) > 1) throw ShapeError(describe() + ": more than one -1");

    Shape out;
    std::optional<size_t> inferred;
    for (size_t i = 0; i < target.size(); ++i) {
        if (target[i] == 0) {
            out.push_back(from[i]);
        } else if (target[i] == -1) {
            inferred = i;
            out.push_back(Dim::fixed(1));  // placeholder
        } else if (target[i] > 0) {
            out.push_back(Dim::fixed(target[i]));
        } else {
            throw ShapeError(describe() + ": size " + std::to_string(target[i]) + " is invalid");
        }
    }

    // Split each side's volume into a static product and a multiset of symbols.
    auto split = [](const Shape& s, std::optional<size_t> skip) {
        std::pair<int64_t, std::map<std::string, int>> v{1, {}};
        for (size_t i = 0; i < s.size(); ++i) {
            if (skip && *skip == i) continue;
            if (s[i].isStatic())
                v.first *= s[i].size;
            else
                ++v.second[s[i].symbol];
        }
        return v;
    };
    const auto [inStatic, inSymbols] = split(from, std::nullopt);
    const auto [outStatic, outSymbols] = split(out, inferred);
    const bool symbolsMatch = inSymbols == outSymbols;

    if (inferred) {
        // Input symbols the output does not mention, counted with multiplicity.
        std::map<std::string, int> missing = inSymbols;
        bool subset = true;
        for (const auto& [sym, n] : outSymbols) {
            if (missing[sym] < n) subset = false;
            missing[sym] -= n;
        }
        std::vector<std::string> left;
        for (const auto& [sym, n] : missing)
            for (int i = 0; i < n; ++i) left.push_back(sym);
        if (symbolsMatch && outStatic != 0) {
            if (inStatic % outStatic != 0)
                throw ShapeError(describe() + ": " + std::to_string(inStatic) + " elements do not divide into " +
                                 std::to_string(outStatic));
            out[*inferred] = Dim::fixed(inStatic / outStatic);
        } else if (subset && left.size() == 1 && inStatic == outStatic) {
            // -1 stands for exactly one input symbol: x.view(-1, 12) of [s0, 3, 4].
            out[*inferred] = *std::find_if(from.begin(), from.end(), [&](const Dim& d) { return d.symbol == left[0]; });
        } else {
            out[*inferred] = freshDim();
        }
    } else if (symbolsMatch && inStatic != outStatic) {
        throw ShapeError(describe() + ": element counts differ (" + std::to_string(inStatic) + " vs " +
                         std::to_string(outStatic) + ")");
    }
    return out;
}

}  // namespace ts2coreml::mil::shapes
