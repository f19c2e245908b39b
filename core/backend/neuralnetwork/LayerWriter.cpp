#include "backend/neuralnetwork/LayerWriter.h"

#include "mil/Families.h"

#include <c10/util/Half.h>

#include <cstring>

namespace ts2coreml::nn {

namespace {

const mil::OpSchema& schemaOf(const mil::Operation& op) {
    const mil::OpSchema* s = mil::SchemaTable::instance().find(op.type());
    if (!s) throw LayerError("no schema declares this op");
    return *s;
}

}  // namespace

std::string NetworkState::blob(const mil::Value& v) {
    if (auto a = aliases_.find(&v); a != aliases_.end()) return a->second;
    const mil::ConstData* c = v.constant();
    if (!c || loaded_.count(v.name())) return v.name();
    if (c->dtype == DType::String)
        throw LayerError("string constant '" + v.name() + "' cannot be a NeuralNetwork blob");
    if (v.type().rank() > 5) throw LayerError("constant '" + v.name() + "' has rank > 5, beyond a NeuralNetwork blob");
    auto& layer = *top_->Add();
    layer.set_name(v.name());
    layer.add_output(v.name());
    auto* load = layer.mutable_loadconstantnd();
    // A scalar is a one-element rank-1 blob: NeuralNetwork blobs have rank 1 to 5.
    if (c->sizes.empty()) load->add_shape(1);
    for (int64_t s : c->sizes) load->add_shape(static_cast<uint64_t>(s));
    fillWeights(*load->mutable_data(), *c);
    loaded_.insert(v.name());
    return v.name();
}

std::string NetworkState::freshLayerName(const std::string& base) {
    const int n = layerNames_[base]++;
    return n == 0 ? base : base + "_" + std::to_string(n);
}

void NetworkState::fillWeights(spec::WeightParams& out, const mil::ConstData& data) const {
    const auto n = static_cast<size_t>(data.numel());
    if (fp16_ && isFloat(data.dtype)) {
        std::string bytes(n * 2, '\0');
        for (size_t i = 0; i < n; ++i) {
            const c10::Half h(static_cast<float>(data.asDouble(i)));
            std::memcpy(&bytes[i * 2], &h, 2);
        }
        out.set_float16value(std::move(bytes));
        return;
    }
    auto* values = out.mutable_floatvalue();
    values->Resize(static_cast<int>(n), 0.0f);
    if (data.dtype == DType::Float32) {
        std::memcpy(values->mutable_data(), data.data, n * sizeof(float));
    } else {
        for (size_t i = 0; i < n; ++i) values->Set(static_cast<int>(i), static_cast<float>(data.asDouble(i)));
    }
}

void NetworkState::fillWeights(spec::WeightParams& out, const std::vector<float>& data) const {
    auto c = mil::ConstData::fromFloats(data, {static_cast<int64_t>(data.size())});
    fillWeights(out, *c);
}

void NetworkState::require(Target t, const std::string& what) {
    if (t <= target_) return;
    if (explicit_)
        throw LayerError(what + " needs --target " + targetName(t) + " or later (specification version " +
                         std::to_string(specificationVersion(t)) + "); the target is " + targetName(target_));
    target_ = t;
}

LayerWriter::LayerWriter(NetworkState& net, const mil::Operation& op) : net_(net), op_(op), view_(op, schemaOf(op)) {}

std::string LayerWriter::in(const std::string& input) {
    const mil::Value* v = op_.input(input);
    if (!v) unsupported("input '" + input + "' is missing");
    return net_.blob(*v);
}

std::vector<std::string> LayerWriter::ins(const std::string& variadicInput) {
    std::vector<std::string> names;
    if (const auto* list = op_.inputList(variadicInput))
        for (const mil::Value* v : *list) names.push_back(net_.blob(*v));
    return names;
}

std::vector<std::string> LayerWriter::outs() const {
    std::vector<std::string> names;
    for (const auto& v : op_.outputs()) names.push_back(v->name());
    return names;
}

const mil::ConstData& LayerWriter::constant(const std::string& input) const {
    const mil::Value* v = op_.input(input);
    const mil::ConstData* c = v ? v->constant() : nullptr;
    if (!c) unsupported("input '" + input + "' must be a constant for a NeuralNetwork layer");
    return *c;
}

bool LayerWriter::isConst(const std::string& input) const {
    const mil::Value* v = op_.input(input);
    return v && v->constant();
}

spec::NeuralNetworkLayer& LayerWriter::layer(const std::vector<std::string>& inputs,
                                             const std::vector<std::string>& outputs) {
    auto& l = net_.addLayer();
    l.set_name(outputs.front());
    for (const auto& i : inputs) l.add_input(i);
    for (const auto& o : outputs) l.add_output(o);
    return l;
}

void LayerTable::add(const std::string& opType, LayerFn fn) {
    if (!fns_.emplace(opType, std::move(fn)).second)
        throw std::logic_error("a NeuralNetwork writer for MIL op '" + opType + "' is declared twice");
}

void LayerTable::reads(LayerKind kind, LayerReadFn fn) {
    if (!readers_.emplace(kind, std::move(fn)).second)
        throw std::logic_error("a reader for NeuralNetwork layer '" + layerKindName(kind) + "' is declared twice");
}

const LayerFn* LayerTable::find(const std::string& opType) const {
    auto it = fns_.find(opType);
    return it == fns_.end() ? nullptr : &it->second;
}

const LayerReadFn* LayerTable::findReader(LayerKind kind) const {
    auto it = readers_.find(kind);
    return it == readers_.end() ? nullptr : &it->second;
}

std::vector<std::string> LayerTable::opTypes() const {
    std::vector<std::string> names;
    for (const auto& [name, _] : fns_) names.push_back(name);
    return names;
}

std::vector<LayerTable::LayerKind> LayerTable::layerKinds() const {
    std::vector<LayerKind> kinds;
    for (const auto& [kind, _] : readers_) kinds.push_back(kind);
    return kinds;
}

std::string layerKindName(LayerTable::LayerKind kind) {
    if (kind == spec::NeuralNetworkLayer::LAYER_NOT_SET) return "no parameters";
    const auto* field = spec::NeuralNetworkLayer::descriptor()->FindFieldByNumber(static_cast<int>(kind));
    return field ? field->name() : "layer " + std::to_string(static_cast<int>(kind));
}

const LayerTable& LayerTable::builtin() {
    static const LayerTable table = [] {
        LayerTable t;
        Families<LayerTable>::populate(t);
        return t;
    }();
    return table;
}

}  // namespace ts2coreml::nn
