// custom_layer -> CustomLayerParams: a layer the app implements (MLCustomLayer). It has no op
// schema; the op's mil::CustomLayer carries the class name, description, parameters and weights.
#include "backend/neuralnetwork/LayerWriter.h"

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

}  // namespace ts2coreml::nn
