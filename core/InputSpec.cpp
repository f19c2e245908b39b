#include "InputSpec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ts2coreml {

namespace {
/// The largest size of a dimension: sizes computed inside a Core ML program (shape, numel,
/// reshape targets) are int32, since Core ML has no int64.
constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();

int64_t parseDim(const std::string& s, const std::string& spec) {
    size_t used = 0;
    int64_t v = -1;
    try {
        v = std::stoll(s, &used);
    } catch (const std::out_of_range&) {
        throw std::invalid_argument("--input '" + spec + "': dimension " + s + " is too large (at most " +
                                    std::to_string(kMaxDim) + ")");
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != s.size() || v < 0) throw std::invalid_argument("--input '" + spec + "': bad dimension '" + s + "'");
    if (v == 0)
        throw std::invalid_argument("--input '" + spec +
                                    "': a dimension of 0: Core ML inputs have no empty dimensions (each size is at "
                                    "least 1)");
    if (v > kMaxDim)
        throw std::invalid_argument("--input '" + spec + "': dimension " + s + " is too large (at most " +
                                    std::to_string(kMaxDim) + ": Core ML computes sizes in int32)");
    return v;
}

/// A shape whose element count or byte size does not fit in 63 bits cannot exist: refused, with
/// checked arithmetic. `sizes` are the largest each dim can be (an unbounded range counts its lower
/// bound).
void checkByteSize(const std::vector<int64_t>& sizes, DType dtype, const std::string& spec) {
    int64_t elements = 1, bytes = 0;
    for (int64_t s : sizes)
        if (__builtin_mul_overflow(elements, s, &elements))
            throw std::invalid_argument("--input '" + spec + "': the shape has more than 2^63 elements");
    if (__builtin_mul_overflow(elements, static_cast<int64_t>(dtypeSize(dtype)), &bytes))
        throw std::invalid_argument("--input '" + spec + "': the shape's " + std::to_string(elements) +
                                    " elements take more than 2^63 bytes");
}

std::vector<std::string> splitOn(const std::string& text, char separator) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        const size_t at = text.find(separator, start);
        parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) return parts;
        start = at + 1;
    }
}

/// `S1|S2|...`, each shape `D1,D2,...` of fixed sizes and one rank: the input's enumerated shapes.
/// A dim on which they disagree is symbolic, bounded by the smallest and largest size.
void parseEnumeratedShapes(const std::string& dims, const std::string& spec, ModelInput& in) {
    for (const std::string& shapeText : splitOn(dims, '|')) {
        if (shapeText.empty()) throw std::invalid_argument("--input '" + spec + "': empty shape between '|'");
        std::vector<int64_t> sizes;
        for (const std::string& d : splitOn(shapeText, ',')) {
            if (d.empty()) throw std::invalid_argument("--input '" + spec + "': empty dimension");
            if (d.find("..") != std::string::npos)
                throw std::invalid_argument(
                    "--input '" + spec + "': '" + d +
                    "': enumerated shapes list fixed sizes (a range is a single shape: NAME:lo..hi,...)");
            sizes.push_back(parseDim(d, spec));
        }
        if (!in.enumeratedShapes.empty() && sizes.size() != in.enumeratedShapes.front().size())
            throw std::invalid_argument("--input '" + spec + "': enumerated shapes must have one rank (" + shapeText +
                                        " has " + std::to_string(sizes.size()) + " dims, the first " +
                                        std::to_string(in.enumeratedShapes.front().size()) + ")");
        for (const auto& seen : in.enumeratedShapes)
            if (seen == sizes)
                throw std::invalid_argument("--input '" + spec + "': shape " + shapeText + " is listed twice");
        checkByteSize(sizes, in.type.dtype, spec);
        in.enumeratedShapes.push_back(std::move(sizes));
    }
    const auto& first = in.enumeratedShapes.front();
    size_t symbols = 0;
    for (size_t i = 0; i < first.size(); ++i) {
        int64_t lo = first[i], hi = first[i];
        for (const auto& s : in.enumeratedShapes) {
            lo = std::min(lo, s[i]);
            hi = std::max(hi, s[i]);
        }
        in.type.shape.push_back(lo == hi ? Dim::fixed(lo)
                                         : Dim::symbolic(in.name + "_d" + std::to_string(symbols++), lo, hi));
    }
}

}  // namespace

ModelInput parseInputSpec(const std::string& spec) {
    ModelInput in;
    auto colon = spec.find(':');
    in.name = spec.substr(0, colon);
    if (in.name.empty()) throw std::invalid_argument("--input '" + spec + "': missing name (NAME:D1,D2,...[:dtype])");
    if (colon == std::string::npos)
        throw std::invalid_argument("--input '" + spec + "': missing shape (NAME:D1,D2,...[:dtype])");
    std::string rest = spec.substr(colon + 1);
    std::string dims = rest, dtype = "fp32";
    if (auto c2 = rest.find(':'); c2 != std::string::npos) {
        dims = rest.substr(0, c2);
        dtype = rest.substr(c2 + 1);
    }
    if (dtype == "fp32")
        in.type.dtype = DType::Float32;
    else if (dtype == "fp16")
        in.type.dtype = DType::Float16;
    else if (dtype == "int32")
        in.type.dtype = DType::Int32;
    else if (dtype == "bool")
        in.type.dtype = DType::Bool;
    else
        throw std::invalid_argument("--input '" + spec + "': unknown dtype '" + dtype + "' (fp32, fp16, int32, bool)");
    if (dims.find('|') != std::string::npos) {
        parseEnumeratedShapes(dims, spec, in);
        return in;
    }
    size_t start = 0, symbols = 0;
    std::vector<int64_t> largest;
    while (start <= dims.size()) {
        auto comma = dims.find(',', start);
        std::string d = dims.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (d.empty()) throw std::invalid_argument("--input '" + spec + "': empty dimension");
        if (auto dots = d.find(".."); dots != std::string::npos) {
            int64_t lo = parseDim(d.substr(0, dots), spec);
            std::string hiText = d.substr(dots + 2);
            int64_t hi = hiText.empty() || hiText == "*" ? -1 : parseDim(hiText, spec);
            if (hi >= 0 && hi < lo) throw std::invalid_argument("--input '" + spec + "': empty range '" + d + "'");
            in.type.shape.push_back(lo == hi ? Dim::fixed(lo)
                                             : Dim::symbolic(in.name + "_d" + std::to_string(symbols++), lo, hi));
            largest.push_back(hi < 0 ? lo : hi);
        } else {
            in.type.shape.push_back(Dim::fixed(parseDim(d, spec)));
            largest.push_back(in.type.shape.back().size);
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    checkByteSize(largest, in.type.dtype, spec);
    return in;
}

namespace {
double parseNumber(const std::string& text, const std::string& spec) {
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (text.empty() || used != text.size())
        throw std::invalid_argument("--image '" + spec + "': bad number '" + text + "'");
    return v;
}
}  // namespace

std::pair<ModelInput, ImageInput> parseImageSpec(const std::string& spec) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        const size_t colon = spec.find(':', start);
        parts.push_back(spec.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (parts.size() < 2 || parts[0].empty())
        throw std::invalid_argument("--image '" + spec +
                                    "': expected NAME:D1,D2,...:scale=S:bias=B1,B2,B3[:rgb|bgr|gray]");
    ImageInput image;
    image.name = parts[0];
    ModelInput input = parseInputSpec(parts[0] + ":" + parts[1]);
    bool hasBias = false;
    for (size_t i = 2; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p.rfind("scale=", 0) == 0) {
            image.scale = parseNumber(p.substr(6), spec);
        } else if (p.rfind("bias=", 0) == 0) {
            hasBias = true;
            const std::string list = p.substr(5);
            for (size_t start = 0;;) {
                const size_t comma = list.find(',', start);
                image.bias.push_back(parseNumber(
                    list.substr(start, comma == std::string::npos ? std::string::npos : comma - start), spec));
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else if (p == "rgb" || p == "RGB") {
            image.layout = ColorLayout::RGB;
        } else if (p == "bgr" || p == "BGR") {
            image.layout = ColorLayout::BGR;
        } else if (p == "gray" || p == "grayscale" || p == "GRAY") {
            image.layout = ColorLayout::Grayscale;
        } else {
            throw std::invalid_argument("--image '" + spec + "': unknown part '" + p +
                                        "' (scale=S, bias=B1,B2,B3, rgb, bgr, gray)");
        }
    }
    const size_t channels = image.layout == ColorLayout::Grayscale ? 1 : 3;
    if (!hasBias) image.bias.assign(channels, 0.0);
    if (image.bias.size() != channels)
        throw std::invalid_argument("--image '" + spec + "': " + std::to_string(image.bias.size()) +
                                    " bias values for " + std::to_string(channels) + " channels");
    const auto& shape = input.type.shape;
    if (shape.size() != 4 || !shape[0].isStatic() || shape[0].size != 1 || !shape[1].isStatic() ||
        shape[1].size != static_cast<int64_t>(channels) || !shape[2].isStatic() || !shape[3].isStatic())
        throw std::invalid_argument("--image '" + spec + "': an image is [1, " + std::to_string(channels) +
                                    ", H, W] with fixed sizes");
    return {input, image};
}

std::vector<std::string> readLabels(const std::string& path, const std::string& flag,
                                    std::vector<std::string>& problems) {
    std::ifstream in(path);
    if (!in) {
        problems.push_back(flag + " " + path + ": cannot open");
        return {};
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    std::vector<std::string> labels;
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '[') {
        try {
            for (const auto& item : nlohmann::json::parse(text)) {
                if (item.is_string())
                    labels.push_back(item.get<std::string>());
                else if (item.is_number_integer())
                    labels.push_back(std::to_string(item.get<int64_t>()));
                else
                    problems.push_back(path + ": label " + item.dump() + " is not a string");
            }
        } catch (const nlohmann::json::parse_error& e) {
            // Report the line of the byte where parsing stopped.
            const size_t at = std::min(e.byte, text.size());
            const size_t line =
                1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
            problems.push_back(path + ":" + std::to_string(line) + ": not a JSON list of labels: " + e.what());
            return {};
        }
    } else {
        std::istringstream lines(text);
        std::vector<size_t> lineOf;
        size_t n = 0;
        for (std::string l; std::getline(lines, l);) {
            ++n;
            if (!l.empty() && l.back() == '\r') l.pop_back();
            labels.push_back(l);
            lineOf.push_back(n);
        }
        while (!labels.empty() && labels.back().empty()) labels.pop_back();  // trailing blank lines
        for (size_t i = 0; i < labels.size(); ++i)
            if (labels[i].empty()) problems.push_back(path + ":" + std::to_string(lineOf[i]) + ": empty label");
    }
    if (labels.empty()) problems.push_back(flag + " " + path + ": no labels");
    std::set<std::string> seen;
    for (const auto& l : labels)
        if (!seen.insert(l).second) problems.push_back(path + ": label '" + l + "' appears twice");
    return labels;
}

}  // namespace ts2coreml
