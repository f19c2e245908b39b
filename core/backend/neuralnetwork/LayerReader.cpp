#include "backend/neuralnetwork/LayerReader.h"

#include "backend/ReadError.h"
#include "backend/neuralnetwork/LayerWriter.h"

#include <c10/util/Half.h>

#include <cstring>

namespace ts2coreml::nn {

using mil::Value;

LayerReader::LayerReader(std::string path, mil::Function& fn, const LayerTable& table)
    : path_(std::move(path)), b_(fn.body, Target::iOS18), table_(table) {}

void LayerReader::readLayers(const Layers& layers) {
    const Layer* outer = layer_;
    for (const Layer& l : layers) {
        layer_ = &l;
        b_.setLocation(l.name());
        try {
            if (l.layer_case() == Layer::kLoadConstantND) {
                // The const op's layer: NetworkState::blob writes it when a layer first reads one.
                out(weights(l.loadconstantnd().data(), ints(l.loadconstantnd().shape()), "data"));
            } else if (const LayerReadFn* read = table_.findReader(l.layer_case())) {
                (*read)(*this);
            } else {
                fail("this layer kind is not supported by the reference runtime");
            }
        } catch (const backend::ModelReadError&) {
            throw;
        } catch (const std::exception& e) {
            fail(e.what());
        }
    }
    layer_ = outer;
    if (outer) b_.setLocation(outer->name());
}

void LayerReader::define(const std::string& name, Value* v) {
    const bool input = v->producer() == nullptr;
    if (v->type().rank() == 0) {
        if (!input) v->setName(name + "__scalar");
        v = b_.add("expand_dims", {{"x", v}, {"axes", std::vector<int64_t>{0}}});
    }
    if (v->type().dtype != DType::Float32) {
        if (v->producer()) v->setName(name + "__" + dtypeName(v->type().dtype));
        v = b_.add("cast", {{"x", v}, {"dtype", "fp32"}});
    }
    if (v->producer()) v->setName(input ? name + "__blob" : name);
    blobs_[name] = v;
}

Value* LayerReader::blob(const std::string& name) const {
    auto it = blobs_.find(name);
    if (it == blobs_.end()) fail("blob '" + name + "' is used before any layer or input produces it");
    return it->second;
}

std::vector<Value*> LayerReader::blobsNamed(const std::vector<std::string>& names) const {
    std::vector<Value*> values;
    for (const auto& n : names) values.push_back(blob(n));
    return values;
}

Value* LayerReader::in(size_t i) const {
    if (static_cast<int>(i) >= layer_->input_size())
        fail("has " + std::to_string(layer_->input_size()) + " inputs, needs more");
    return blob(layer_->input(static_cast<int>(i)));
}

std::vector<Value*> LayerReader::allInputs() const {
    std::vector<Value*> values;
    for (size_t i = 0; i < inputs(); ++i) values.push_back(in(i));
    return values;
}

void LayerReader::out(Value* v, size_t i) {
    if (static_cast<int>(i) >= layer_->output_size()) fail("has too few outputs");
    define(layer_->output(static_cast<int>(i)), v);
}

Value* LayerReader::single(Value* v) { return v->type().rank() == 0 ? v : b_.add("reduce_max", {{"x", v}}); }

Value* LayerReader::truth(Value* v) {
    Value* magnitude = single(b_.add("abs", {{"x", v}}));
    return b_.add("greater", {{"x", magnitude}, {"y", 1e-6}});
}

Value* LayerReader::weights(const spec::WeightParams& w, const std::vector<int64_t>& sizes, const std::string& what) {
    int64_t n = 1;
    for (int64_t s : sizes) n *= s;
    std::vector<float> values = floats(w, what);
    if (static_cast<int64_t>(values.size()) != n)
        fail(what + " holds " + std::to_string(values.size()) + " values, its shape needs " + std::to_string(n));
    return b_.constant(mil::ConstData::fromFloats(values, sizes));
}

std::vector<float> LayerReader::floats(const spec::WeightParams& w, const std::string& what) {
    std::vector<float> values;
    if (w.floatvalue_size() > 0) {
        values.assign(w.floatvalue().begin(), w.floatvalue().end());
    } else if (!w.float16value().empty()) {
        const std::string& raw = w.float16value();
        values.resize(raw.size() / 2);
        for (size_t i = 0; i < values.size(); ++i) {
            c10::Half h;
            std::memcpy(&h, raw.data() + 2 * i, 2);
            values[i] = static_cast<float>(h);
        }
        ++fp16Weights_;
    } else if (!w.rawvalue().empty() || !w.int8rawvalue().empty()) {
        fail(what + " is quantized (not supported)");
    }
    return values;
}

Value* LayerReader::bools(const std::vector<bool>& v) {
    return b_.constant(mil::ConstData::fromBools(v, {static_cast<int64_t>(v.size())}));
}

std::vector<int64_t> LayerReader::padding(const spec::BorderAmounts& amounts) {
    std::vector<int64_t> pad;
    for (const auto& e : amounts.borderamounts()) {
        pad.push_back(static_cast<int64_t>(e.startedgesize()));
        pad.push_back(static_cast<int64_t>(e.endedgesize()));
    }
    pad.resize(4, 0);
    return pad;
}

void LayerReader::fail(const std::string& message) const {
    if (layer_)
        throw backend::ModelReadError(
            path_, "layer '" + layer_->name() + "' (" + layerKindName(layer_->layer_case()) + "): " + message);
    throw backend::ModelReadError(path_, message);
}

}  // namespace ts2coreml::nn
