#include "backend/neuralnetwork/NeuralNetworkReader.h"

#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"

#include <ts2coreml/Builder.h>

namespace ts2coreml::backend {

namespace {

using mil::Value;

template <typename Network>
void readNetwork(const Network& net, const spec::Model& model, const std::string& path, ReadModel& out) {
    out.program = std::make_unique<mil::Program>();
    mil::Function& fn = out.program->main();
    nn::LayerReader reader(path, fn, nn::LayerTable::builtin());
    mil::Builder& b = reader.builder();

    std::map<std::string, const spec::NeuralNetworkPreprocessing*> preprocessing;
    for (const auto& p : net.preprocessing()) {
        if (p.has_meanimage())
            throw ModelReadError(path, "mean-image preprocessing of '" + p.featurename() + "' is not supported");
        preprocessing[p.featurename()] = &p;
    }
    for (FeatureInfo& f : out.inputs) {
        if (!f.type.isStatic() && f.type.rank() == 0) throw ModelReadError(path, "input '" + f.name + "' has no shape");
        // Flexible dims get names of their own, so that two of them are never taken as equal.
        TensorType type = f.type;
        for (Dim& d : type.shape)
            if (!d.isStatic()) d.symbol = f.name + "_d" + std::to_string(&d - type.shape.data());
        Value* v = fn.body.addInput(f.name, type);
        auto it = preprocessing.find(f.name);
        if (it != preprocessing.end() && f.isImage) {
            // The model sees pixel * channelScale + bias of the pixel's channel.
            const auto& s = it->second->scaler();
            ImagePreprocessing pre;
            pre.scale = s.channelscale();
            if (f.colorSpace == "RGB")
                pre.bias = {s.redbias(), s.greenbias(), s.bluebias()};
            else if (f.colorSpace == "BGR")
                pre.bias = {s.bluebias(), s.greenbias(), s.redbias()};
            else
                pre.bias = {s.graybias()};
            f.preprocessing = pre;
            b.setLocation("preprocessing of " + f.name);
            std::vector<float> bias(pre.bias.begin(), pre.bias.end());
            Value* scaled = b.add("mul", {{"x", v}, {"y", double{pre.scale}}});
            scaled->setName(f.name + "__scaled");
            v = b.add(
                "add",
                {{"x", scaled},
                 {"y", b.constant(mil::ConstData::fromFloats(bias, {1, static_cast<int64_t>(bias.size()), 1, 1}))}});
            v->setName(f.name + "__preprocessed");
        }
        reader.define(f.name, v);
    }
    reader.readLayers(net.layers());

    std::string probabilities;
    if constexpr (std::is_same_v<Network, spec::NeuralNetworkClassifier>) {
        for (const auto& label : net.stringclasslabels().vector()) out.classLabels.push_back(label);
        for (int64_t label : net.int64classlabels().vector()) out.classLabels.push_back(std::to_string(label));
        probabilities = net.labelprobabilitylayername();
        if (probabilities.empty() && net.layers_size() > 0 && net.layers(net.layers_size() - 1).output_size() > 0)
            probabilities = net.layers(net.layers_size() - 1).output(0);
    }
    b.setLocation("outputs");
    for (FeatureInfo& f : out.outputs) {
        if (f.isClassLabel) continue;
        const std::string blobName = f.isProbabilities ? probabilities : f.name;
        Value* v = reader.blob(blobName);
        if (f.isProbabilities) {
            f.type = v->type();
        } else if (f.type.dtype != DType::Float32 && f.type.dtype != DType::Float64) {
            v->setName(f.name + "__fp32");
            v = b.add("cast", {{"x", v}, {"dtype", f.type.dtype == DType::Int32 ? "int32" : "fp16"}});
            v->setName(f.name);
        }
        fn.body.outputs().push_back(v);
    }
    out.fp16Weights = reader.fp16Weights() > 0;
    (void)model;
}

}  // namespace

void readNeuralNetwork(const spec::Model& model, const std::string& path, ReadModel& out) {
    if (model.has_neuralnetwork()) return readNetwork(model.neuralnetwork(), model, path, out);
    if (model.has_neuralnetworkclassifier()) return readNetwork(model.neuralnetworkclassifier(), model, path, out);
    return readNetwork(model.neuralnetworkregressor(), model, path, out);
}

}  // namespace ts2coreml::backend
