// lstm -> UniDirectionalLSTM or BiDirectionalLSTM, gru -> GRU, rnn -> SimpleRecurrent, and back.
// These layers take rank-5 blobs: x [S, B, I, 1, 1] and states [1, B, H, 1, 1], and give the
// sequence [S or 1, B, D*H, 1, 1] and the final states [1, B, H, 1, 1]; ExpandDims and Squeeze
// layers go around them. Their weights are one matrix per gate, [H, I] or [H, H] row-major:
//   LSTM  MIL gates i, f, o, z -> input, forget, output gate and block input (z) matrices
//   GRU   MIL gates r, o, z    -> reset, output and update gate matrices
// The layers clip pre-activations to [-50, 50], which the MIL ops do not; an LSTM clips its cell
// state at cellClipThreshold (written 500 when the op has no clip, as coremltools writes it).
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

#include <cmath>

namespace ts2coreml::nn {

namespace {

using Floats = std::vector<float>;

constexpr float kNoClip = 500.0f;

// The rows of a constant [G*H, K] in G blocks (one per gate), each [H, K] row-major.
std::vector<Floats> gateBlocks(const mil::ConstData& c, int64_t gates) {
    const auto n = static_cast<size_t>(c.numel());
    const size_t block = n / static_cast<size_t>(gates);
    std::vector<Floats> out(static_cast<size_t>(gates), Floats(block));
    for (size_t i = 0; i < n; ++i) out[i / block][i % block] = static_cast<float>(c.asDouble(i));
    return out;
}

void setActivation(LayerWriter& w, spec::ActivationParams& a, const std::string& name) {
    if (name == "tanh") {
        a.mutable_tanh();
    } else if (name == "scaled_tanh") {  // MIL's default parameters: tanh itself
        a.mutable_scaledtanh()->set_alpha(1.0f);
        a.mutable_scaledtanh()->set_beta(1.0f);
    } else if (name == "sigmoid") {
        a.mutable_sigmoid();
    } else if (name == "hard_sigmoid") {
        a.mutable_sigmoidhard()->set_alpha(0.2f);
        a.mutable_sigmoidhard()->set_beta(0.5f);
    } else if (name == "relu") {
        a.mutable_relu();
    } else if (name == "linear") {
        a.mutable_linear()->set_alpha(1.0f);
    } else {
        w.unsupported("activation '" + name + "' has no recurrent-layer form");
    }
}

template <typename Repeated>
void setActivations(LayerWriter& w, Repeated& list, const std::vector<const char*>& inputs) {
    for (const char* in : inputs) setActivation(w, *list.Add(), w.params().getString(in));
}

// Blob `input` with unit dimensions inserted at `axes`.
std::string expanded(LayerWriter& w, const std::string& input, std::vector<int64_t> axes, const std::string& tag) {
    const std::string out = w.temp(tag);
    auto* e = w.layer({w.in(input)}, {out}).mutable_expanddims();
    for (int64_t a : axes) e->add_axes(a);
    return out;
}

void squeezeInto(LayerWriter& w, const std::string& from, size_t output, std::vector<int64_t> axes) {
    auto* s = w.layer({from}, {w.out(output)}).mutable_squeeze();
    for (int64_t a : axes) s->add_axes(a);
}

// The rank-5 blobs of x and of the initial states.
struct Rank5 {
    std::string x, h, c;
};

Rank5 expandInputs(LayerWriter& w, bool cell) {
    return {expanded(w, "x", {3, 4}, "x5"), expanded(w, "initial_h", {0, 3, 4}, "h5"),
            cell ? expanded(w, "initial_c", {0, 3, 4}, "c5") : std::string()};
}

// The layer outputs (sequence, then each state) squeezed into the op's outputs.
void squeezeOutputs(LayerWriter& w, const std::vector<std::string>& rank5) {
    squeezeInto(w, rank5[0], 0, {3, 4});
    for (size_t i = 1; i < rank5.size(); ++i) squeezeInto(w, rank5[i], i, {0, 3, 4});
}

void fillLstmWeights(LayerWriter& w, spec::LSTMWeightParams& p, const std::string& suffix, int64_t hidden, bool biases,
                     bool peepholes) {
    auto wi = gateBlocks(w.constant("weight_ih" + suffix), 4), wh = gateBlocks(w.constant("weight_hh" + suffix), 4);
    w.weights(*p.mutable_inputgateweightmatrix(), wi[0]);
    w.weights(*p.mutable_forgetgateweightmatrix(), wi[1]);
    w.weights(*p.mutable_outputgateweightmatrix(), wi[2]);
    w.weights(*p.mutable_blockinputweightmatrix(), wi[3]);
    w.weights(*p.mutable_inputgaterecursionmatrix(), wh[0]);
    w.weights(*p.mutable_forgetgaterecursionmatrix(), wh[1]);
    w.weights(*p.mutable_outputgaterecursionmatrix(), wh[2]);
    w.weights(*p.mutable_blockinputrecursionmatrix(), wh[3]);
    const auto h = static_cast<size_t>(hidden);
    if (biases) {  // a direction without its bias (the other has one) adds zeros
        auto b = w.op().input("bias" + suffix) ? gateBlocks(w.constant("bias" + suffix), 4)
                                               : std::vector<Floats>(4, Floats(h, 0.0f));
        w.weights(*p.mutable_inputgatebiasvector(), b[0]);
        w.weights(*p.mutable_forgetgatebiasvector(), b[1]);
        w.weights(*p.mutable_outputgatebiasvector(), b[2]);
        w.weights(*p.mutable_blockinputbiasvector(), b[3]);
    }
    if (peepholes) {
        auto pv = w.op().input("peephole" + suffix) ? gateBlocks(w.constant("peephole" + suffix), 3)
                                                    : std::vector<Floats>(3, Floats(h, 0.0f));
        w.weights(*p.mutable_inputgatepeepholevector(), pv[0]);
        w.weights(*p.mutable_forgetgatepeepholevector(), pv[1]);
        w.weights(*p.mutable_outputgatepeepholevector(), pv[2]);
    }
}

void writeLstm(LayerWriter& w) {
    const std::string direction = w.params().getString("direction");
    const bool both = direction == "bidirectional";
    const mil::ConstData& wih = w.constant("weight_ih");
    const int64_t hidden = wih.sizes[0] / 4;
    const bool biases = w.op().input("bias") || w.op().input("bias_back");
    const bool peepholes = w.op().input("peephole") || w.op().input("peephole_back");
    auto setCommon = [&](auto& p, auto& params) {
        p.set_inputvectorsize(static_cast<uint64_t>(wih.sizes[1]));
        p.set_outputvectorsize(static_cast<uint64_t>(hidden));
        params.set_sequenceoutput(w.params().getBool("output_sequence"));
        params.set_hasbiasvectors(biases);
        params.set_haspeepholevectors(peepholes);
        params.set_cellclipthreshold(w.op().input("clip") ? static_cast<float>(w.params().getDouble("clip")) : kNoClip);
    };
    const std::vector<const char*> activations{"recurrent_activation", "cell_activation", "activation"};
    const Rank5 in = expandInputs(w, true);
    const std::string y = w.temp("y5"), h = w.temp("h5_out"), c = w.temp("c5_out");
    if (!both) {
        auto* p = w.layer({in.x, in.h, in.c}, {y, h, c}).mutable_unidirectionallstm();
        setCommon(*p, *p->mutable_params());
        setActivations(w, *p->mutable_activations(), activations);
        fillLstmWeights(w, *p->mutable_weightparams(), "", hidden, biases, peepholes);
        p->set_reverseinput(direction == "reverse");
        return squeezeOutputs(w, {y, h, c});
    }
    // Each direction's states are their own blobs: split [1, B, 2H, 1, 1] in two, and concatenate back.
    auto split = [&](const std::string& blob, const std::string& tag) {
        const std::vector<std::string> halves{w.temp(tag + "_forward"), w.temp(tag + "_backward")};
        auto* s = w.layer({blob}, halves).mutable_splitnd();
        s->set_axis(2);
        s->set_numsplits(2);
        return halves;
    };
    const auto hIn = split(in.h, "h5"), cIn = split(in.c, "c5");
    const std::vector<std::string> hOut{w.temp("h5_out_forward"), w.temp("h5_out_backward")},
        cOut{w.temp("c5_out_forward"), w.temp("c5_out_backward")};
    auto* p = w.layer({in.x, hIn[0], cIn[0], hIn[1], cIn[1]}, {y, hOut[0], cOut[0], hOut[1], cOut[1]})
                  .mutable_bidirectionallstm();
    setCommon(*p, *p->mutable_params());
    setActivations(w, *p->mutable_activationsforwardlstm(), activations);
    setActivations(w, *p->mutable_activationsbackwardlstm(), activations);
    fillLstmWeights(w, *p->add_weightparams(), "", hidden, biases, peepholes);
    fillLstmWeights(w, *p->add_weightparams(), "_back", hidden, biases, peepholes);
    w.layer(hOut, {h}).mutable_concatnd()->set_axis(2);
    w.layer(cOut, {c}).mutable_concatnd()->set_axis(2);
    squeezeOutputs(w, {y, h, c});
}

void writeGru(LayerWriter& w) {
    const mil::ConstData& wih = w.constant("weight_ih");
    const auto hidden = static_cast<size_t>(wih.sizes[0] / 3);
    const Rank5 in = expandInputs(w, false);
    const std::string y = w.temp("y5"), h = w.temp("h5_out");
    auto* p = w.layer({in.x, in.h}, {y, h}).mutable_gru();
    p->set_inputvectorsize(static_cast<uint64_t>(wih.sizes[1]));
    p->set_outputvectorsize(hidden);
    setActivations(w, *p->mutable_activations(), {"recurrent_activation", "activation"});
    p->set_sequenceoutput(w.params().getBool("output_sequence"));
    p->set_reverseinput(w.params().getString("direction") == "reverse");
    auto wi = gateBlocks(wih, 3), wh = gateBlocks(w.constant("weight_hh"), 3);  // r, o, z
    w.weights(*p->mutable_resetgateweightmatrix(), wi[0]);
    w.weights(*p->mutable_outputgateweightmatrix(), wi[1]);
    w.weights(*p->mutable_updategateweightmatrix(), wi[2]);
    w.weights(*p->mutable_resetgaterecursionmatrix(), wh[0]);
    w.weights(*p->mutable_outputgaterecursionmatrix(), wh[1]);
    w.weights(*p->mutable_updategaterecursionmatrix(), wh[2]);
    if (w.op().input("bias")) {
        p->set_hasbiasvectors(true);
        auto b = gateBlocks(w.constant("bias"), 3);
        w.weights(*p->mutable_resetgatebiasvector(), b[0]);
        w.weights(*p->mutable_outputgatebiasvector(), b[1]);
        w.weights(*p->mutable_updategatebiasvector(), b[2]);
    }
    squeezeOutputs(w, {y, h});
}

void writeRnn(LayerWriter& w) {
    const mil::ConstData& wih = w.constant("weight_ih");
    const Rank5 in = expandInputs(w, false);
    const std::string y = w.temp("y5"), h = w.temp("h5_out");
    auto* p = w.layer({in.x, in.h}, {y, h}).mutable_simplerecurrent();
    p->set_inputvectorsize(static_cast<uint64_t>(wih.sizes[1]));
    p->set_outputvectorsize(static_cast<uint64_t>(wih.sizes[0]));
    setActivation(w, *p->mutable_activation(), w.params().getString("activation"));
    p->set_sequenceoutput(w.params().getBool("output_sequence"));
    p->set_reverseinput(w.params().getString("direction") == "reverse");
    w.weights(*p->mutable_weightmatrix(), "weight_ih");
    w.weights(*p->mutable_recursionmatrix(), "weight_hh");
    if (w.op().input("bias")) {
        p->set_hasbiasvector(true);
        w.weights(*p->mutable_biasvector(), "bias");
    }
    squeezeOutputs(w, {y, h});
}

// ---- reading the layers back ----------------------------------------------------------------------

bool near(float a, float b) { return std::fabs(a - b) < 1e-4f; }

std::string activationName(LayerReader& r, const spec::ActivationParams& a) {
    using A = spec::ActivationParams;
    switch (a.NonlinearityType_case()) {
        case A::kTanh: return "tanh";
        case A::kSigmoid: return "sigmoid";
        case A::kReLU: return "relu";
        case A::kLinear:
            if (near(a.linear().alpha(), 1.0f) && near(a.linear().beta(), 0.0f)) return "linear";
            break;
        case A::kSigmoidHard:
            if (near(a.sigmoidhard().alpha(), 0.2f) && near(a.sigmoidhard().beta(), 0.5f)) return "hard_sigmoid";
            break;
        case A::kScaledTanh:
            if (near(a.scaledtanh().alpha(), 1.0f) && near(a.scaledtanh().beta(), 1.0f)) return "scaled_tanh";
            break;
        default: break;
    }
    r.fail(
        "a recurrent layer's activation must be tanh, sigmoid, relu, linear (1, 0), hard sigmoid (0.2, 0.5) or "
        "scaled tanh (1, 1)");
}

template <typename Repeated>
std::vector<std::string> activationNames(LayerReader& r, const Repeated& list, size_t n) {
    if (static_cast<size_t>(list.size()) != n) r.fail("needs " + std::to_string(n) + " activations");
    std::vector<std::string> out;
    for (const auto& a : list) out.push_back(activationName(r, a));
    return out;
}

// Blob x [S, B, I, 1, 1] as [S, B, I].
mil::Value* sequenceInput(LayerReader& r) {
    mil::Value* x = r.in(0);
    if (x->type().rank() == 3) return x;
    if (x->type().rank() != 5) r.fail("its input must have rank 5 ([Seq, Batch, C, 1, 1]), got " + x->type().str());
    return r.add("squeeze", {{"x", x}, {"axes", std::vector<int64_t>{3, 4}}});
}

// Initial state input `i` as [B, width]; zeros when the layer has no such input.
mil::Value* stateInput(LayerReader& r, size_t i, mil::Value* x, int64_t width) {
    if (r.inputs() > i) return r.add("reshape", {{"x", r.in(i)}, {"shape", std::vector<int64_t>{-1, width}}});
    mil::Value* batch = r.add(
        "slice_by_index",
        {{"x", r.add("shape", {{"x", x}})}, {"begin", std::vector<int64_t>{1}}, {"end", std::vector<int64_t>{2}}});
    mil::Value* shape =
        r.add("concat", {{"values", std::vector<mil::Value*>{batch, r.builder().ints({width})}}, {"axis", int64_t{0}}});
    return r.add("fill", {{"shape", shape}, {"value", 0.0}});
}

// The op's outputs as the layer's blobs: the sequence [S, B, W, 1, 1], each state [1, B, W, 1, 1].
void defineOutputs(LayerReader& r, const std::vector<mil::Value*>& outs) {
    for (size_t i = 0; i < outs.size() && static_cast<int>(i) < r.layer().output_size(); ++i)
        r.out(r.add("expand_dims",
                    {{"x", outs[i]}, {"axes", i == 0 ? std::vector<int64_t>{3, 4} : std::vector<int64_t>{0, 3, 4}}}),
              i);
}

// Gate matrices (or vectors: cols = 1) in the given order, stacked into one [G*rows, cols].
template <typename... W>
Floats stackedValues(LayerReader& r, int64_t rows, int64_t cols, const std::string& what, const W&... ws) {
    Floats all;
    for (const spec::WeightParams* m : {&ws...}) {
        Floats v = r.floats(*m, what);
        if (static_cast<int64_t>(v.size()) != rows * cols)
            r.fail(what + " holds " + std::to_string(v.size()) + " values per gate, expected " +
                   std::to_string(rows * cols));
        all.insert(all.end(), v.begin(), v.end());
    }
    return all;
}

mil::Value* constantOf(LayerReader& r, Floats values, int64_t rows, int64_t cols) {
    return r.builder().constant(
        mil::ConstData::fromFloats(values, cols == 1 ? std::vector<int64_t>{rows} : std::vector<int64_t>{rows, cols}));
}

template <typename... W>
mil::Value* stacked(LayerReader& r, int64_t rows, int64_t cols, const std::string& what, const W&... ws) {
    return constantOf(r, stackedValues(r, rows, cols, what, ws...), static_cast<int64_t>(sizeof...(ws)) * rows, cols);
}

// One direction's LSTM weights as the lstm op's inputs (named with `suffix`), in MIL's gate order.
void readLstmWeights(LayerReader& r, const spec::LSTMWeightParams& p, const spec::LSTMParams& params, int64_t h,
                     int64_t in, const std::string& suffix, mil::OperandList& ops) {
    ops.push_back(
        {"weight_ih" + suffix, stacked(r, h, in, "weights", p.inputgateweightmatrix(), p.forgetgateweightmatrix(),
                                       p.outputgateweightmatrix(), p.blockinputweightmatrix())});
    ops.push_back({"weight_hh" + suffix,
                   stacked(r, h, h, "recursion weights", p.inputgaterecursionmatrix(), p.forgetgaterecursionmatrix(),
                           p.outputgaterecursionmatrix(), p.blockinputrecursionmatrix())});
    if (params.hasbiasvectors()) {
        Floats b = stackedValues(r, h, 1, "biases", p.inputgatebiasvector(), p.forgetgatebiasvector(),
                                 p.outputgatebiasvector(), p.blockinputbiasvector());
        if (params.forgetbias())  // adds 1 to the forget gate's bias
            for (int64_t i = h; i < 2 * h; ++i) b[static_cast<size_t>(i)] += 1.0f;
        ops.push_back({"bias" + suffix, constantOf(r, std::move(b), 4 * h, 1)});
    }
    if (params.haspeepholevectors())
        ops.push_back({"peephole" + suffix, stacked(r, h, 1, "peepholes", p.inputgatepeepholevector(),
                                                    p.forgetgatepeepholevector(), p.outputgatepeepholevector())});
}

template <typename Layer>
void readLstm(LayerReader& r, const Layer& p) {
    const auto& params = p.params();
    if (params.coupledinputandforgetgate()) r.fail("an LSTM with coupled input and forget gates is not supported");
    const auto h = static_cast<int64_t>(p.outputvectorsize()), in = static_cast<int64_t>(p.inputvectorsize());
    mil::Value* x = sequenceInput(r);
    mil::OperandList ops{{"x", x}};
    std::vector<std::string> acts;
    if constexpr (std::is_same_v<Layer, spec::BiDirectionalLSTMLayerParams>) {
        if (p.weightparams_size() != 2) r.fail("a bidirectional LSTM needs two sets of weights");
        acts = activationNames(r, p.activationsforwardlstm(), 3);
        if (activationNames(r, p.activationsbackwardlstm(), 3) != acts)
            r.fail("the two directions of a bidirectional LSTM must use the same activations");
        auto bothStates = [&](size_t i, size_t j) {
            return r.add("concat",
                         {{"values", std::vector<mil::Value*>{stateInput(r, i, x, h), stateInput(r, j, x, h)}},
                          {"axis", int64_t{1}}});
        };
        ops.push_back({"initial_h", bothStates(1, 3)});
        ops.push_back({"initial_c", bothStates(2, 4)});
        readLstmWeights(r, p.weightparams(0), params, h, in, "", ops);
        readLstmWeights(r, p.weightparams(1), params, h, in, "_back", ops);
        ops.push_back({"direction", "bidirectional"});
    } else {
        acts = activationNames(r, p.activations(), 3);
        ops.push_back({"initial_h", stateInput(r, 1, x, h)});
        ops.push_back({"initial_c", stateInput(r, 2, x, h)});
        readLstmWeights(r, p.weightparams(), params, h, in, "", ops);
        ops.push_back({"direction", p.reverseinput() ? "reverse" : "forward"});
    }
    ops.push_back({"output_sequence", params.sequenceoutput()});
    ops.push_back({"recurrent_activation", acts[0]});
    ops.push_back({"cell_activation", acts[1]});
    ops.push_back({"activation", acts[2]});
    ops.push_back({"clip", double{params.cellclipthreshold() > 0 ? params.cellclipthreshold() : 50.0f}});
    const std::vector<mil::Value*> outs = r.builder().addOp("lstm", ops);
    if constexpr (std::is_same_v<Layer, spec::BiDirectionalLSTMLayerParams>) {
        // Outputs: the sequence, then forward h and c, then backward h and c.
        auto halves = [&](mil::Value* v) {
            return r.builder().addOp("split", {{"x", v}, {"num_splits", int64_t{2}}, {"axis", int64_t{1}}});
        };
        const auto hs = halves(outs[1]), cs = halves(outs[2]);
        defineOutputs(r, {outs[0], hs[0], cs[0], hs[1], cs[1]});
    } else {
        defineOutputs(r, outs);
    }
}

void readGru(LayerReader& r) {
    const auto& p = r.layer().gru();
    const auto h = static_cast<int64_t>(p.outputvectorsize()), in = static_cast<int64_t>(p.inputvectorsize());
    const auto acts = activationNames(r, p.activations(), 2);
    mil::Value* x = sequenceInput(r);
    mil::OperandList ops{{"x", x},
                         {"initial_h", stateInput(r, 1, x, h)},
                         {"weight_ih", stacked(r, h, in, "weights", p.resetgateweightmatrix(),
                                               p.outputgateweightmatrix(), p.updategateweightmatrix())},
                         {"weight_hh", stacked(r, h, h, "recursion weights", p.resetgaterecursionmatrix(),
                                               p.outputgaterecursionmatrix(), p.updategaterecursionmatrix())}};
    if (p.hasbiasvectors())
        ops.push_back({"bias", stacked(r, h, 1, "biases", p.resetgatebiasvector(), p.outputgatebiasvector(),
                                       p.updategatebiasvector())});
    ops.push_back({"direction", p.reverseinput() ? "reverse" : "forward"});
    ops.push_back({"output_sequence", p.sequenceoutput()});
    ops.push_back({"recurrent_activation", acts[0]});
    ops.push_back({"activation", acts[1]});
    defineOutputs(r, r.builder().addOp("gru", ops));
}

void readRnn(LayerReader& r) {
    const auto& p = r.layer().simplerecurrent();
    const auto h = static_cast<int64_t>(p.outputvectorsize()), in = static_cast<int64_t>(p.inputvectorsize());
    mil::Value* x = sequenceInput(r);
    mil::OperandList ops{{"x", x},
                         {"initial_h", stateInput(r, 1, x, h)},
                         {"weight_ih", r.weights(p.weightmatrix(), {h, in}, "weights")},
                         {"weight_hh", r.weights(p.recursionmatrix(), {h, h}, "recursion weights")}};
    if (p.hasbiasvector()) ops.push_back({"bias", r.weights(p.biasvector(), {h}, "bias")});
    ops.push_back({"direction", p.reverseinput() ? "reverse" : "forward"});
    ops.push_back({"output_sequence", p.sequenceoutput()});
    ops.push_back({"activation", activationName(r, p.activation())});
    defineOutputs(r, r.builder().addOp("rnn", ops));
}

}  // namespace

void populateRecurrentLayers(LayerTable& t) {
    t.add("lstm", writeLstm);
    t.add("gru", writeGru);
    t.add("rnn", writeRnn);
    t.reads(spec::NeuralNetworkLayer::kUniDirectionalLSTM,
            [](LayerReader& r) { readLstm(r, r.layer().unidirectionallstm()); });
    t.reads(spec::NeuralNetworkLayer::kBiDirectionalLSTM,
            [](LayerReader& r) { readLstm(r, r.layer().bidirectionallstm()); });
    t.reads(spec::NeuralNetworkLayer::kGru, readGru);
    t.reads(spec::NeuralNetworkLayer::kSimpleRecurrent, readRnn);
}

TS2COREML_FAMILY(LayerTable, Recurrent, populateRecurrentLayers)

}  // namespace ts2coreml::nn
