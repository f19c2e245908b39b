// The lstm, gru and rnn kernels against LibTorch's own recurrent networks (lstm and rnn, whose
// weights only change gate order) and against GRU as Core ML defines it (the reset gate applied
// before the recurrent matrix), in each direction and with and without output_sequence.
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using mil::Builder;
using mil::Value;

namespace {

constexpr int64_t kS = 4, kB = 3, kI = 5, kH = 2;

at::Tensor randn(std::vector<int64_t> sizes, uint64_t seed) {
    at::Generator gen = at::detail::createCPUGenerator(seed);
    return at::randn(sizes, gen, at::kFloat) * 0.5;
}

// torch's LSTM gates i, f, g, o -> MIL's i, f, o, z.
at::Tensor milGates(const at::Tensor& w) {
    const auto g = w.chunk(4);
    return at::cat({g[0], g[1], g[3], g[2]});
}

struct TorchLstm {
    std::vector<at::Tensor> params;  // per direction: w_ih, w_hh, b_ih, b_hh

    mil::OperandList weights(Builder& b, size_t direction, const std::string& suffix) const {
        const at::Tensor* p = &params[4 * direction];
        return {{"weight_ih" + suffix, test::constantOf(b, milGates(p[0]))},
                {"weight_hh" + suffix, test::constantOf(b, milGates(p[1]))},
                {"bias" + suffix, test::constantOf(b, milGates(p[2] + p[3]))}};
    }
};

TorchLstm torchLstm(size_t directions) {
    TorchLstm t;
    for (size_t d = 0; d < directions; ++d)
        for (const std::vector<int64_t>& sizes :
             std::initializer_list<std::vector<int64_t>>{{4 * kH, kI}, {4 * kH, kH}, {4 * kH}, {4 * kH}})
            t.params.push_back(randn(sizes, 10 + t.params.size()));
    return t;
}

std::vector<at::Tensor> runLstm(const TorchLstm& t, const std::vector<at::Tensor>& feed, mil::OperandList extra) {
    return test::runProgram(feed, [&](Builder& b, const std::vector<Value*>& in) {
        mil::OperandList ops{{"x", in[0]}, {"initial_h", in[1]}, {"initial_c", in[2]}};
        for (auto& o : t.weights(b, 0, "")) ops.push_back(o);
        if (t.params.size() == 8)
            for (auto& o : t.weights(b, 1, "_back")) ops.push_back(o);
        for (auto& o : extra) ops.push_back(o);
        return b.addOp("lstm", ops);
    });
}

void checkClose(const at::Tensor& got, const at::Tensor& want, const char* what) {
    CHECK_MESSAGE(test::close(got, want, 1e-5, 1e-5), what, ": got ", test::text(got), ", expected ", test::text(want));
}

}  // namespace

TEST_CASE("lstm forward and reverse: torch's LSTM over x and over x reversed") {
    const TorchLstm t = torchLstm(1);
    const at::Tensor x = randn({kS, kB, kI}, 1), h0 = randn({1, kB, kH}, 2), c0 = randn({1, kB, kH}, 3);
    const auto feed = std::vector<at::Tensor>{x, h0[0], c0[0]};
    for (bool reverse : {false, true}) {
        CAPTURE(reverse);
        const auto [y, h, c] = at::lstm(reverse ? x.flip(0) : x, {h0, c0}, t.params, true, 1, 0.0, false, false, false);
        for (bool sequence : {true, false}) {
            CAPTURE(sequence);
            const auto out =
                runLstm(t, feed, {{"direction", reverse ? "reverse" : "forward"}, {"output_sequence", sequence}});
            REQUIRE(out.size() == 3);
            // A reverse lstm lists its states in processing order, from x's last step.
            checkClose(out[0], sequence ? y : y.narrow(0, kS - 1, 1), "sequence");
            checkClose(out[1], h[0], "final h");
            checkClose(out[2], c[0], "final c");
        }
    }
}

TEST_CASE("bidirectional lstm: torch's bidirectional LSTM, states as [forward, backward] halves") {
    const TorchLstm t = torchLstm(2);
    const at::Tensor x = randn({kS, kB, kI}, 1), h0 = randn({2, kB, kH}, 2), c0 = randn({2, kB, kH}, 3);
    const auto [y, h, c] = at::lstm(x, {h0, c0}, t.params, true, 1, 0.0, false, true, false);
    const auto feed = std::vector<at::Tensor>{x, at::cat({h0[0], h0[1]}, 1), at::cat({c0[0], c0[1]}, 1)};
    auto out = runLstm(t, feed, {{"direction", "bidirectional"}, {"output_sequence", true}});
    checkClose(out[0], y, "sequence");
    checkClose(out[1], at::cat({h[0], h[1]}, 1), "final h");
    checkClose(out[2], at::cat({c[0], c[1]}, 1), "final c");
    // Without output_sequence: each direction's last state.
    out = runLstm(t, feed, {{"direction", "bidirectional"}});
    checkClose(out[0], at::cat({y[kS - 1].narrow(1, 0, kH), y[0].narrow(1, kH, kH)}, 1).unsqueeze(0), "last states");
}

TEST_CASE("lstm clips its cell state at clip, and adds peepholes") {
    const TorchLstm t = torchLstm(1);
    const at::Tensor x = randn({kS, kB, kI}, 1) * 8, zero = at::zeros({kB, kH});
    const auto out = runLstm(t, {x, zero, zero}, {{"clip", 0.05}, {"output_sequence", true}});
    CHECK(out[2].abs().max().item<float>() <= 0.05f + 1e-6f);
    CHECK(out[2].abs().max().item<float>() >= 0.04f);
    const auto plain = runLstm(t, {x, zero, zero}, {});
    const auto peep = test::runProgram({x, zero, zero}, [&](Builder& b, const std::vector<Value*>& in) {
        mil::OperandList ops{{"x", in[0]}, {"initial_h", in[1]}, {"initial_c", in[2]}};
        for (auto& o : t.weights(b, 0, "")) ops.push_back(o);
        ops.push_back({"peephole", test::constantOf(b, randn({3 * kH}, 4))});
        return b.addOp("lstm", ops);
    });
    CHECK_FALSE(test::close(peep[1], plain[1], 1e-3, 1e-3));
}

TEST_CASE("rnn: torch's RNN with the two biases summed") {
    const at::Tensor x = randn({kS, kB, kI}, 1), h0 = randn({1, kB, kH}, 2);
    const std::vector<at::Tensor> p{randn({kH, kI}, 3), randn({kH, kH}, 4), randn({kH}, 5), randn({kH}, 6)};
    for (const char* act : {"tanh", "relu"}) {
        CAPTURE(act);
        const bool relu = std::string(act) == "relu";
        const auto [y, h] = relu ? at::rnn_relu(x, h0, p, true, 1, 0.0, false, false, false)
                                 : at::rnn_tanh(x, h0, p, true, 1, 0.0, false, false, false);
        const auto out = test::runProgram({x, h0[0]}, [&](Builder& b, const std::vector<Value*>& in) {
            return b.addOp("rnn", {{"x", in[0]},
                                   {"initial_h", in[1]},
                                   {"weight_ih", test::constantOf(b, p[0])},
                                   {"weight_hh", test::constantOf(b, p[1])},
                                   {"bias", test::constantOf(b, p[2] + p[3])},
                                   {"output_sequence", true},
                                   {"activation", act}});
        });
        checkClose(out[0], y, "sequence");
        checkClose(out[1], h[0], "final h");
    }
}

TEST_CASE("gru: the reset gate scales the state before the recurrent matrix; gates r, o, z") {
    const at::Tensor x = randn({kS, kB, kI}, 1), h0 = randn({kB, kH}, 2);
    const at::Tensor wi = randn({3 * kH, kI}, 3), wh = randn({3 * kH, kH}, 4), bias = randn({3 * kH}, 5);
    for (bool reverse : {false, true}) {
        CAPTURE(reverse);
        // Core ML's GRU: r, z = sigmoid(W x + R h + b); o = tanh(W_o x + R_o (r h) + b_o); h = (1 - z) o + z h.
        const auto w = wi.chunk(3), r = wh.chunk(3), b3 = bias.chunk(3);
        at::Tensor h = h0;
        std::vector<at::Tensor> steps;
        for (int64_t i = 0; i < kS; ++i) {
            const at::Tensor xt = x[reverse ? kS - 1 - i : i];
            const at::Tensor reset = at::sigmoid(at::matmul(xt, w[0].t()) + at::matmul(h, r[0].t()) + b3[0]);
            const at::Tensor update = at::sigmoid(at::matmul(xt, w[2].t()) + at::matmul(h, r[2].t()) + b3[2]);
            const at::Tensor o = at::tanh(at::matmul(xt, w[1].t()) + at::matmul(reset * h, r[1].t()) + b3[1]);
            h = (1 - update) * o + update * h;
            steps.push_back(h);
        }
        const auto out = test::runProgram({x, h0}, [&](Builder& b, const std::vector<Value*>& in) {
            return b.addOp("gru", {{"x", in[0]},
                                   {"initial_h", in[1]},
                                   {"weight_ih", test::constantOf(b, wi)},
                                   {"weight_hh", test::constantOf(b, wh)},
                                   {"bias", test::constantOf(b, bias)},
                                   {"direction", reverse ? "reverse" : "forward"},
                                   {"output_sequence", true}});
        });
        checkClose(out[0], at::stack(steps), "sequence");
        checkClose(out[1], h, "final h");
    }
}

TEST_CASE("recurrent ops check their weights and states") {
    const at::Tensor x = randn({kS, kB, kI}, 1), h0 = randn({kB, kH}, 2);
    auto build = [&](at::Tensor wi, at::Tensor h, const char* direction) {
        return test::runProgram({x, h}, [&](Builder& b, const std::vector<Value*>& in) {
            return b.addOp("rnn", {{"x", in[0]},
                                   {"initial_h", in[1]},
                                   {"weight_ih", test::constantOf(b, wi)},
                                   {"weight_hh", test::constantOf(b, randn({kH, kH}, 4))},
                                   {"direction", direction}});
        });
    };
    CHECK_NOTHROW(build(randn({kH, kI}, 3), h0, "forward"));
    CHECK_THROWS_WITH_AS(build(randn({kH, kI + 1}, 3), h0, "forward"), doctest::Contains("weight_ih"), std::exception);
    CHECK_THROWS_WITH_AS(build(randn({kH, kI}, 3), randn({kB, kH + 1}, 2), "forward"), doctest::Contains("initial_h"),
                         std::exception);
    CHECK_THROWS_WITH_AS(build(randn({kH, kI}, 3), h0, "bidirectional"), doctest::Contains("direction"),
                         std::exception);
}
