// lstm, gru and rnn (coremltools ops/defs/iOS15/recurrent.py) step by step over x [S, B, I]. The
// input projections of all steps are one matmul; each step adds the recurrent one. A "reverse"
// direction runs over x from its end and lists its states in that order; the backward half of a
// bidirectional lstm is listed in x's order (each state beside the forward state of that step).
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <algorithm>
#include <optional>

namespace ts2coreml::runtime {

namespace {

// The activations recurrent ops name, with the parameters Core ML's recurrent layers use:
// hard_sigmoid = clip(0.2 x + 0.5, 0, 1); scaled_tanh with its default alpha = beta = 1 is tanh.
at::Tensor activate(const KernelContext& k, const std::string& name, const at::Tensor& x) {
    if (name == "tanh" || name == "scaled_tanh") return at::tanh(x);
    if (name == "sigmoid") return at::sigmoid(x);
    if (name == "hard_sigmoid") return at::clamp(x * 0.2 + 0.5, 0.0, 1.0);
    if (name == "relu") return at::relu(x);
    if (name == "linear") return x;
    k.fail("unknown activation '" + name + "'");
}

// x @ w^T (+ bias) for every step at once: [S, B, I] -> [S, B, G].
at::Tensor project(const at::Tensor& x, const at::Tensor& w, const std::optional<at::Tensor>& bias) {
    at::Tensor y = at::matmul(x, w.t());
    return bias ? y + *bias : y;
}

// The states of one run: every step's h in processing order, the last h (and c).
struct Run {
    std::vector<at::Tensor> steps;
    at::Tensor h, c;
};

// Runs `step(xw_t, run)` (which updates run.h and run.c) over the steps of xw, from the end when
// `reverse`.
template <typename Step>
Run recur(const at::Tensor& xw, at::Tensor h, at::Tensor c, bool reverse, Step step) {
    Run run{{}, std::move(h), std::move(c)};
    const int64_t n = xw.size(0);
    for (int64_t i = 0; i < n; ++i) {
        step(xw[reverse ? n - 1 - i : i], run);
        run.steps.push_back(run.h);
    }
    return run;
}

// The first output: every step's state [S, B, H], or the last one [1, B, H].
at::Tensor sequenceOutput(const KernelContext& k, const Run& run) {
    if (k.getBool("output_sequence"))
        return run.steps.empty() ? at::empty({0, run.h.size(0), run.h.size(1)}, run.h.options()) : at::stack(run.steps);
    return run.h.unsqueeze(0);
}

struct LstmWeights {
    at::Tensor wih, whh;
    std::optional<at::Tensor> bias, peephole;
};

// One direction of lstm; gates in MIL's order i, f, o, z.
Run lstmRun(const KernelContext& k, const at::Tensor& x, const LstmWeights& w, at::Tensor h, at::Tensor c,
            bool reverse) {
    const std::string ra = k.getString("recurrent_activation"), ca = k.getString("cell_activation"),
                      act = k.getString("activation");
    const bool clipped = k.has("clip");
    const double clip = clipped ? k.getDouble("clip") : 0.0;
    std::vector<at::Tensor> p;
    if (w.peephole) p = w.peephole->chunk(3);
    return recur(project(x, w.wih, w.bias), std::move(h), std::move(c), reverse, [&](const at::Tensor& xt, Run& r) {
        const std::vector<at::Tensor> g = (xt + at::matmul(r.h, w.whh.t())).chunk(4, 1);
        const at::Tensor i = activate(k, ra, p.empty() ? g[0] : g[0] + p[0] * r.c);
        const at::Tensor f = activate(k, ra, p.empty() ? g[1] : g[1] + p[1] * r.c);
        r.c = f * r.c + i * activate(k, ca, g[3]);
        if (clipped) r.c = at::clamp(r.c, -clip, clip);
        const at::Tensor o = activate(k, ra, p.empty() ? g[2] : g[2] + p[2] * r.c);
        r.h = o * activate(k, act, r.c);
    });
}

LstmWeights lstmWeights(const KernelContext& k, const std::string& suffix) {
    return {k.input("weight_ih" + suffix), k.input("weight_hh" + suffix), k.optionalInput("bias" + suffix),
            k.optionalInput("peephole" + suffix)};
}

std::vector<at::Tensor> lstm(const KernelContext& k) {
    const at::Tensor x = k.input("x"), h0 = k.input("initial_h"), c0 = k.input("initial_c");
    const std::string direction = k.getString("direction");
    if (direction != "bidirectional") {
        const Run r = lstmRun(k, x, lstmWeights(k, ""), h0, c0, direction == "reverse");
        return {sequenceOutput(k, r), r.h, r.c};
    }
    const int64_t hidden = h0.size(1) / 2;
    const Run f = lstmRun(k, x, lstmWeights(k, ""), h0.narrow(1, 0, hidden), c0.narrow(1, 0, hidden), false);
    Run b = lstmRun(k, x, lstmWeights(k, "_back"), h0.narrow(1, hidden, hidden), c0.narrow(1, hidden, hidden), true);
    std::reverse(b.steps.begin(), b.steps.end());
    // Without output_sequence: each direction's last state, [h_forward(S-1), h_backward(0)].
    return {at::cat({sequenceOutput(k, f), sequenceOutput(k, b)}, 2), at::cat({f.h, b.h}, 1), at::cat({f.c, b.c}, 1)};
}

// gru, gates r, o, z: the reset gate scales the state before its matrix.
std::vector<at::Tensor> gru(const KernelContext& k) {
    const std::string ra = k.getString("recurrent_activation"), act = k.getString("activation");
    const std::vector<at::Tensor> rh = k.input("weight_hh").chunk(3);
    const Run run = recur(project(k.input("x"), k.input("weight_ih"), k.optionalInput("bias")), k.input("initial_h"),
                          at::Tensor(), k.getString("direction") == "reverse", [&](const at::Tensor& xt, Run& r) {
                              const std::vector<at::Tensor> g = xt.chunk(3, 1);
                              const at::Tensor reset = activate(k, ra, g[0] + at::matmul(r.h, rh[0].t()));
                              const at::Tensor update = activate(k, ra, g[2] + at::matmul(r.h, rh[2].t()));
                              const at::Tensor o = activate(k, act, g[1] + at::matmul(reset * r.h, rh[1].t()));
                              r.h = (1 - update) * o + update * r.h;
                          });
    return {sequenceOutput(k, run), run.h};
}

std::vector<at::Tensor> rnn(const KernelContext& k) {
    const std::string act = k.getString("activation");
    const at::Tensor whh = k.input("weight_hh");
    const Run run = recur(project(k.input("x"), k.input("weight_ih"), k.optionalInput("bias")), k.input("initial_h"),
                          at::Tensor(), k.getString("direction") == "reverse",
                          [&](const at::Tensor& xt, Run& r) { r.h = activate(k, act, xt + at::matmul(r.h, whh.t())); });
    return {sequenceOutput(k, run), run.h};
}

}  // namespace

void populateRecurrentKernels(KernelTable& t) {
    t.addMulti("lstm", lstm);
    t.addMulti("gru", gru);
    t.addMulti("rnn", rnn);
}

TS2COREML_FAMILY(KernelTable, Recurrent, populateRecurrentKernels)

}  // namespace ts2coreml::runtime
