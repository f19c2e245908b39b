#include <ts2coreml/Mil.h>

#include <c10/util/Half.h>

#include <cstring>
#include <stdexcept>

namespace ts2coreml::mil {

int64_t ConstData::numel() const {
    int64_t n = 1;
    for (int64_t s : sizes) n *= s;
    return n;
}

double ConstData::asDouble(size_t i) const {
    if (static_cast<int64_t>(i) >= numel()) throw std::out_of_range("constant index out of range");
    switch (dtype) {
        case DType::Bool: return static_cast<const uint8_t*>(data)[i] ? 1.0 : 0.0;
        case DType::Int8: return static_cast<const int8_t*>(data)[i];
        case DType::UInt8: return static_cast<const uint8_t*>(data)[i];
        case DType::Int16: return static_cast<const int16_t*>(data)[i];
        case DType::Int32: return static_cast<const int32_t*>(data)[i];
        case DType::Int64: return static_cast<double>(static_cast<const int64_t*>(data)[i]);
        case DType::Float16: return static_cast<float>(static_cast<const c10::Half*>(data)[i]);
        case DType::Float32: return static_cast<const float*>(data)[i];
        case DType::Float64: return static_cast<const double*>(data)[i];
        case DType::String: break;
    }
    throw std::runtime_error("string constant used as a number");
}

int64_t ConstData::asInt(size_t i) const {
    if (dtype == DType::Int64) {
        if (static_cast<int64_t>(i) >= numel()) throw std::out_of_range("constant index out of range");
        return static_cast<const int64_t*>(data)[i];
    }
    return static_cast<int64_t>(asDouble(i));
}

std::vector<int64_t> ConstData::toInts() const {
    std::vector<int64_t> out(static_cast<size_t>(numel()));
    for (size_t i = 0; i < out.size(); ++i) out[i] = asInt(i);
    return out;
}

std::vector<double> ConstData::toDoubles() const {
    std::vector<double> out(static_cast<size_t>(numel()));
    for (size_t i = 0; i < out.size(); ++i) out[i] = asDouble(i);
    return out;
}

namespace {
template <typename T>
std::shared_ptr<ConstData> own(DType dtype, std::vector<T> values, std::vector<int64_t> sizes) {
    auto storage = std::make_shared<std::vector<T>>(std::move(values));
    auto c = std::make_shared<ConstData>();
    c->dtype = dtype;
    c->sizes = std::move(sizes);
    c->data = storage->data();
    c->nbytes = storage->size() * sizeof(T);
    c->owner = storage;
    if (c->numel() != static_cast<int64_t>(storage->size()))
        throw std::invalid_argument("constant sizes do not match its element count");
    return c;
}
}  // namespace

std::shared_ptr<ConstData> ConstData::fromFloats(const std::vector<float>& v, std::vector<int64_t> sizes) {
    return own(DType::Float32, v, std::move(sizes));
}
std::shared_ptr<ConstData> ConstData::fromInts(const std::vector<int32_t>& v, std::vector<int64_t> sizes) {
    return own(DType::Int32, v, std::move(sizes));
}
std::shared_ptr<ConstData> ConstData::fromBools(const std::vector<bool>& v, std::vector<int64_t> sizes) {
    std::vector<uint8_t> bytes(v.begin(), v.end());
    return own(DType::Bool, std::move(bytes), std::move(sizes));
}
std::shared_ptr<ConstData> ConstData::fromString(const std::string& s) {
    auto c = std::make_shared<ConstData>();
    c->dtype = DType::String;
    c->strings = {s};
    return c;
}
std::shared_ptr<ConstData> ConstData::fromBytes(DType dtype, std::vector<int64_t> sizes, std::vector<uint8_t> bytes) {
    const auto n = static_cast<int64_t>(bytes.size());
    auto c = own(DType::UInt8, std::move(bytes), {n});
    c->dtype = dtype;
    c->sizes = std::move(sizes);
    if (static_cast<size_t>(c->numel()) * dtypeSize(dtype) != c->nbytes)
        throw std::invalid_argument("constant byte size does not match its sizes");
    return c;
}

const ConstData* Value::constant() const {
    if (producer_ && producer_->type() == "const") return producer_->constData().get();
    return nullptr;
}

Value* Operation::input(const std::string& name) const {
    for (const auto& [n, vs] : inputs_)
        if (n == name) return vs.empty() ? nullptr : vs.front();
    return nullptr;
}

const std::vector<Value*>* Operation::inputList(const std::string& name) const {
    for (const auto& [n, vs] : inputs_)
        if (n == name) return &vs;
    return nullptr;
}

Value* Operation::addOutput(std::string name, TensorType type) {
    outputs_.push_back(std::make_unique<Value>(std::move(name), std::move(type), this));
    return outputs_.back().get();
}

Value* Block::addInput(std::string name, TensorType type) {
    inputs_.push_back(std::make_unique<Value>(std::move(name), std::move(type), nullptr));
    return inputs_.back().get();
}

void walk(const Block& block, const std::function<void(const Operation&)>& fn) {
    for (const auto& op : block.operations()) {
        fn(*op);
        for (const auto& b : op->blocks()) walk(*b, fn);
    }
}

}  // namespace ts2coreml::mil
