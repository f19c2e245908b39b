// Elementwise ops -> the broadcasting binary layers, comparison and logical layers, unary layers,
// WhereBroadcastable, and cast (NeuralNetwork blobs are all floating point: a cast only rounds).
#include "backend/neuralnetwork/LayerWriter.h"

namespace ts2coreml::nn {

namespace {

using Setter = void (*)(spec::NeuralNetworkLayer&);

void binary(LayerTable& t, const std::string& op, Setter set) {
    t.add(op, [set](LayerWriter& w) { set(w.layer({w.in("x"), w.in("y")})); });
}

void unary(LayerTable& t, const std::string& op, Setter set) {
    t.add(op, [set](LayerWriter& w) { set(w.layer({w.in("x")})); });
}

// f(scale * x + shift) with f one of the UnaryFunction operations.
spec::UnaryFunctionLayerParams& unaryFunction(LayerWriter& w, spec::UnaryFunctionLayerParams::Operation f) {
    auto* u = w.layer({w.in("x")}).mutable_unary();
    u->set_type(f);
    u->set_scale(1.0f);
    return *u;
}

float epsilon(LayerWriter& w) { return static_cast<float>(w.params().getDouble("epsilon")); }

void identity(LayerWriter& w, const std::string& x, const std::string& y) {
    w.layer({x}, {y}).mutable_activation()->mutable_linear()->set_alpha(1.0f);
}

// cast: to a float type or from bool, the values are unchanged; to bool, x != 0; to int32 from a
// float, truncation towards zero = sign(x) * floor(|x|).
void cast(LayerWriter& w) {
    const std::string to = w.params().getString("dtype");
    const DType from = w.type("x").dtype;
    const std::string x = w.in("x");
    if (to == "bool") {
        w.layer({x}).mutable_notequal()->set_alpha(0.0f);
    } else if (to == "int32" && isFloat(from)) {
        const std::string a = w.temp("abs"), f = w.temp("floor"), s = w.temp("sign");
        auto* u = w.layer({x}, {a}).mutable_unary();
        u->set_type(spec::UnaryFunctionLayerParams::ABS);
        u->set_scale(1.0f);
        w.layer({a}, {f}).mutable_floor();
        w.layer({x}, {s}).mutable_sign();
        w.layer({s, f}).mutable_multiplybroadcastable();
    } else {
        identity(w, x, w.out());
    }
}

}  // namespace

void populateElementwiseLayers(LayerTable& t) {
    binary(t, "add", [](spec::NeuralNetworkLayer& l) { l.mutable_addbroadcastable(); });
    binary(t, "sub", [](spec::NeuralNetworkLayer& l) { l.mutable_subtractbroadcastable(); });
    binary(t, "mul", [](spec::NeuralNetworkLayer& l) { l.mutable_multiplybroadcastable(); });
    binary(t, "real_div", [](spec::NeuralNetworkLayer& l) { l.mutable_dividebroadcastable(); });
    binary(t, "floor_div", [](spec::NeuralNetworkLayer& l) { l.mutable_floordivbroadcastable(); });
    binary(t, "mod", [](spec::NeuralNetworkLayer& l) { l.mutable_modbroadcastable(); });
    binary(t, "pow", [](spec::NeuralNetworkLayer& l) { l.mutable_powbroadcastable(); });
    binary(t, "maximum", [](spec::NeuralNetworkLayer& l) { l.mutable_maxbroadcastable(); });
    binary(t, "minimum", [](spec::NeuralNetworkLayer& l) { l.mutable_minbroadcastable(); });
    binary(t, "equal", [](spec::NeuralNetworkLayer& l) { l.mutable_equal(); });
    binary(t, "not_equal", [](spec::NeuralNetworkLayer& l) { l.mutable_notequal(); });
    binary(t, "less", [](spec::NeuralNetworkLayer& l) { l.mutable_lessthan(); });
    binary(t, "less_equal", [](spec::NeuralNetworkLayer& l) { l.mutable_lessequal(); });
    binary(t, "greater", [](spec::NeuralNetworkLayer& l) { l.mutable_greaterthan(); });
    binary(t, "greater_equal", [](spec::NeuralNetworkLayer& l) { l.mutable_greaterequal(); });
    binary(t, "logical_and", [](spec::NeuralNetworkLayer& l) { l.mutable_logicaland(); });
    binary(t, "logical_or", [](spec::NeuralNetworkLayer& l) { l.mutable_logicalor(); });
    binary(t, "logical_xor", [](spec::NeuralNetworkLayer& l) { l.mutable_logicalxor(); });
    unary(t, "logical_not", [](spec::NeuralNetworkLayer& l) { l.mutable_logicalnot(); });

    unary(t, "ceil", [](spec::NeuralNetworkLayer& l) { l.mutable_ceil(); });
    unary(t, "floor", [](spec::NeuralNetworkLayer& l) { l.mutable_floor(); });
    unary(t, "round", [](spec::NeuralNetworkLayer& l) { l.mutable_round(); });
    unary(t, "sign", [](spec::NeuralNetworkLayer& l) { l.mutable_sign(); });
    unary(t, "exp2", [](spec::NeuralNetworkLayer& l) { l.mutable_exp2(); });
    unary(t, "sin", [](spec::NeuralNetworkLayer& l) { l.mutable_sin(); });
    unary(t, "cos", [](spec::NeuralNetworkLayer& l) { l.mutable_cos(); });
    unary(t, "tan", [](spec::NeuralNetworkLayer& l) { l.mutable_tan(); });
    unary(t, "asin", [](spec::NeuralNetworkLayer& l) { l.mutable_asin(); });
    unary(t, "acos", [](spec::NeuralNetworkLayer& l) { l.mutable_acos(); });
    unary(t, "atan", [](spec::NeuralNetworkLayer& l) { l.mutable_atan(); });
    unary(t, "sinh", [](spec::NeuralNetworkLayer& l) { l.mutable_sinh(); });
    unary(t, "cosh", [](spec::NeuralNetworkLayer& l) { l.mutable_cosh(); });
    unary(t, "atanh", [](spec::NeuralNetworkLayer& l) { l.mutable_atanh(); });
    unary(t, "erf", [](spec::NeuralNetworkLayer& l) { l.mutable_erf(); });

    t.add("abs", [](LayerWriter& w) { unaryFunction(w, spec::UnaryFunctionLayerParams::ABS); });
    t.add("exp", [](LayerWriter& w) { unaryFunction(w, spec::UnaryFunctionLayerParams::EXP); });
    t.add("sqrt", [](LayerWriter& w) { unaryFunction(w, spec::UnaryFunctionLayerParams::SQRT); });
    t.add("square", [](LayerWriter& w) { unaryFunction(w, spec::UnaryFunctionLayerParams::POWER).set_alpha(2.0f); });
    // log(x + epsilon): the epsilon is the layer's shift.
    t.add("log", [](LayerWriter& w) { unaryFunction(w, spec::UnaryFunctionLayerParams::LOG).set_shift(epsilon(w)); });
    t.add("rsqrt",
          [](LayerWriter& w) { unaryFunction(w, spec::UnaryFunctionLayerParams::RSQRT).set_epsilon(epsilon(w)); });
    t.add("inverse",
          [](LayerWriter& w) { unaryFunction(w, spec::UnaryFunctionLayerParams::INVERSE).set_epsilon(epsilon(w)); });
    // threshold(x, alpha) = max(x, alpha)
    t.add("threshold", [](LayerWriter& w) {
        unaryFunction(w, spec::UnaryFunctionLayerParams::THRESHOLD)
            .set_alpha(static_cast<float>(w.params().getDouble("alpha")));
    });

    t.add("select", [](LayerWriter& w) { w.layer({w.in("cond"), w.in("a"), w.in("b")}).mutable_wherebroadcastable(); });
    t.add("cast", cast);
    t.add("identity", [](LayerWriter& w) { identity(w, w.in("x"), w.out()); });
}

}  // namespace ts2coreml::nn
