// custom_layer -> CustomLayerParams: a layer the app implements (MLCustomLayer). It has no op
// schema; the op's mil::CustomLayer carries the class name, description, parameters and weights.
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"

#include "mil/Families.h"

#include <type_traits>
#include <variant>

namespace ts2coreml::nn {

namespace {

// A Tensor message: the rank, and each dim's size (-1 when it is not known when converting).
void fillTensor(spec::Tensor& out, const TensorType& type) {
    out.set_rank(static_cast<uint32_t>(type.rank()));
    for (const Dim& d : type.shape) out.add_dimvalue(d.isStatic() ? d.size : -1);
}

void fillParameter(spec::CustomLayerParams::CustomLayerParamValue& out, const mil::CustomLayer::Parameter& p) {
    std::visit(
        [&out](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, double>)
                out.set_doublevalue(v);
            else if constexpr (std::is_same_v<T, std::string>)
                out.set_stringvalue(v);
            else if constexpr (std::is_same_v<T, int32_t>)
                out.set_intvalue(v);
            else if constexpr (std::is_same_v<T, int64_t>)
                out.set_longvalue(v);
            else
                out.set_boolvalue(v);
        },
        p);
}

}  // namespace

void writeCustomLayer(NetworkState& net, const mil::Operation& op) {
    const mil::CustomLayer* custom = op.customLayer().get();
    if (!custom) throw LayerError("the custom layer carries no description");
    const auto* inputs = op.inputList("inputs");
    if (!inputs || inputs->empty()) throw LayerError("custom layer '" + custom->className + "' has no inputs");
    for (size_t i = 0; i < custom->weights.size(); ++i)
        if (custom->weights[i]->dtype == DType::String)
            throw LayerError("weight " + std::to_string(i) + " of custom layer '" + custom->className +
                             "' is a string");
    // Constant inputs are loaded first: their LoadConstantND layers must precede this one.
    std::vector<std::string> blobs;
    for (const mil::Value* v : *inputs) blobs.push_back(net.blob(*v));

    auto& layer = net.addLayer();
    layer.set_name(op.output()->name());
    for (size_t i = 0; i < blobs.size(); ++i) {
        layer.add_input(blobs[i]);
        fillTensor(*layer.add_inputtensor(), (*inputs)[i]->type());
    }
    for (const auto& out : op.outputs()) {
        layer.add_output(out->name());
        fillTensor(*layer.add_outputtensor(), out->type());
    }
    auto* params = layer.mutable_custom();
    params->set_classname(custom->className);
    params->set_description(custom->description);
    for (const auto& [name, value] : custom->parameters) fillParameter((*params->mutable_parameters())[name], value);
    for (const auto& w : custom->weights) net.fillWeights(*params->add_weights(), *w);
}

namespace {

// CustomLayerParams -> a custom_layer op, which the executor runs with a reference kernel if one is
// given for its class. Outputs are fp32 of the declared outputTensor rank and sizes (-1:
// flexible); a file declaring none gets the first input's shape. Weights are flat fp32 lists (the
// file keeps no weight shapes).
void readCustom(LayerReader& r) {
    using P = spec::CustomLayerParams::CustomLayerParamValue;
    const auto& p = r.layer().custom();
    auto layer = std::make_shared<mil::CustomLayer>();
    layer->className = p.classname();
    layer->description = p.description();
    for (const auto& [name, v] : p.parameters()) {
        switch (v.value_case()) {
            case P::kDoubleValue: layer->parameters[name] = v.doublevalue(); break;
            case P::kStringValue: layer->parameters[name] = v.stringvalue(); break;
            case P::kIntValue: layer->parameters[name] = v.intvalue(); break;
            case P::kLongValue: layer->parameters[name] = v.longvalue(); break;
            case P::kBoolValue: layer->parameters[name] = v.boolvalue(); break;
            default: r.fail("parameter '" + name + "' holds no value");
        }
    }
    for (int i = 0; i < p.weights_size(); ++i) {
        std::vector<float> values = r.floats(p.weights(i), "weight " + std::to_string(i));
        const auto n = static_cast<int64_t>(values.size());
        layer->weights.push_back(mil::ConstData::fromFloats(values, {n}));
    }
    std::vector<mil::Value*> values = r.allInputs();
    if (values.empty()) r.fail("custom layer of class '" + layer->className + "' has no inputs");
    std::vector<TensorType> types;
    const auto& l = r.layer();
    for (int i = 0; i < l.output_size(); ++i) {
        if (i >= l.outputtensor_size()) {
            types.push_back(values.front()->type());
            continue;
        }
        const spec::Tensor& t = l.outputtensor(i);
        if (static_cast<int>(t.rank()) != t.dimvalue_size())
            r.fail("output tensor " + std::to_string(i) + " has rank " + std::to_string(t.rank()) + " and " +
                   std::to_string(t.dimvalue_size()) + " sizes");
        TensorType type;
        for (int d = 0; d < t.dimvalue_size(); ++d)
            type.shape.push_back(t.dimvalue(d) >= 0 ? Dim::fixed(t.dimvalue(d))
                                                    : Dim::symbolic(l.output(i) + "_d" + std::to_string(d)));
        types.push_back(type);
    }
    const auto outs = r.builder().customLayer(layer, values, types);
    for (size_t i = 0; i < outs.size(); ++i) r.out(outs[i], i);
}

}  // namespace

// custom_layer ops are written by the network writer (writeCustomLayer: they have no schema).
void populateCustomLayers(LayerTable& t) { t.reads(spec::NeuralNetworkLayer::kCustom, readCustom); }

TS2COREML_FAMILY(LayerTable, Custom, populateCustomLayers)

}  // namespace ts2coreml::nn
