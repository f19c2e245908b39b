#include "frontend/InputSpec.h"

#include <stdexcept>

namespace ts2coreml {

namespace {
int64_t parseDim(const std::string& s, const std::string& spec) {
    size_t used = 0;
    int64_t v = -1;
    try {
        v = std::stoll(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != s.size() || v < 0) throw std::invalid_argument("--input '" + spec + "': bad dimension '" + s + "'");
    return v;
}
}  // namespace

ModelInput parseInputSpec(const std::string& spec) {
    ModelInput in;
    auto colon = spec.find(':');
    in.name = spec.substr(0, colon);
    if (in.name.empty()) throw std::invalid_argument("--input '" + spec + "': missing name (NAME:D1,D2,...[:dtype])");
    if (colon == std::string::npos) throw std::invalid_argument("--input '" + spec + "': missing shape (NAME:D1,D2,...[:dtype])");
    std::string rest = spec.substr(colon + 1);
    std::string dims = rest, dtype = "fp32";
    if (auto c2 = rest.find(':'); c2 != std::string::npos) {
        dims = rest.substr(0, c2);
        dtype = rest.substr(c2 + 1);
    }
    if (dtype == "fp32") in.type.dtype = DType::Float32;
    else if (dtype == "fp16") in.type.dtype = DType::Float16;
    else if (dtype == "int32") in.type.dtype = DType::Int32;
    else if (dtype == "bool") in.type.dtype = DType::Bool;
    else throw std::invalid_argument("--input '" + spec + "': unknown dtype '" + dtype + "' (fp32, fp16, int32, bool)");
    size_t start = 0, symbols = 0;
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
        } else {
            in.type.shape.push_back(Dim::fixed(parseDim(d, spec)));
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return in;
}

}  // namespace ts2coreml
