// Recurrent networks: aten::lstm, gru, rnn_tanh and rnn_relu (stacked layers, bidirectional,
// batch_first, given initial states, LSTM projections, packed sequences of equal lengths) and
// their one-step cells. Packed sequences of different lengths run padded (PackedSequence.h).
//
// torch's gate order is LSTM i, f, g, o and GRU r, z, n, with separate input and recurrent biases.
// An LSTM without projection is MIL's `lstm` (gates reordered to i, f, o, z, the two biases
// summed), one op per layer for both directions; an RNN is MIL's `rnn`. MIL's `gru` applies the
// reset gate before its recurrent matrix (torch: after, with the recurrent bias inside), and
// MIL's `lstm` has no projection: those run as a while_loop of the cell's ops, their input
// projections computed for all steps before the loop. Weights must be constants (a model's
// parameters); the cells take any weights.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"
#include "lowerings/PackedSequence.h"

#include <ts2coreml/LoweringSupport.h>

#include <cstring>
#include <functional>
#include <optional>

namespace ts2coreml::lowering {
namespace {

enum class Kind { Lstm, Gru, RnnTanh, RnnRelu };

int64_t gatesOf(Kind k) { return k == Kind::Lstm ? 4 : k == Kind::Gru ? 3 : 1; }

// ---- constant weights, rearranged at conversion time ---------------------------------------------

/// A constant's values as fp32, row-major.
struct Weight {
    std::vector<int64_t> sizes;
    std::vector<float> values;
    int64_t rows() const { return sizes[0]; }
    int64_t rowSize() const { return sizes.size() > 1 ? sizes[1] : 1; }
};

Weight weightOf(const LoweringContext& ctx, const Arg& a, const std::string& what) {
    const mil::ConstData* data = nullptr;
    if (a.isTensor()) data = a.value() ? a.value()->constant() : a.constData().get();
    if (!data)
        ctx.fail(ctx.opName() + " needs constant weights (the module's parameters); " + what + " is " + a.describe());
    if (!isFloat(data->dtype) || data->sizes.empty() || data->sizes.size() > 2)
        ctx.fail(what + " must be a floating matrix or vector, got " + a.describe());
    Weight w{data->sizes, std::vector<float>(static_cast<size_t>(data->numel()))};
    if (data->dtype == DType::Float32)
        std::memcpy(w.values.data(), data->data, w.values.size() * sizeof(float));
    else
        for (size_t i = 0; i < w.values.size(); ++i) w.values[i] = static_cast<float>(data->asDouble(i));
    return w;
}

/// The `blocks` equal row blocks of w taken in `order` (gates rearranged).
Weight reorder(const Weight& w, int64_t blocks, const std::vector<int64_t>& order) {
    const auto block = static_cast<size_t>(w.rows() / blocks * w.rowSize());
    Weight out{w.sizes, {}};
    for (int64_t b : order)
        out.values.insert(out.values.end(), w.values.begin() + static_cast<long>(b * block),
                          w.values.begin() + static_cast<long>((b + 1) * block));
    return out;
}

Weight sum(const Weight& a, const Weight& b) {
    Weight out = a;
    for (size_t i = 0; i < out.values.size(); ++i) out.values[i] += b.values[i];
    return out;
}

mil::Value* constant(mil::Builder& b, const Weight& w) {
    return b.constant(mil::ConstData::fromFloats(w.values, w.sizes));
}

// torch's LSTM gates i, f, g, o -> MIL's i, f, o, z (z = g).
Weight toMilGates(const Weight& w) { return reorder(w, 4, {0, 1, 3, 2}); }

// ---- one step of a cell, as torch computes it ------------------------------------------------------

/// x @ w^T (+ bias): MIL `linear` when w and bias are constants, else matmul.
mil::Value* project(mil::Builder& b, mil::Value* x, mil::Value* w, mil::Value* bias) {
    const int64_t rank = rankOf(x);
    if (w->constant() && (!bias || bias->constant()) && rank >= 1 && rank <= 3) {
        mil::OperandList in{{"x", x}, {"weight", w}};
        if (bias) in.emplace_back("bias", bias);
        return b.add("linear", in);
    }
    mil::Value* y = b.add("matmul", {{"x", x}, {"y", w}, {"transpose_x", false}, {"transpose_y", true}});
    return bias ? b.add("add", {{"x", y}, {"y", bias}}) : y;
}

/// What a step needs besides its input projection: the recurrent weight and bias (null when the
/// bias is folded into the input projection), and an LSTM's projection weight_hr.
struct StepWeights {
    mil::Value* whh = nullptr;
    mil::Value* bhh = nullptr;
    mil::Value* whr = nullptr;
};

/// The next states from xp = the input projection (with its bias) and the current states.
using Step = std::function<std::vector<mil::Value*>(mil::Builder&, mil::Value* xp, const std::vector<mil::Value*>&)>;

std::vector<mil::Value*> splitLast(mil::Builder& b, mil::Value* x, int64_t n) {
    return b.addOp("split", {{"x", x}, {"num_splits", n}, {"axis", int64_t{-1}}});
}

mil::Value* op2(mil::Builder& b, const char* op, mil::Value* x, mil::Value* y) {
    return b.add(op, {{"x", x}, {"y", y}});
}
mil::Value* op1(mil::Builder& b, const char* op, mil::Value* x) { return b.add(op, {{"x", x}}); }

// gates = xp + h W_hh^T + b_hh = [i, f, g, o]; c' = sigmoid(f) c + sigmoid(i) tanh(g);
// h' = sigmoid(o) tanh(c'), projected by W_hr when the LSTM has proj_size.
Step lstmStep(StepWeights w) {
    return [w](mil::Builder& b, mil::Value* xp, const std::vector<mil::Value*>& s) -> std::vector<mil::Value*> {
        const auto g = splitLast(b, op2(b, "add", xp, project(b, s[0], w.whh, w.bhh)), 4);
        mil::Value* c = op2(b, "add", op2(b, "mul", op1(b, "sigmoid", g[1]), s[1]),
                            op2(b, "mul", op1(b, "sigmoid", g[0]), op1(b, "tanh", g[2])));
        mil::Value* h = op2(b, "mul", op1(b, "sigmoid", g[3]), op1(b, "tanh", c));
        return {w.whr ? project(b, h, w.whr, nullptr) : h, c};
    };
}

// r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z) with [h_r, h_z, h_n] = h W_hh^T + b_hh;
// n = tanh(x_n + r h_n); h' = (1 - z) n + z h = n + z (h - n).
Step gruStep(StepWeights w) {
    return [w](mil::Builder& b, mil::Value* xp, const std::vector<mil::Value*>& s) -> std::vector<mil::Value*> {
        const auto xs = splitLast(b, xp, 3);
        const auto hs = splitLast(b, project(b, s[0], w.whh, w.bhh), 3);
        mil::Value* r = op1(b, "sigmoid", op2(b, "add", xs[0], hs[0]));
        mil::Value* z = op1(b, "sigmoid", op2(b, "add", xs[1], hs[1]));
        mil::Value* n = op1(b, "tanh", op2(b, "add", xs[2], op2(b, "mul", r, hs[2])));
        return {op2(b, "add", n, op2(b, "mul", z, op2(b, "sub", s[0], n)))};
    };
}

// h' = act(xp + h W_hh^T + b_hh)
Step rnnStep(StepWeights w, const char* activation) {
    return [w, activation](mil::Builder& b, mil::Value* xp,
                           const std::vector<mil::Value*>& s) -> std::vector<mil::Value*> {
        return {op1(b, activation, op2(b, "add", xp, project(b, s[0], w.whh, w.bhh)))};
    };
}

// ---- a sequence run as a loop of steps -------------------------------------------------------------

struct Recurrence {
    mil::Value* sequence;  ///< [S, B, H]: the first state after each step
    std::vector<mil::Value*> finals;
};

// A while_loop over the steps of xp [S, B, G]. The sequence of states grows by one row per
// iteration from the initial state (dropped after the loop), so no buffer needs writing in place.
Recurrence recur(mil::Builder& b, mil::Value* xp, const std::vector<mil::Value*>& init, const Step& step) {
    const std::optional<int64_t> staticSteps = staticDim(xp, 0);
    mil::Value* steps =
        staticSteps
            ? b.intScalar(*staticSteps)
            : b.add("gather", {{"x", b.add("shape", {{"x", xp}})}, {"indices", b.intScalar(0)}, {"axis", int64_t{0}}});
    auto row = [&](mil::Value* v) { return b.add("expand_dims", {{"x", v}, {"axes", std::vector<int64_t>{0}}}); };
    std::vector<mil::Value*> vars{b.intScalar(0), row(init[0])};
    vars.insert(vars.end(), init.begin(), init.end());
    const auto outs = b.whileLoop(
        vars,
        [&](const std::vector<mil::Value*>& v) -> std::vector<mil::Value*> { return {op2(b, "less", v[0], steps)}; },
        [&](const std::vector<mil::Value*>& v) {
            mil::Value* xt = b.add("gather", {{"x", xp}, {"indices", v[0]}, {"axis", int64_t{0}}});
            const std::vector<mil::Value*> next = step(b, xt, std::vector<mil::Value*>(v.begin() + 2, v.end()));
            mil::Value* sequence =
                b.add("concat", {{"values", std::vector<mil::Value*>{v[1], row(next[0])}}, {"axis", int64_t{0}}});
            std::vector<mil::Value*> result{op2(b, "add", v[0], b.intScalar(1)), sequence};
            result.insert(result.end(), next.begin(), next.end());
            return result;
        });
    mil::Value* sequence = b.add("slice_by_index", {{"x", outs[1]},
                                                    {"begin", std::vector<int64_t>{1, 0, 0}},
                                                    {"end", std::vector<int64_t>{0, 0, 0}},
                                                    {"begin_mask", boolVector(b, {false, true, true})},
                                                    {"end_mask", boolVector(b, {true, true, true})}});
    // The loop made the length flexible; a static one is known again.
    const std::optional<int64_t> batch = staticDim(init[0], 0), width = staticDim(init[0], 1);
    if (staticSteps && width)
        sequence = b.add("reshape",
                         {{"x", sequence}, {"shape", std::vector<int64_t>{*staticSteps, batch.value_or(-1), *width}}});
    return {sequence, std::vector<mil::Value*>(outs.begin() + 2, outs.end())};
}

mil::Value* reversed(mil::Builder& b, mil::Value* x) {
    return b.add("reverse", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
}

// ---- torch's stacked recurrent networks --------------------------------------------------------------

/// One direction of one layer: torch's weight_ih, weight_hh, bias_ih, bias_hh, weight_hr.
struct Cell {
    Weight wih, whh;
    std::optional<Weight> bih, bhh, whr;
};

/// A network's arguments, with x sequence-first [S, B, I].
struct Network {
    Kind kind = Kind::Lstm;
    int64_t layers = 1, directions = 1;
    std::vector<Cell> cells;                ///< layer by layer, forward then backward
    std::vector<mil::Value*> h0, c0;        ///< per cell: [B, H] (LSTM projections: h0 [B, P])
    bool projected = false;                 ///< an LSTM with proj_size
    const PaddedLayout* lengths = nullptr;  ///< padded sequences of different lengths
};

const char* torchName(Kind k) {
    switch (k) {
        case Kind::Lstm: return "lstm";
        case Kind::Gru: return "gru";
        case Kind::RnnTanh: return "rnn_tanh";
        case Kind::RnnRelu: return "rnn_relu";
    }
    return "";
}

std::vector<Cell> cellsOf(const LoweringContext& ctx, Kind kind, int64_t count, bool hasBiases, bool& projected) {
    const std::vector<Arg> params = listElements(ctx, ctx.arg("params"));
    const size_t plain = hasBiases ? 4 : 2;
    if (count <= 0 || (params.size() != plain * count && !(kind == Kind::Lstm && params.size() == (plain + 1) * count)))
        ctx.fail(std::to_string(params.size()) + " weights in params do not make " + std::to_string(count) +
                 " layer directions with" + (hasBiases ? "" : "out") + " biases");
    projected = params.size() != plain * count;
    const size_t per = params.size() / static_cast<size_t>(count);
    const int64_t gates = gatesOf(kind);
    std::vector<Cell> cells;
    for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
        const std::string which = " of layer direction " + std::to_string(i);
        auto at = [&](size_t k, const char* what) { return weightOf(ctx, params[i * per + k], what + which); };
        Cell c{at(0, "weight_ih"), at(1, "weight_hh"), {}, {}, {}};
        if (hasBiases) {
            c.bih = at(2, "bias_ih");
            c.bhh = at(3, "bias_hh");
        }
        if (projected) c.whr = at(per - 1, "weight_hr");
        if (c.wih.sizes.size() != 2 || c.whh.sizes.size() != 2 || c.wih.rows() % gates != 0 ||
            c.whh.rows() != c.wih.rows())
            ctx.fail("weight_ih and weight_hh" + which + " must be [" + std::to_string(gates) + "*H, I] and [" +
                     std::to_string(gates) + "*H, H]");
        cells.push_back(std::move(c));
    }
    return cells;
}

/// Initial states [L*D, B, H] as one [B, H] per layer direction.
std::vector<mil::Value*> statesOf(LoweringContext& ctx, mil::Value* hx, int64_t count, const char* what) {
    if (rankOf(hx) != 3 || staticDim(hx, 0) != count)
        ctx.fail(std::string(what) + " must be [num_layers * num_directions = " + std::to_string(count) +
                 ", B, H], got " + hx->type().str());
    mil::Builder& b = ctx.builder();
    std::vector<mil::Value*> out;
    for (int64_t i = 0; i < count; ++i)
        out.push_back(b.add("gather", {{"x", toFloat(b, hx)}, {"indices", b.intScalar(i)}, {"axis", int64_t{0}}}));
    return out;
}

mil::Value* concatLast(mil::Builder& b, const std::vector<mil::Value*>& parts) {
    if (parts.size() == 1) return parts[0];
    return b.add("concat", {{"values", parts}, {"axis", int64_t{-1}}});
}

std::vector<mil::Value*> slice(const std::vector<mil::Value*>& v, size_t first, int64_t n) {
    return std::vector<mil::Value*>(v.begin() + static_cast<long>(first), v.begin() + static_cast<long>(first) + n);
}

// One layer, both directions as one MIL lstm (torch's biases summed, gates reordered).
mil::Value* lstmLayer(mil::Builder& b, const Network& n, size_t first, mil::Value* x, std::vector<mil::Value*>& h,
                      std::vector<mil::Value*>& c) {
    const bool both = n.directions == 2;
    mil::OperandList ops{{"x", x},
                         {"initial_h", concatLast(b, slice(n.h0, first, n.directions))},
                         {"initial_c", concatLast(b, slice(n.c0, first, n.directions))}};
    for (int64_t d = 0; d < n.directions; ++d) {
        const Cell& cell = n.cells[first + static_cast<size_t>(d)];
        const std::string suffix = d == 0 ? "" : "_back";
        ops.push_back({"weight_ih" + suffix, constant(b, toMilGates(cell.wih))});
        ops.push_back({"weight_hh" + suffix, constant(b, toMilGates(cell.whh))});
        if (cell.bih) ops.push_back({"bias" + suffix, constant(b, toMilGates(sum(*cell.bih, *cell.bhh)))});
    }
    ops.push_back({"direction", both ? "bidirectional" : "forward"});
    ops.push_back({"output_sequence", true});
    const auto outs = b.addOp("lstm", ops);
    for (auto [state, list] : {std::pair{outs[1], &h}, std::pair{outs[2], &c}}) {
        if (!both) {
            list->push_back(state);
            continue;
        }
        const auto halves = splitLast(b, state, 2);
        list->insert(list->end(), halves.begin(), halves.end());
    }
    return outs[0];
}

// One direction of one layer of an RNN: MIL rnn, its backward states put back in x's order.
Recurrence rnnDirection(mil::Builder& b, const Network& n, const Cell& cell, mil::Value* x, mil::Value* h0,
                        bool backward) {
    mil::OperandList ops{
        {"x", x}, {"initial_h", h0}, {"weight_ih", constant(b, cell.wih)}, {"weight_hh", constant(b, cell.whh)}};
    if (cell.bih) ops.push_back({"bias", constant(b, sum(*cell.bih, *cell.bhh))});
    ops.push_back({"direction", backward ? "reverse" : "forward"});
    ops.push_back({"output_sequence", true});
    ops.push_back({"activation", n.kind == Kind::RnnRelu ? "relu" : "tanh"});
    const auto outs = b.addOp("rnn", ops);
    return {backward ? reversed(b, outs[0]) : outs[0], {outs[1]}};
}

// One direction of one layer as a loop of the cell's steps (GRU, LSTM with projections).
Recurrence loopDirection(mil::Builder& b, const Network& n, const Cell& cell, mil::Value* x,
                         std::vector<mil::Value*> init, bool backward) {
    // The input projection carries the input bias, and for an LSTM the recurrent one too; a GRU's
    // recurrent bias stays inside the reset gate's product.
    std::optional<Weight> inputBias = cell.bih;
    StepWeights w{constant(b, cell.whh)};
    if (cell.bih && n.kind == Kind::Lstm) inputBias = sum(*cell.bih, *cell.bhh);
    if (cell.bhh && n.kind == Kind::Gru) w.bhh = constant(b, *cell.bhh);
    if (cell.whr) w.whr = constant(b, *cell.whr);
    mil::Value* in = backward ? reversed(b, x) : x;
    mil::Value* xp = project(b, in, constant(b, cell.wih), inputBias ? constant(b, *inputBias) : nullptr);
    Recurrence r = recur(b, xp, init, n.kind == Kind::Lstm ? lstmStep(w) : gruStep(w));
    if (backward) r.sequence = reversed(b, r.sequence);
    return r;
}

// One direction of one layer over padded sequences of different lengths: a loop of the cell's steps
// whose states stop changing past each sequence's length, so that the final states are those of its
// last step; the backward direction runs over each sequence reversed within its own length. The
// validity of each step rides along the input projection as one more channel.
Recurrence maskedDirection(LoweringContext& ctx, const Network& n, const Cell& cell, mil::Value* x,
                           std::vector<mil::Value*> init, bool backward) {
    mil::Builder& b = ctx.builder();
    std::optional<Weight> inputBias = cell.bih;
    StepWeights w{constant(b, cell.whh)};
    if (cell.bih && n.kind != Kind::Gru) inputBias = sum(*cell.bih, *cell.bhh);
    if (cell.bhh && n.kind == Kind::Gru) w.bhh = constant(b, *cell.bhh);
    if (cell.whr) w.whr = constant(b, *cell.whr);
    mil::Value* in = backward ? reverseWithinLengths(ctx, x, *n.lengths) : x;
    mil::Value* xp = project(b, in, constant(b, cell.wih), inputBias ? constant(b, *inputBias) : nullptr);
    const int64_t width = staticDim(xp, 2).value_or(0);
    mil::Value* valid =
        b.add("expand_dims", {{"x", castTo(b, n.lengths->mask, typeOf(xp).dtype)}, {"axes", std::vector<int64_t>{-1}}});
    mil::Value* steps = b.add("concat", {{"values", std::vector<mil::Value*>{xp, valid}}, {"axis", int64_t{-1}}});
    const Step inner = n.kind == Kind::Lstm  ? lstmStep(w)
                       : n.kind == Kind::Gru ? gruStep(w)
                                             : rnnStep(w, n.kind == Kind::RnnRelu ? "relu" : "tanh");
    const Step masked = [inner, width](mil::Builder& bb, mil::Value* xt,
                                       const std::vector<mil::Value*>& s) -> std::vector<mil::Value*> {
        const auto parts =
            bb.addOp("split", {{"x", xt}, {"split_sizes", std::vector<int64_t>{width, 1}}, {"axis", int64_t{-1}}});
        std::vector<mil::Value*> next = inner(bb, parts[0], s);
        mil::Value* keep = bb.add("greater", {{"x", parts[1]}, {"y", scalarLike(bb, 0.5, parts[1])}});
        for (size_t i = 0; i < next.size(); ++i)
            next[i] = bb.add("select", {{"cond", keep}, {"a", next[i]}, {"b", s[i]}});
        return next;
    };
    Recurrence r = recur(b, steps, init, masked);
    if (backward) r.sequence = reverseWithinLengths(ctx, r.sequence, *n.lengths);
    return r;
}

/// States of every layer direction, stacked as torch returns them: [L*D, B, H].
mil::Value* stacked(mil::Builder& b, const std::vector<mil::Value*>& states) {
    if (states.size() == 1) return b.add("expand_dims", {{"x", states[0]}, {"axes", std::vector<int64_t>{0}}});
    return b.add("stack", {{"values", states}, {"axis", int64_t{0}}});
}

/// Runs the network over x [S, B, I]; returns the last layer's sequence [S, B, D*H] and binds
/// the final states (outputs 1 and, for an LSTM, 2).
mil::Value* runNetwork(LoweringContext& ctx, const Network& n, mil::Value* x) {
    mil::Builder& b = ctx.builder();
    std::vector<mil::Value*> hFinal, cFinal;
    for (int64_t layer = 0; layer < n.layers; ++layer) {
        const size_t first = static_cast<size_t>(layer * n.directions);
        if (n.kind == Kind::Lstm && !n.projected && !n.lengths) {
            x = lstmLayer(b, n, first, x, hFinal, cFinal);
            continue;
        }
        std::vector<mil::Value*> sequences;
        for (int64_t d = 0; d < n.directions; ++d) {
            const size_t i = first + static_cast<size_t>(d);
            std::vector<mil::Value*> init{n.h0[i]};
            if (n.kind == Kind::Lstm) init.push_back(n.c0[i]);
            const Recurrence r = n.lengths ? maskedDirection(ctx, n, n.cells[i], x, init, d == 1)
                                 : n.kind == Kind::RnnTanh || n.kind == Kind::RnnRelu
                                     ? rnnDirection(b, n, n.cells[i], x, n.h0[i], d == 1)
                                     : loopDirection(b, n, n.cells[i], x, init, d == 1);
            sequences.push_back(r.sequence);
            hFinal.push_back(r.finals[0]);
            if (n.kind == Kind::Lstm) cFinal.push_back(r.finals[1]);
        }
        x = concatLast(b, sequences);
    }
    ctx.bind(1, stacked(b, hFinal));
    if (n.kind == Kind::Lstm) ctx.bind(2, stacked(b, cFinal));
    return x;
}

/// The `.input` overloads (x [S, B, I], or [B, S, I] with batch_first) and the `.data` ones
/// (a packed sequence: data [N, I] with batch_sizes; of equal lengths it is a reshape, else it runs
/// padded, masked by the lengths).
LoweringFn lowerNetwork(Kind kind, bool packed) {
    return [kind, packed](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        const std::string name = torchName(kind);
        if (ctx.getBool("train"))
            ctx.fail(name +
                     " with train=True (training mode, dropout between layers) is not supported; convert the "
                     "model in eval mode (model.eval())");
        Network n;
        n.kind = kind;
        n.layers = ctx.getInt("num_layers");
        n.directions = ctx.getBool("bidirectional") ? 2 : 1;
        const int64_t count = n.layers * n.directions;
        n.cells = cellsOf(ctx, kind, count, ctx.getBool("has_biases"), n.projected);

        mil::Value* x = toFloat(b, ctx.tensor(packed ? "data" : "input"));
        std::optional<PaddedLayout> lengths;
        if (packed) {
            const Arg& sizes = ctx.arg("batch_sizes");
            if (rankOf(x) != 2) ctx.fail("packed data must be [sum(batch_sizes), I], got " + x->type().str());
            const mil::ConstData* bs = constantData(sizes);
            const std::vector<int64_t> batches = bs ? bs->toInts() : std::vector<int64_t>{};
            const bool equal = !batches.empty() &&
                               std::all_of(batches.begin(), batches.end(), [&](int64_t v) { return v == batches[0]; });
            if (equal) {
                const auto steps = static_cast<int64_t>(batches.size());
                x = b.add("reshape", {{"x", x}, {"shape", std::vector<int64_t>{steps, batches[0], -1}}});
            } else {
                // The states give the batch size; batch_sizes the steps of each sequence.
                mil::Value* h = kind == Kind::Lstm ? ctx.tensors("hx").at(0) : ctx.tensor("hx");
                lengths.emplace();
                x = unpackSequence(ctx, x, sizes, staticDim(h, 1), 0.0, nullptr, *lengths);
                n.lengths = &*lengths;
            }
        }
        if (rankOf(x) != 3) ctx.fail(name + " needs a 3-D input [S, B, I], got " + x->type().str());
        const bool batchFirst = !packed && ctx.getBool("batch_first");
        if (batchFirst) x = b.add("transpose", {{"x", x}, {"perm", std::vector<int64_t>{1, 0, 2}}});

        if (kind == Kind::Lstm) {
            const std::vector<mil::Value*> hx = ctx.tensors("hx");
            if (hx.size() != 2) ctx.fail("lstm needs hx = [h0, c0], got " + std::to_string(hx.size()) + " tensors");
            n.h0 = statesOf(ctx, hx[0], count, "h0");
            n.c0 = statesOf(ctx, hx[1], count, "c0");
        } else {
            n.h0 = statesOf(ctx, ctx.tensor("hx"), count, "hx");
        }
        mil::Value* y = runNetwork(ctx, n, x);
        if (batchFirst) y = b.add("transpose", {{"x", y}, {"perm", std::vector<int64_t>{1, 0, 2}}});
        if (packed)
            y = lengths ? packSequence(ctx, y, *lengths)
                        : b.add("reshape", {{"x", y}, {"shape", std::vector<int64_t>{-1, typeOf(y).shape[2].size}}});
        ctx.bind(0, y);
    };
}

// ---- the cells: one step, weights as given ----------------------------------------------------------

mil::Value* optionalTensor(LoweringContext& ctx, const char* name) {
    return ctx.isNone(name) ? nullptr : toFloat(ctx.builder(), ctx.tensor(name));
}

/// Runs `step` once on input @ w_ih^T + b_ih from `states`.
std::vector<mil::Value*> cellStep(LoweringContext& ctx, const std::vector<mil::Value*>& states,
                                  const std::function<Step(StepWeights)>& make) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, ctx.tensor("input"));
    mil::Value* xp = project(b, x, toFloat(b, ctx.tensor("w_ih")), optionalTensor(ctx, "b_ih"));
    StepWeights w{toFloat(b, ctx.tensor("w_hh")), optionalTensor(ctx, "b_hh")};
    std::vector<mil::Value*> floats;
    for (mil::Value* s : states) floats.push_back(toFloat(b, s));
    return make(w)(b, xp, floats);
}

void lowerLstmCell(LoweringContext& ctx) {
    const std::vector<mil::Value*> hx = ctx.tensors("hx");
    if (hx.size() != 2) ctx.fail("lstm_cell needs hx = [h, c], got " + std::to_string(hx.size()) + " tensors");
    const auto out = cellStep(ctx, hx, lstmStep);
    ctx.bind(0, out[0]);
    ctx.bind(1, out[1]);
}

LoweringFn lowerCell(Kind kind) {
    return [kind](LoweringContext& ctx) {
        auto make = [kind](StepWeights w) {
            return kind == Kind::Gru ? gruStep(w) : rnnStep(w, kind == Kind::RnnRelu ? "relu" : "tanh");
        };
        ctx.bind(0, cellStep(ctx, {ctx.tensor("hx")}, make)[0]);
    };
}

}  // namespace

void populateRecurrentLowerings(Registry& r) {
    for (Kind k : {Kind::Lstm, Kind::Gru, Kind::RnnTanh, Kind::RnnRelu}) {
        const std::string op = std::string("aten::") + torchName(k);
        r.add(op + ".input", lowerNetwork(k, false));
        r.add(op + ".data", lowerNetwork(k, true));
    }
    r.add("aten::lstm_cell", lowerLstmCell);
    r.add("aten::gru_cell", lowerCell(Kind::Gru));
    r.add("aten::rnn_tanh_cell", lowerCell(Kind::RnnTanh));
    r.add("aten::rnn_relu_cell", lowerCell(Kind::RnnRelu));
}

TS2COREML_FAMILY(Registry, Recurrent, populateRecurrentLowerings)

}  // namespace ts2coreml::lowering
