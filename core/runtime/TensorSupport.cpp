#include "runtime/TensorSupport.h"

#include <sstream>
#include <stdexcept>

namespace ts2coreml::runtime {

at::ScalarType scalarType(DType dtype) {
    switch (dtype) {
        case DType::Bool: return at::kBool;
        case DType::Int8: return at::kChar;
        case DType::UInt8: return at::kByte;
        case DType::Int16: return at::kShort;
        case DType::Int32: return at::kInt;
        case DType::Int64: return at::kLong;
        case DType::Float16: return at::kHalf;
        case DType::Float32: return at::kFloat;
        case DType::Float64: return at::kDouble;
        case DType::String: break;
    }
    throw std::invalid_argument("MIL string values have no tensor representation");
}

std::optional<DType> milDType(at::ScalarType type) {
    switch (type) {
        case at::kBool: return DType::Bool;
        case at::kChar: return DType::Int8;
        case at::kByte: return DType::UInt8;
        case at::kShort: return DType::Int16;
        case at::kInt: return DType::Int32;
        case at::kLong: return DType::Int64;
        case at::kHalf: return DType::Float16;
        case at::kFloat: return DType::Float32;
        case at::kDouble: return DType::Float64;
        default: return std::nullopt;
    }
}

at::Tensor tensorFromConst(const mil::ConstData& c) {
    if (c.dtype == DType::String) return {};
    const auto options = at::TensorOptions().dtype(scalarType(c.dtype));
    if (c.numel() == 0 || !c.data) return at::empty(c.sizes, options);
    std::shared_ptr<const void> owner = c.owner;
    return at::from_blob(
        const_cast<void*>(c.data), c.sizes, [owner](void*) mutable { owner.reset(); }, options);
}

std::string sizesText(at::IntArrayRef sizes) {
    std::ostringstream os;
    os << '[';
    for (size_t i = 0; i < sizes.size(); ++i) os << (i ? "," : "") << sizes[i];
    os << ']';
    return os.str();
}

}  // namespace ts2coreml::runtime
