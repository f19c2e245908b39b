// Activations -> ActivationParams (and Clip, Gelu, SoftmaxND, ClampedReLU layers).
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

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

// ActivationParams -> the MIL activation of the same name (PReLU: alpha per channel at axis -3).
void readActivation(LayerReader& r) {
    using A = spec::ActivationParams;
    const A& a = r.layer().activation();
    mil::Value* x = r.in();
    auto withAlpha = [&](const std::string& op, float alpha) {
        r.out(r.add(op, {{"x", x}, {"alpha", double{alpha}}}));
    };
    auto withAlphaBeta = [&](const std::string& op, float alpha, float beta) {
        r.out(r.add(op, {{"x", x}, {"alpha", double{alpha}}, {"beta", double{beta}}}));
    };
    switch (a.NonlinearityType_case()) {
        case A::kReLU: return r.unary("relu");
        case A::kTanh: return r.unary("tanh");
        case A::kSigmoid: return r.unary("sigmoid");
        case A::kSoftsign: return r.unary("softsign");
        case A::kSoftplus: return r.unary("softplus");
        case A::kLeakyReLU: return withAlpha("leaky_relu", a.leakyrelu().alpha());
        case A::kELU: return withAlpha("elu", a.elu().alpha());
        case A::kThresholdedReLU: return withAlpha("thresholded_relu", a.thresholdedrelu().alpha());
        case A::kLinear: return withAlphaBeta("linear_activation", a.linear().alpha(), a.linear().beta());
        case A::kSigmoidHard: return withAlphaBeta("sigmoid_hard", a.sigmoidhard().alpha(), a.sigmoidhard().beta());
        case A::kScaledTanh: return withAlphaBeta("scaled_tanh", a.scaledtanh().alpha(), a.scaledtanh().beta());
        case A::kPReLU: {
            const size_t rank = x->type().rank();
            if (rank < 3 || !x->type().shape[rank - 3].isStatic()) r.fail("PReLU needs static channels at axis -3");
            const int64_t c = x->type().shape[rank - 3].size;
            const auto& alpha = a.prelu().alpha();
            const int64_t n = alpha.floatvalue_size() + static_cast<int64_t>(alpha.float16value().size() / 2);
            mil::Value* av = r.weights(alpha, {n}, "alpha");
            if (n == 1 && c != 1) {
                const float v = static_cast<float>(av->constant()->asDouble(0));
                av = r.builder().constant(
                    mil::ConstData::fromFloats(std::vector<float>(static_cast<size_t>(c), v), {c}));
            }
            return r.out(r.add("prelu", {{"x", x}, {"alpha", av}}));
        }
        default: r.fail("activation " + std::to_string(a.NonlinearityType_case()) + " is not supported");
    }
}

void readGelu(LayerReader& r) {
    const auto m = r.layer().gelu().mode();
    r.out(r.add("gelu", {{"x", r.in()},
                         {"mode", m == spec::GeluLayerParams::EXACT                ? "EXACT"
                                  : m == spec::GeluLayerParams::TANH_APPROXIMATION ? "TANH_APPROXIMATION"
                                                                                   : "SIGMOID_APPROXIMATION"}}));
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
    using L = spec::NeuralNetworkLayer;
    t.reads(L::kActivation, readActivation);
    t.reads(L::kClip, [](LayerReader& r) {
        const auto& c = r.layer().clip();
        r.out(r.add("clip", {{"x", r.in()}, {"alpha", double{c.minval()}}, {"beta", double{c.maxval()}}}));
    });
    t.reads(L::kClampedReLU, [](LayerReader& r) {
        const auto& c = r.layer().clampedrelu();
        r.out(r.add("clamped_relu", {{"x", r.in()}, {"alpha", double{c.alpha()}}, {"beta", double{c.beta()}}}));
    });
    t.reads(L::kGelu, readGelu);
    t.reads(L::kSoftmaxND, [](LayerReader& r) {
        r.out(r.add("softmax", {{"x", r.in()}, {"axis", r.layer().softmaxnd().axis()}}));
    });
    // The rank-3 softmax layer of older models: over the channel axis (-3).
    t.reads(L::kSoftmax, [](LayerReader& r) { r.out(r.add("softmax", {{"x", r.in()}, {"axis", int64_t{-3}}})); });
}

TS2COREML_FAMILY(LayerTable, Activation, populateActivationLayers)

}  // namespace ts2coreml::nn
