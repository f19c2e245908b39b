// Recurrent MIL ops (coremltools ops/defs/iOS15/recurrent.py): lstm, gru, rnn over x [S, B, I]
// (sequence first). Weights are constants, rows grouped by gate:
//   lstm  weight_ih [4H, I], weight_hh [4H, H], bias [4H] (input + recurrent bias), gates in the
//         order input, forget, output, cell (i, f, o, z); peephole [3H] (i, f, o).
//   gru   weight_ih [3H, I], weight_hh [3H, H], bias [3H], gates reset, output, update (r, o, z);
//         the reset gate scales the state before its matrix: o = act(W_o x + R_o (r * h) + b_o).
//   rnn   weight_ih [H, I], weight_hh [H, H], bias [H].
// Outputs: the states of every step [S, B, D*H] (output_sequence) or of the last one [1, B, D*H],
// then the final state [B, D*H] (lstm: and the final cell state). D = 2 for a bidirectional lstm,
// whose initial and final states hold the forward half, then the backward half. A "reverse" op
// reads x from its end and returns its states in that (processing) order.
// Apple's iOS15 ops take fp32 only (fp16 from iOS17); they are declared fp32, so fp16 programs
// compute them in fp32 between casts.
#include "mil/Families.h"
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

constexpr DTypeSet kFp32 = bit(DType::Float32);

const std::vector<std::string> kActivations = {"tanh", "scaled_tanh", "sigmoid", "hard_sigmoid", "relu", "linear"};

void checkActivation(const OpView& v, const std::string& name) {
    requireOneOf(v, name, stringParam(v, name), kActivations);
}

std::string dimText(const Dim& d) { return shapes::str({d}); }

// weight_ih [G*H, I] and weight_hh [G*H, H] of one direction; returns H.
Dim checkWeights(const OpView& v, const std::string& ih, const std::string& hh, int64_t gates, const Dim& inputSize) {
    requireRank(v, ih, 2);
    requireRank(v, hh, 2);
    const Shape& wi = v.type(ih).shape;
    const Shape& wh = v.type(hh).shape;
    const Dim hidden = wh[1];
    if (!hidden.isStatic() || !wi[0].isStatic() || !wh[0].isStatic())
        v.fail("weights " + v.type(ih).str() + " and " + v.type(hh).str() + " must have static sizes");
    if (wh[0].size != gates * hidden.size || wi[0].size != gates * hidden.size)
        v.fail("weights " + v.type(ih).str() + " and " + v.type(hh).str() + " must be [" + std::to_string(gates) +
               "*H, I] and [" + std::to_string(gates) + "*H, H]");
    if (!shapes::compatibleDim(wi[1], inputSize))
        v.fail(ih + " " + v.type(ih).str() + " must have I = " + dimText(inputSize) +
               " columns (the last dimension of x)");
    return hidden;
}

void checkVector(const OpView& v, const std::string& name, int64_t size) {
    if (!v.has(name)) return;
    requireRank(v, name, 1);
    const Dim& n = v.type(name).shape[0];
    if (!n.isStatic() || n.size != size)
        v.fail("input '" + name + "' " + v.type(name).str() + " must have " + std::to_string(size) + " values");
}

// A state input [B, width].
void checkState(const OpView& v, const std::string& name, const Dim& batch, int64_t width) {
    requireRank(v, name, 2);
    const Shape& s = v.type(name).shape;
    if (!shapes::compatibleDim(s[0], batch) || !shapes::compatibleDim(s[1], Dim::fixed(width)))
        v.fail(name + " " + v.type(name).str() + " must be [B, " + std::to_string(width) +
               "] with B = " + dimText(batch) + " (x's dimension 1)");
}

// The outputs: [S or 1, B, width], then `states` times [B, width].
std::vector<TensorType> outputs(const OpView& v, int64_t width, size_t states) {
    const TensorType& x = v.type("x");
    const Dim w = Dim::fixed(width);
    std::vector<TensorType> out{
        tensor(x.dtype, {boolParam(v, "output_sequence") ? x.shape[0] : Dim::fixed(1), x.shape[1], w})};
    for (size_t i = 0; i < states; ++i) out.push_back(tensor(x.dtype, {x.shape[1], w}));
    return out;
}

std::vector<TensorType> inferLstm(const OpView& v) {
    requireRank(v, "x", 3);
    const Shape& x = v.type("x").shape;
    const std::string direction = stringParam(v, "direction");
    requireOneOf(v, "direction", direction, {"forward", "reverse", "bidirectional"});
    const int64_t h = checkWeights(v, "weight_ih", "weight_hh", 4, x[2]).size;
    checkVector(v, "bias", 4 * h);
    checkVector(v, "peephole", 3 * h);
    const bool both = direction == "bidirectional";
    if (both) {
        if (!v.has("weight_ih_back") || !v.has("weight_hh_back"))
            v.fail("a bidirectional lstm needs weight_ih_back and weight_hh_back");
        if (checkWeights(v, "weight_ih_back", "weight_hh_back", 4, x[2]).size != h)
            v.fail("the backward weights must have the forward weights' hidden size " + std::to_string(h));
        checkVector(v, "bias_back", 4 * h);
        checkVector(v, "peephole_back", 3 * h);
    }
    for (const char* a : {"recurrent_activation", "cell_activation", "activation"}) checkActivation(v, a);
    if (v.has("clip") && !(floatParam(v, "clip") > 0)) v.fail("clip must be positive");
    const int64_t width = (both ? 2 : 1) * h;
    checkState(v, "initial_h", x[1], width);
    checkState(v, "initial_c", x[1], width);
    return outputs(v, width, 2);
}

// gru and rnn: one direction, `gates` gate blocks in the weights.
InferFn inferSingleDirection(int64_t gates, std::vector<const char*> activations) {
    return [gates, activations](const OpView& v) {
        requireRank(v, "x", 3);
        const Shape& x = v.type("x").shape;
        requireOneOf(v, "direction", stringParam(v, "direction"), {"forward", "reverse"});
        const int64_t h = checkWeights(v, "weight_ih", "weight_hh", gates, x[2]).size;
        checkVector(v, "bias", gates * h);
        for (const char* a : activations) checkActivation(v, a);
        checkState(v, "initial_h", x[1], h);
        return outputs(v, h, 1);
    };
}

// gru's and rnn's inputs, in Apple's order: the sequence, the state, the weights, then options
// ending with the named activations (and their defaults).
std::vector<InputSpec> singleDirectionInputs(const std::vector<std::pair<std::string, std::string>>& activations) {
    std::vector<InputSpec> in{input("x", kFp32, "T"),
                              input("initial_h", kFp32, "T"),
                              constInput("weight_ih", kFp32, "T"),
                              constInput("weight_hh", kFp32, "T"),
                              optionalConst("bias", kFp32, {}, "T"),
                              optionalConst("direction", kStr, std::string("forward")),
                              optionalConst("output_sequence", kBool, false)};
    for (const auto& [name, fallback] : activations) in.push_back(optionalConst(name, kStr, fallback));
    return in;
}

}  // namespace

void populateRecurrentSchemas(SchemaTable& t) {
    declare(t, "lstm",
            {input("x", kFp32, "T"), input("initial_h", kFp32, "T"), input("initial_c", kFp32, "T"),
             constInput("weight_ih", kFp32, "T"), constInput("weight_hh", kFp32, "T"),
             optionalConst("bias", kFp32, {}, "T"), optionalConst("peephole", kFp32, {}, "T"),
             optionalConst("weight_ih_back", kFp32, {}, "T"), optionalConst("weight_hh_back", kFp32, {}, "T"),
             optionalConst("bias_back", kFp32, {}, "T"), optionalConst("peephole_back", kFp32, {}, "T"),
             optionalConst("direction", kStr, std::string("forward")), optionalConst("output_sequence", kBool, false),
             optionalConst("recurrent_activation", kStr, std::string("sigmoid")),
             optionalConst("cell_activation", kStr, std::string("tanh")),
             optionalConst("activation", kStr, std::string("tanh")), optionalConst("clip", kFp32, {}, "T")},
            inferLstm,
            "long short-term memory: i, f, o = recurrent_activation(W x + R h + b [+ p * c]), z = "
            "cell_activation(W_z x + R_z h + b_z), c = f * c + i * z (clipped to [-clip, clip]), h = o * "
            "activation(c); gates i, f, o, z; direction forward | reverse | bidirectional");
    declare(t, "gru", singleDirectionInputs({{"recurrent_activation", "sigmoid"}, {"activation", "tanh"}}),
            inferSingleDirection(3, {"recurrent_activation", "activation"}),
            "gated recurrent unit: r, z = recurrent_activation(W x + R h + b), o = activation(W_o x + R_o (r * h) + "
            "b_o), h = (1 - z) * o + z * h; gates r, o, z; direction forward | reverse");
    declare(t, "rnn", singleDirectionInputs({{"activation", "tanh"}}), inferSingleDirection(1, {"activation"}),
            "simple recurrence h = activation(W x + R h + b); direction forward | reverse");
}

TS2COREML_FAMILY(SchemaTable, Recurrent, populateRecurrentSchemas)

}  // namespace ts2coreml::mil
