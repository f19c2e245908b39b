// Activations -> ActivationParams (and Clip, Gelu, SoftmaxND, ClampedReLU layers).
#include "backend/neuralnetwork/LayerWriter.h"

namespace ts2coreml::nn {

namespace {

float real(LayerWriter& w, const std::string& name) { return static_cast<float>(w.params().getDouble(name)); }

spec::ActivationParams& activation(LayerWriter& w) { return *w.layer({w.in("x")}).mutable_activation(); }

void clip(LayerWriter& w, float lo, float hi) {
    auto* c = w.layer({w.in("x")}).mutable_clip();
    c->set_minval(lo);
    c->set_maxval(hi);
}

// prelu: alpha per channel (axis -3) or one value.
void prelu(LayerWriter& w) {
    if (w.rank("x") < 3) w.unsupported("prelu needs an input of rank 3 or more for a NeuralNetwork layer");
    w.weights(*activation(w).mutable_prelu()->mutable_alpha(), "alpha");
}

// silu(x) = x * sigmoid(x)
void silu(LayerWriter& w) {
    const std::string x = w.in("x");
    const std::string s = w.temp("sigmoid");
    w.layer({x}, {s}).mutable_activation()->mutable_sigmoid();
    w.layer({x, s}).mutable_multiplybroadcastable();
}

void gelu(LayerWriter& w) {
    const std::string mode = w.params().getString("mode");
    auto* g = w.layer({w.in("x")}).mutable_gelu();
    if (mode == "EXACT")
        g->set_mode(spec::GeluLayerParams::EXACT);
    else if (mode == "TANH_APPROXIMATION")
        g->set_mode(spec::GeluLayerParams::TANH_APPROXIMATION);
    else if (mode == "SIGMOID_APPROXIMATION")
        g->set_mode(spec::GeluLayerParams::SIGMOID_APPROXIMATION);
    else
        w.unsupported("gelu mode '" + mode + "'");
}

}  // namespace

void populateActivationLayers(LayerTable& t) {
    t.add("relu", [](LayerWriter& w) { activation(w).mutable_relu(); });
    t.add("relu6", [](LayerWriter& w) { clip(w, 0.0f, 6.0f); });
    t.add("clip", [](LayerWriter& w) { clip(w, real(w, "alpha"), real(w, "beta")); });
    t.add("sigmoid", [](LayerWriter& w) { activation(w).mutable_sigmoid(); });
    t.add("tanh", [](LayerWriter& w) { activation(w).mutable_tanh(); });
    t.add("softplus", [](LayerWriter& w) { activation(w).mutable_softplus(); });
    t.add("softsign", [](LayerWriter& w) { activation(w).mutable_softsign(); });
    t.add("leaky_relu", [](LayerWriter& w) { activation(w).mutable_leakyrelu()->set_alpha(real(w, "alpha")); });
    t.add("elu", [](LayerWriter& w) { activation(w).mutable_elu()->set_alpha(real(w, "alpha")); });
    t.add("thresholded_relu",
          [](LayerWriter& w) { activation(w).mutable_thresholdedrelu()->set_alpha(real(w, "alpha")); });
    t.add("sigmoid_hard", [](LayerWriter& w) {
        auto* a = activation(w).mutable_sigmoidhard();
        a->set_alpha(real(w, "alpha"));
        a->set_beta(real(w, "beta"));
    });
    t.add("linear_activation", [](LayerWriter& w) {
        auto* a = activation(w).mutable_linear();
        a->set_alpha(real(w, "alpha"));
        a->set_beta(real(w, "beta"));
    });
    t.add("scaled_tanh", [](LayerWriter& w) {
        auto* a = activation(w).mutable_scaledtanh();
        a->set_alpha(real(w, "alpha"));
        a->set_beta(real(w, "beta"));
    });
    t.add("clamped_relu", [](LayerWriter& w) {
        w.require(Target::iOS14, "clamped_relu (ClampedReLU layer)");
        auto* c = w.layer({w.in("x")}).mutable_clampedrelu();
        c->set_alpha(real(w, "alpha"));
        c->set_beta(real(w, "beta"));
    });
    t.add("prelu", prelu);
    t.add("silu", silu);
    t.add("gelu", gelu);
    t.add("softmax",
          [](LayerWriter& w) { w.layer({w.in("x")}).mutable_softmaxnd()->set_axis(w.params().getInt("axis")); });
}

}  // namespace ts2coreml::nn
