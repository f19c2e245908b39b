#include <ts2coreml/Types.h>

#include <sstream>
#include <stdexcept>

namespace ts2coreml {

const char* dtypeName(DType d) {
    switch (d) {
        case DType::Bool: return "bool";
        case DType::Int8: return "int8";
        case DType::UInt8: return "uint8";
        case DType::Int16: return "int16";
        case DType::Int32: return "int32";
        case DType::Int64: return "int64";
        case DType::Float16: return "fp16";
        case DType::Float32: return "fp32";
        case DType::Float64: return "fp64";
        case DType::String: return "string";
    }
    return "?";
}

size_t dtypeSize(DType d) {
    switch (d) {
        case DType::Bool:
        case DType::Int8:
        case DType::UInt8: return 1;
        case DType::Int16:
        case DType::Float16: return 2;
        case DType::Int32:
        case DType::Float32: return 4;
        case DType::Int64:
        case DType::Float64: return 8;
        case DType::String: return 0;
    }
    return 0;
}

bool isFloat(DType d) { return d == DType::Float16 || d == DType::Float32 || d == DType::Float64; }

std::string dtypeSetName(DTypeSet set) {
    if (set == kAnyDType) return "any";
    std::string out;
    for (unsigned i = 0; i <= static_cast<unsigned>(DType::String); ++i) {
        if (set & (1u << i)) {
            if (!out.empty()) out += '|';
            out += dtypeName(static_cast<DType>(i));
        }
    }
    return out;
}

bool TensorType::isStatic() const {
    for (const auto& d : shape)
        if (!d.isStatic()) return false;
    return true;
}

std::vector<int64_t> TensorType::sizes() const {
    std::vector<int64_t> out;
    out.reserve(shape.size());
    for (const auto& d : shape) {
        if (!d.isStatic()) throw std::runtime_error("shape " + str() + " is not static");
        out.push_back(d.size);
    }
    return out;
}

int64_t TensorType::numel() const {
    int64_t n = 1;
    for (const auto& d : shape) {
        if (!d.isStatic()) return -1;
        n *= d.size;
    }
    return n;
}

std::string TensorType::str() const {
    std::ostringstream os;
    os << dtypeName(dtype) << '[';
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) os << ',';
        const Dim& d = shape[i];
        if (d.isStatic()) {
            os << d.size;
        } else {
            os << (d.symbol.empty() ? "?" : d.symbol);
            if (d.upper >= 0) os << '(' << d.lower << ".." << d.upper << ')';
        }
    }
    os << ']';
    return os.str();
}

TensorType TensorType::of(DType dtype, const std::vector<int64_t>& sizes) {
    TensorType t;
    t.dtype = dtype;
    for (int64_t s : sizes) t.shape.push_back(Dim::fixed(s));
    return t;
}

const char* targetName(Target t) {
    static const char* names[] = {"iOS13", "iOS14", "iOS15", "iOS16", "iOS17", "iOS18"};
    return names[static_cast<int>(t)];
}

std::optional<Target> parseTarget(const std::string& s) {
    static const std::pair<const char*, Target> table[] = {
        {"iOS13", Target::iOS13},      {"iOS14", Target::iOS14},     {"iOS15", Target::iOS15},
        {"iOS16", Target::iOS16},      {"iOS17", Target::iOS17},     {"iOS18", Target::iOS18},
        {"macOS10_15", Target::iOS13}, {"macOS11", Target::iOS14},   {"macOS12", Target::iOS15},
        {"macOS13", Target::iOS16},    {"macOS14", Target::iOS17},   {"macOS15", Target::iOS18},
        {"tvOS13", Target::iOS13},     {"tvOS14", Target::iOS14},    {"tvOS15", Target::iOS15},
        {"tvOS16", Target::iOS16},     {"tvOS17", Target::iOS17},    {"tvOS18", Target::iOS18},
        {"watchOS6", Target::iOS13},   {"watchOS7", Target::iOS14},  {"watchOS8", Target::iOS15},
        {"watchOS9", Target::iOS16},   {"watchOS10", Target::iOS17}, {"watchOS11", Target::iOS18},
    };
    for (const auto& [name, t] : table)
        if (s == name) return t;
    return std::nullopt;
}

int specificationVersion(Target t) { return 4 + static_cast<int>(t); }

const char* milOpset(Target t) {
    switch (t) {
        case Target::iOS13:
        case Target::iOS14:
        case Target::iOS15: return "CoreML5";
        case Target::iOS16: return "CoreML6";
        case Target::iOS17: return "CoreML7";
        case Target::iOS18: return "CoreML8";
    }
    return "CoreML5";
}

}  // namespace ts2coreml
