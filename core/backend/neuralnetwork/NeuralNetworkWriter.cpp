#include "backend/neuralnetwork/NeuralNetworkWriter.h"

#include "backend/Description.h"
#include "backend/StagedOutput.h"
#include "backend/neuralnetwork/LayerWriter.h"

#include "Model.pb.h"

#include <cstdio>
#include <fstream>

namespace ts2coreml {

namespace {

std::string gib(uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / static_cast<double>(uint64_t{1} << 30));
    return buf;
}

/// Layers of a network, those of its branch and loop networks included.
size_t countLayers(const google::protobuf::RepeatedPtrField<spec::NeuralNetworkLayer>& layers) {
    size_t n = 0;
    for (const auto& l : layers) {
        ++n;
        if (l.has_branch())
            n += countLayers(l.branch().ifbranch().layers()) + countLayers(l.branch().elsebranch().layers());
        if (l.has_loop())
            n += countLayers(l.loop().conditionnetwork().layers()) + countLayers(l.loop().bodynetwork().layers());
    }
    return n;
}

std::string where(const mil::Operation& op) { return op.location().empty() ? op.output()->name() : op.location(); }

const char* const kSuggestion = "; write an .mlpackage (ML Program) instead";

template <typename Network>
void fillPreprocessing(const ModelOptions& options, Network& net) {
    for (const ImageInput& img : options.images) {
        auto* p = net.add_preprocessing();
        p->set_featurename(img.name);
        auto* s = p->mutable_scaler();
        s->set_channelscale(static_cast<float>(img.scale));
        const auto b = [&](size_t i) { return static_cast<float>(img.bias.at(i)); };
        switch (img.layout) {
            case ColorLayout::RGB: s->set_redbias(b(0)), s->set_greenbias(b(1)), s->set_bluebias(b(2)); break;
            case ColorLayout::BGR: s->set_bluebias(b(0)), s->set_greenbias(b(1)), s->set_redbias(b(2)); break;
            case ColorLayout::Grayscale: s->set_graybias(b(0)); break;
        }
    }
    net.set_arrayinputshapemapping(spec::EXACT_ARRAY_MAPPING);
    net.set_imageinputshapemapping(spec::RANK4_IMAGE_MAPPING);
}

}  // namespace

NeuralNetworkError::NeuralNetworkError(std::vector<NeuralNetworkProblem> problems)
    : std::runtime_error(problems.empty()
                             ? "NeuralNetwork conversion failed"
                             : (problems.front().location.empty() ? "" : problems.front().location + ": ") +
                                   problems.front().message),
      problems_(std::move(problems)) {}

uint64_t estimateWeightBytes(const mil::Program& program, bool fp16Weights) {
    uint64_t bytes = 0;
    auto add = [&](const mil::ConstData& c) {
        if (c.dtype == DType::String) {
            for (const auto& s : c.strings) bytes += s.size();
            return;
        }
        const auto n = static_cast<uint64_t>(c.numel());
        bytes += n * (fp16Weights && isFloat(c.dtype) ? 2 : 4) + 16;  // + tag and length
    };
    mil::walk(program.main().body, [&](const mil::Operation& op) {
        if (op.type() == "const") add(*op.constData());
        if (op.type() == mil::kCustomLayerOp && op.customLayer())
            for (const auto& w : op.customLayer()->weights) add(*w);
    });
    return bytes;
}

NeuralNetworkStats writeNeuralNetwork(const mil::Program& program, const ModelOptions& options, const std::string& path,
                                      const NeuralNetworkOptions& nnOptions) {
    // The size is known from the types: refuse before building (or writing) a single weight.
    const uint64_t estimate = estimateWeightBytes(program, nnOptions.fp16Weights);
    if (estimate > nnOptions.sizeLimit)
        throw NeuralNetworkError(
            {{path, "the weights need " + gib(estimate) + " (" + std::to_string(estimate) +
                        " bytes), over the 2 GiB protobuf limit of a NeuralNetwork .mlmodel, which "
                        "keeps its weights inside one protobuf message" +
                        kSuggestion + " (its weights live in a separate file)"}});

    std::vector<NeuralNetworkProblem> problems;
    for (const auto& p : checkModelOptions(program, options)) problems.push_back({path, p});

    spec::Model model;
    const bool classifier = !options.classLabels.empty();
    auto& layers = classifier ? *model.mutable_neuralnetworkclassifier()->mutable_layers()
                              : *model.mutable_neuralnetwork()->mutable_layers();
    nn::NetworkState net(layers, options.target, nnOptions.targetIsExplicit, nnOptions.fp16Weights);
    const nn::LayerTable& table = nn::LayerTable::builtin();
    // Every op of a block, nested blocks included: each problem is kept and the rest still written,
    // so that one run reports them all.
    nn::BlockWriter writeBlock = [&](const mil::Block& block) {
        for (const auto& op : block.operations()) {
            if (op->type() == "const") continue;
            try {
                if (op->type() == mil::kCustomLayerOp) {
                    nn::writeCustomLayer(net, *op);
                } else if (op->type() == "cond") {
                    nn::writeCond(net, *op, writeBlock);
                } else if (op->type() == "while_loop") {
                    nn::writeWhileLoop(net, *op, writeBlock);
                } else if (const nn::LayerFn* fn = table.find(op->type()); fn && op->blocks().empty()) {
                    nn::LayerWriter w(net, *op);
                    (*fn)(w);
                } else {
                    problems.push_back(
                        {where(*op), "op '" + op->type() + "' has no NeuralNetwork layer" + kSuggestion});
                }
            } catch (const std::exception& e) {
                // A custom layer's problem is its own: an ML Program cannot hold it either.
                problems.push_back({where(*op), op->type() == mil::kCustomLayerOp
                                                    ? std::string(e.what())
                                                    : "op '" + op->type() + "': " + e.what() + kSuggestion});
            }
        }
    };
    const mil::Block& body = program.main().body;
    writeBlock(body);
    for (const mil::Value* out : body.outputs()) {
        try {
            net.blob(*out);
        } catch (const std::exception& e) {
            problems.push_back({path, std::string("output '") + out->name() + "': " + e.what()});
        }
    }
    if (!problems.empty()) throw NeuralNetworkError(std::move(problems));

    ModelOptions written = options;
    written.target = net.target();
    model.set_specificationversion(specificationVersion(net.target()));
    fillDescription(program, written, *model.mutable_description());
    if (classifier) {
        auto* c = model.mutable_neuralnetworkclassifier();
        fillPreprocessing(options, *c);
        for (const auto& label : options.classLabels) c->mutable_stringclasslabels()->add_vector(label);
        const std::string probabilities = body.outputs().front()->name();
        c->set_labelprobabilitylayername(probabilities);
        fillClassifierOutputs(probabilities, *model.mutable_description());
    } else {
        fillPreprocessing(options, *model.mutable_neuralnetwork());
    }

    NeuralNetworkStats stats;
    stats.layerCount = countLayers(layers);
    stats.weightBytes = estimate;
    stats.target = net.target();
    stats.fileBytes = model.ByteSizeLong();
    if (stats.fileBytes > nnOptions.sizeLimit)
        throw NeuralNetworkError(
            {{path, "the model is " + gib(stats.fileBytes) +
                        ", over the 2 GiB protobuf limit of a NeuralNetwork .mlmodel" + kSuggestion}});

    StagedOutput staged(path, OutputKind::File);
    {
        std::ofstream out(staged.path(), std::ios::binary | std::ios::trunc);
        if (!model.SerializeToOstream(&out) || !out.flush()) throw writeFailure(staged.path());
    }
    staged.commit();
    return stats;
}

}  // namespace ts2coreml
