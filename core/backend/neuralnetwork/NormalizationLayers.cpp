// batch_norm, instance_norm -> BatchnormLayerParams; layer_norm -> LayerNormalizationLayerParams.
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

#include <algorithm>

namespace ts2coreml::nn {

namespace {

// MIL's batch_norm and instance_norm take x [N, C, *D] (channels at axis 1); the layer normalizes
// axis -3. Both are the same axis only at rank 4 (the lowerings bring every rank to 4).
int64_t channels(LayerWriter& w) {
    const TensorType& x = w.type("x");
    if (x.rank() != 4 || !x.shape[1].isStatic())
        w.unsupported("a NeuralNetwork batchnorm needs a rank-4 input [N, C, H, W] with static channels (x is " +
                      x.str() + ")");
    return x.shape[1].size;
}

// gamma / beta default to ones / zeros.
void affine(LayerWriter& w, spec::WeightParams& gamma, spec::WeightParams& beta, int64_t n) {
    if (w.op().input("gamma"))
        w.weights(gamma, "gamma");
    else
        w.weights(gamma, std::vector<float>(static_cast<size_t>(n), 1.0f));
    if (w.op().input("beta"))
        w.weights(beta, "beta");
    else
        w.weights(beta, std::vector<float>(static_cast<size_t>(n), 0.0f));
}

void batchNorm(LayerWriter& w) {
    const int64_t c = channels(w);
    auto* bn = w.layer({w.in("x")}).mutable_batchnorm();
    bn->set_channels(static_cast<uint64_t>(c));
    bn->set_epsilon(static_cast<float>(w.params().getDouble("epsilon")));
    affine(w, *bn->mutable_gamma(), *bn->mutable_beta(), c);
    w.weights(*bn->mutable_mean(), "mean");
    w.weights(*bn->mutable_variance(), "variance");
}

// Per-instance statistics over the spatial axes: the batchnorm layer's instanceNormalization mode.
void instanceNorm(LayerWriter& w) {
    const int64_t c = channels(w);
    if (w.rank("x") != 4) w.unsupported("instance_norm needs a rank-4 input for a NeuralNetwork layer");
    auto* bn = w.layer({w.in("x")}).mutable_batchnorm();
    bn->set_channels(static_cast<uint64_t>(c));
    bn->set_computemeanvar(true);
    bn->set_instancenormalization(true);
    bn->set_epsilon(static_cast<float>(w.params().getDouble("epsilon")));
    affine(w, *bn->mutable_gamma(), *bn->mutable_beta(), c);
    w.weights(*bn->mutable_mean(), std::vector<float>(static_cast<size_t>(c), 0.0f));
    w.weights(*bn->mutable_variance(), std::vector<float>(static_cast<size_t>(c), 1.0f));
}

// Normalizes over the trailing axes; gamma and beta have the normalized shape.
void layerNorm(LayerWriter& w) {
    w.require(Target::iOS14, "layer_norm (LayerNormalization layer)");
    const TensorType& x = w.type("x");
    std::vector<int64_t> axes;
    if (w.params().has("axes"))
        axes = w.params().getInts("axes");
    else
        for (size_t i = 0; i < x.rank(); ++i) axes.push_back(static_cast<int64_t>(i));
    for (auto& a : axes) a = positiveAxis(a, x.rank());
    std::sort(axes.begin(), axes.end());
    for (size_t i = 0; i < axes.size(); ++i)
        if (axes[i] != static_cast<int64_t>(x.rank() - axes.size() + i))
            w.unsupported("layer_norm over axes that are not the trailing ones");
    auto* ln = w.layer({w.in("x")}).mutable_layernormalization();
    int64_t n = 1;
    for (int64_t a : axes) {
        if (!x.shape[static_cast<size_t>(a)].isStatic()) w.unsupported("layer_norm over a flexible dimension");
        ln->add_normalizedshape(x.shape[static_cast<size_t>(a)].size);
        n *= x.shape[static_cast<size_t>(a)].size;
    }
    ln->set_eps(static_cast<float>(w.params().getDouble("epsilon")));
    affine(w, *ln->mutable_gamma(), *ln->mutable_beta(), n);
}

// BatchnormLayerParams -> batch_norm (instanceNormalization: instance_norm).
void readBatchnorm(LayerReader& r) {
    const auto& p = r.layer().batchnorm();
    const auto c = static_cast<int64_t>(p.channels());
    mil::Value* gamma = r.weights(p.gamma(), {c}, "gamma");
    mil::Value* beta = r.weights(p.beta(), {c}, "beta");
    if (p.instancenormalization()) {
        r.out(r.add("instance_norm",
                    {{"x", r.in()}, {"gamma", gamma}, {"beta", beta}, {"epsilon", double{p.epsilon()}}}));
        return;
    }
    if (p.computemeanvar()) r.fail("batchnorm computing its statistics across the batch is not supported");
    r.out(r.add("batch_norm", {{"x", r.in()},
                               {"mean", r.weights(p.mean(), {c}, "mean")},
                               {"variance", r.weights(p.variance(), {c}, "variance")},
                               {"gamma", gamma},
                               {"beta", beta},
                               {"epsilon", double{p.epsilon()}}}));
}

// LayerNormalizationLayerParams -> layer_norm over the trailing len(normalizedShape) axes.
void readLayerNorm(LayerReader& r) {
    const auto& p = r.layer().layernormalization();
    const std::vector<int64_t> shape = r.ints(p.normalizedshape());
    std::vector<int64_t> axes;
    for (size_t i = 0; i < shape.size(); ++i)
        axes.push_back(static_cast<int64_t>(i) - static_cast<int64_t>(shape.size()));
    r.out(r.add("layer_norm", {{"x", r.in()},
                               {"axes", axes},
                               {"gamma", r.weights(p.gamma(), shape, "gamma")},
                               {"beta", r.weights(p.beta(), shape, "beta")},
                               {"epsilon", double{p.eps()}}}));
}

}  // namespace

void populateNormalizationLayers(LayerTable& t) {
    t.add("batch_norm", batchNorm);
    t.add("instance_norm", instanceNorm);
    t.add("layer_norm", layerNorm);
    t.reads(spec::NeuralNetworkLayer::kBatchnorm, readBatchnorm);
    t.reads(spec::NeuralNetworkLayer::kLayerNormalization, readLayerNorm);
}

TS2COREML_FAMILY(LayerTable, Normalization, populateNormalizationLayers)

}  // namespace ts2coreml::nn
