// Elementwise ops -> the broadcasting binary layers, comparison and logical layers, unary layers,
// WhereBroadcastable, and cast (NeuralNetwork blobs are all floating point: a cast only rounds).
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

using L = spec::NeuralNetworkLayer;
using Setter = void (*)(L&);

// A binary op <-> a broadcasting layer of two inputs.
void binary(LayerTable& t, const std::string& op, L::LayerCase kind, Setter set) {
    t.add(op, [set](LayerWriter& w) { set(w.layer({w.in("x"), w.in("y")})); });
    t.reads(kind, [op](LayerReader& r) { r.binary(op); });
}

// A unary op <-> a layer of one input.
void unary(LayerTable& t, const std::string& op, L::LayerCase kind, Setter set) {
    t.add(op, [set](LayerWriter& w) { set(w.layer({w.in("x")})); });
    t.reads(kind, [op](LayerReader& r) { r.unary(op); });
}

// A comparison <-> a comparison layer; read back, a layer of one input compares it with its alpha.
void comparison(LayerTable& t, const std::string& op, L::LayerCase kind, Setter set, float (*alpha)(const L&)) {
    t.add(op, [set](LayerWriter& w) { set(w.layer({w.in("x"), w.in("y")})); });
    t.reads(kind, [op, alpha](LayerReader& r) {
        mil::Value* y = r.inputs() > 1 ? r.in(1) : r.builder().constant(mil::Literal(double{alpha(r.layer())}));
        r.out(r.add(op, {{"x", r.in(0)}, {"y", y}}));
    });
}

// A logical op <-> a logical layer, whose fp32 blobs are read as bools.
void logical(LayerTable& t, const std::string& op, L::LayerCase kind, Setter set) {
    const bool isUnary = op == "logical_not";
    t.add(op, [set, isUnary](LayerWriter& w) {
        set(isUnary ? w.layer({w.in("x")}) : w.layer({w.in("x"), w.in("y")}));
    });
    t.reads(kind, [op](LayerReader& r) {
        if (r.inputs() == 1)
            r.out(r.add(op, {{"x", r.asBool(r.in(0))}}));
        else
            r.out(r.add(op, {{"x", r.asBool(r.in(0))}, {"y", r.asBool(r.in(1))}}));
    });
}

// UnaryFunctionLayerParams: f(scale * x + shift); LOG's shift is MIL log's epsilon.
void readUnaryFunction(LayerReader& r) {
    using U = spec::UnaryFunctionLayerParams;
    const U& p = r.layer().unary();
    mil::Value* x = r.in();
    const float scale = p.scale() == 0.0f ? 1.0f : p.scale();
    if (scale != 1.0f) x = r.add("mul", {{"x", x}, {"y", double{scale}}});
    if (p.shift() != 0.0f && p.type() != U::LOG) x = r.add("add", {{"x", x}, {"y", double{p.shift()}}});
    switch (p.type()) {
        case U::SQRT: return r.out(r.add("sqrt", {{"x", x}}));
        case U::RSQRT: return r.out(r.add("rsqrt", {{"x", x}, {"epsilon", double{p.epsilon()}}}));
        case U::INVERSE: return r.out(r.add("inverse", {{"x", x}, {"epsilon", double{p.epsilon()}}}));
        case U::POWER: return r.out(r.add("pow", {{"x", x}, {"y", double{p.alpha()}}}));
        case U::EXP: return r.out(r.add("exp", {{"x", x}}));
        case U::LOG: return r.out(r.add("log", {{"x", x}, {"epsilon", double{p.shift()}}}));
        case U::ABS: return r.out(r.add("abs", {{"x", x}}));
        case U::THRESHOLD: return r.out(r.add("threshold", {{"x", x}, {"alpha", double{p.alpha()}}}));
        default: r.fail("unary function " + std::to_string(p.type()) + " is not supported");
    }
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
    binary(t, "add", L::kAddBroadcastable, [](L& l) { l.mutable_addbroadcastable(); });
    binary(t, "sub", L::kSubtractBroadcastable, [](L& l) { l.mutable_subtractbroadcastable(); });
    binary(t, "mul", L::kMultiplyBroadcastable, [](L& l) { l.mutable_multiplybroadcastable(); });
    binary(t, "real_div", L::kDivideBroadcastable, [](L& l) { l.mutable_dividebroadcastable(); });
    binary(t, "floor_div", L::kFloorDivBroadcastable, [](L& l) { l.mutable_floordivbroadcastable(); });
    binary(t, "mod", L::kModBroadcastable, [](L& l) { l.mutable_modbroadcastable(); });
    binary(t, "pow", L::kPowBroadcastable, [](L& l) { l.mutable_powbroadcastable(); });
    binary(t, "maximum", L::kMaxBroadcastable, [](L& l) { l.mutable_maxbroadcastable(); });
    binary(t, "minimum", L::kMinBroadcastable, [](L& l) { l.mutable_minbroadcastable(); });
    comparison(
        t, "equal", L::kEqual, [](L& l) { l.mutable_equal(); }, [](const L& l) { return l.equal().alpha(); });
    comparison(
        t, "not_equal", L::kNotEqual, [](L& l) { l.mutable_notequal(); },
        [](const L& l) { return l.notequal().alpha(); });
    comparison(
        t, "less", L::kLessThan, [](L& l) { l.mutable_lessthan(); }, [](const L& l) { return l.lessthan().alpha(); });
    comparison(
        t, "less_equal", L::kLessEqual, [](L& l) { l.mutable_lessequal(); },
        [](const L& l) { return l.lessequal().alpha(); });
    comparison(
        t, "greater", L::kGreaterThan, [](L& l) { l.mutable_greaterthan(); },
        [](const L& l) { return l.greaterthan().alpha(); });
    comparison(
        t, "greater_equal", L::kGreaterEqual, [](L& l) { l.mutable_greaterequal(); },
        [](const L& l) { return l.greaterequal().alpha(); });
    logical(t, "logical_and", L::kLogicalAnd, [](L& l) { l.mutable_logicaland(); });
    logical(t, "logical_or", L::kLogicalOr, [](L& l) { l.mutable_logicalor(); });
    logical(t, "logical_xor", L::kLogicalXor, [](L& l) { l.mutable_logicalxor(); });
    logical(t, "logical_not", L::kLogicalNot, [](L& l) { l.mutable_logicalnot(); });

    unary(t, "ceil", L::kCeil, [](L& l) { l.mutable_ceil(); });
    unary(t, "floor", L::kFloor, [](L& l) { l.mutable_floor(); });
    unary(t, "round", L::kRound, [](L& l) { l.mutable_round(); });
    unary(t, "sign", L::kSign, [](L& l) { l.mutable_sign(); });
    unary(t, "exp2", L::kExp2, [](L& l) { l.mutable_exp2(); });
    unary(t, "sin", L::kSin, [](L& l) { l.mutable_sin(); });
    unary(t, "cos", L::kCos, [](L& l) { l.mutable_cos(); });
    unary(t, "tan", L::kTan, [](L& l) { l.mutable_tan(); });
    unary(t, "asin", L::kAsin, [](L& l) { l.mutable_asin(); });
    unary(t, "acos", L::kAcos, [](L& l) { l.mutable_acos(); });
    unary(t, "atan", L::kAtan, [](L& l) { l.mutable_atan(); });
    unary(t, "sinh", L::kSinh, [](L& l) { l.mutable_sinh(); });
    unary(t, "cosh", L::kCosh, [](L& l) { l.mutable_cosh(); });
    unary(t, "atanh", L::kAtanh, [](L& l) { l.mutable_atanh(); });
    unary(t, "erf", L::kErf, [](L& l) { l.mutable_erf(); });

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
    t.reads(L::kUnary, readUnaryFunction);
    t.reads(L::kTanh, [](LayerReader& r) { r.unary("tanh"); });  // Activation writes tanh; other tools may not
    t.reads(L::kWhereBroadcastable, [](LayerReader& r) {
        r.out(r.add("select", {{"cond", r.asBool(r.in(0))}, {"a", r.in(1)}, {"b", r.in(2)}}));
    });
}

TS2COREML_FAMILY(LayerTable, Elementwise, populateElementwiseLayers)

}  // namespace ts2coreml::nn
