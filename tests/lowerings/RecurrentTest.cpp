// Recurrent lowerings (core/lowerings/Recurrent.cpp): torch.lstm, gru, rnn_tanh, rnn_relu and
// their cells, with constant weights made in the scripted source, compared with LibTorch as ML
// Programs (fp32 and fp16) and as NeuralNetwork models.
#include "Converter.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

constexpr int64_t kSteps = 5, kBatch = 2, kInput = 3, kHidden = 4, kProj = 3;

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

/// A constant tensor in TorchScript: deterministic values in [-0.5, 0.5], different per seed.
std::string weight(const std::vector<int64_t>& sizes, int seed) {
    int64_t n = 1;
    std::vector<std::string> dims;
    for (int64_t s : sizes) {
        n *= s;
        dims.push_back(std::to_string(s));
    }
    std::ostringstream s;
    s << "(torch.sin(torch.arange(" << n << ".0) * 0.61 + " << seed << ".0) * 0.5).reshape(" << join(dims) << ")";
    return s.str();
}

struct Net {
    int64_t gates = 4;  ///< 4 LSTM, 3 GRU, 1 RNN
    int64_t layers = 1;
    bool bidirectional = false, biases = true, batchFirst = false;
    int64_t proj = 0;  ///< LSTM proj_size
};

std::string boolText(bool b) { return b ? "True" : "False"; }

/// torch's flat weight list: per layer and direction w_ih, w_hh, (b_ih, b_hh), (w_hr).
std::string params(const Net& n) {
    const int64_t dirs = n.bidirectional ? 2 : 1, out = n.proj ? n.proj : kHidden, g = n.gates * kHidden;
    std::vector<std::string> items;
    int seed = 1;
    for (int64_t l = 0; l < n.layers; ++l) {
        const int64_t in = l == 0 ? kInput : out * dirs;
        for (int64_t d = 0; d < dirs; ++d) {
            items.push_back(weight({g, in}, seed++));
            items.push_back(weight({g, out}, seed++));
            if (n.biases) {
                items.push_back(weight({g}, seed++));
                items.push_back(weight({g}, seed++));
            }
            if (n.proj) items.push_back(weight({n.proj, kHidden}, seed++));
        }
    }
    return "[" + join(items) + "]";
}

/// The trailing arguments: has_biases, num_layers, dropout, train, bidirectional, batch_first.
std::string flags(const Net& n) {
    return boolText(n.biases) + ", " + std::to_string(n.layers) + ", 0.0, False, " + boolText(n.bidirectional) + ", " +
           boolText(n.batchFirst);
}

std::string zeros(const Net& n, int64_t width) {
    return "torch.zeros(" + std::to_string(n.layers * (n.bidirectional ? 2 : 1)) + ", " + std::to_string(kBatch) +
           ", " + std::to_string(width) + ")";
}

/// forward(x) calling torch.lstm with zero initial states.
std::string lstmZero(const Net& n) {
    return "def forward(self, x):\n    return torch.lstm(x, [" + zeros(n, n.proj ? n.proj : kHidden) + ", " +
           zeros(n, kHidden) + "], " + params(n) + ", " + flags(n) + ")";
}

/// forward(x, h0, c0) calling torch.lstm with the given initial states.
std::string lstmGiven(const Net& n) {
    return "def forward(self, x, h0, c0):\n    return torch.lstm(x, [h0, c0], " + params(n) + ", " + flags(n) + ")";
}

/// forward(x[, h0]) calling torch.gru / rnn_tanh / rnn_relu.
std::string single(const std::string& op, const Net& n, bool given) {
    return std::string("def forward(self, x") + (given ? ", h0" : "") + "):\n    return torch." + op + "(x, " +
           (given ? "h0" : zeros(n, kHidden)) + ", " + params(n) + ", " + flags(n) + ")";
}

Net lstm(int64_t layers = 1, bool bidirectional = false) { return Net{4, layers, bidirectional}; }
Net gru(int64_t layers = 1, bool bidirectional = false) { return Net{3, layers, bidirectional}; }
Net rnn(int64_t layers = 1, bool bidirectional = false) { return Net{1, layers, bidirectional}; }

template <typename F>
Net with(Net n, F change) {
    change(n);
    return n;
}

const TestInput kX{kSteps, kBatch, kInput};
const TestInput kXBatchFirst{kBatch, kSteps, kInput};
TestInput state(int64_t count, int64_t width) { return TestInput{count, kBatch, width}; }

const std::vector<LoweringCase> kCases = {
    {"lstm, one layer, zero initial states",
     lstmZero(lstm()),
     {kX},
     {{"lstm", 1}, {"while_loop", 0}},
     {{kSteps, kBatch, kHidden}, {1, kBatch, kHidden}, {1, kBatch, kHidden}}},
    {"lstm, two layers, given initial states",
     lstmGiven(lstm(2)),
     {kX, state(2, kHidden), state(2, kHidden)},
     {{"lstm", 2}},
     {{kSteps, kBatch, kHidden}, {2, kBatch, kHidden}, {2, kBatch, kHidden}}},
    {"lstm, bidirectional, batch_first, given initial states",
     lstmGiven(with(lstm(1, true), [](Net& n) { n.batchFirst = true; })),
     {kXBatchFirst, state(2, kHidden), state(2, kHidden)},
     {{"lstm", 1}, {"transpose", 2}},
     {{kBatch, kSteps, 2 * kHidden}, {2, kBatch, kHidden}, {2, kBatch, kHidden}}},
    {"lstm, two bidirectional layers without biases",
     lstmZero(with(lstm(2, true), [](Net& n) { n.biases = false; })),
     {kX},
     {{"lstm", 2}},
     {{kSteps, kBatch, 2 * kHidden}, {4, kBatch, kHidden}, {4, kBatch, kHidden}}},
    {"lstm with proj_size, given initial states",
     lstmGiven(with(lstm(), [](Net& n) { n.proj = kProj; })),
     {kX, state(1, kProj), state(1, kHidden)},
     {{"lstm", 0}, {"while_loop", 1}},
     {{kSteps, kBatch, kProj}, {1, kBatch, kProj}, {1, kBatch, kHidden}}},
    {"lstm with proj_size, two bidirectional layers, batch_first",
     lstmZero(with(lstm(2, true),
                   [](Net& n) {
                       n.proj = kProj;
                       n.batchFirst = true;
                   })),
     {kXBatchFirst},
     {{"while_loop", 4}, {"reverse", 4}},
     {{kBatch, kSteps, 2 * kProj}, {4, kBatch, kProj}, {4, kBatch, kHidden}}},
    {"gru, one layer, zero initial state",
     single("gru", gru(), false),
     {kX},
     {{"gru", 0}, {"while_loop", 1}},
     {{kSteps, kBatch, kHidden}, {1, kBatch, kHidden}}},
    {"gru, two bidirectional layers, batch_first, given initial state",
     single("gru", with(gru(2, true), [](Net& n) { n.batchFirst = true; }), true),
     {kXBatchFirst, state(4, kHidden)},
     {{"while_loop", 4}},
     {{kBatch, kSteps, 2 * kHidden}, {4, kBatch, kHidden}}},
    {"gru without biases",
     single("gru", with(gru(), [](Net& n) { n.biases = false; }), true),
     {kX, state(1, kHidden)},
     {{"while_loop", 1}},
     {{kSteps, kBatch, kHidden}, {1, kBatch, kHidden}}},
    {"gru over a flexible sequence length",
     single("gru", gru(), true),
     {dynamicInput({kSteps, kBatch, kInput}, {0}), state(1, kHidden)},
     {{"while_loop", 1}},
     {{kSymbolic, kBatch, kHidden}, {1, kBatch, kHidden}}},
    {"rnn_tanh, one layer, given initial state",
     single("rnn_tanh", rnn(), true),
     {kX, state(1, kHidden)},
     {{"rnn", 1}},
     {{kSteps, kBatch, kHidden}, {1, kBatch, kHidden}}},
    {"rnn_relu, two bidirectional layers, batch_first",
     single("rnn_relu", with(rnn(2, true), [](Net& n) { n.batchFirst = true; }), false),
     {kXBatchFirst},
     {{"rnn", 4}, {"reverse", 2}},
     {{kBatch, kSteps, 2 * kHidden}, {4, kBatch, kHidden}}},
    {"rnn_tanh without biases, two layers",
     single("rnn_tanh", with(rnn(2), [](Net& n) { n.biases = false; }), false),
     {kX},
     {{"rnn", 2}},
     {{kSteps, kBatch, kHidden}, {2, kBatch, kHidden}}},
    {"lstm of a packed sequence of equal lengths",
     "def forward(self, x):\n    return torch.lstm(x, torch.tensor([2, 2, 2]), [" + zeros(lstm(), kHidden) + ", " +
         zeros(lstm(), kHidden) + "], " + params(lstm()) + ", True, 1, 0.0, False, False)",
     {TestInput{6, kInput}},
     {{"lstm", 1}},
     {{6, kHidden}, {1, kBatch, kHidden}, {1, kBatch, kHidden}}},
    {"lstm_cell",
     "def forward(self, x, h, c):\n    return torch.lstm_cell(x, [h, c], " + weight({16, kInput}, 1) + ", " +
         weight({16, kHidden}, 2) + ", " + weight({16}, 3) + ", " + weight({16}, 4) + ")",
     {TestInput{kBatch, kInput}, TestInput{kBatch, kHidden}, TestInput{kBatch, kHidden}},
     {{"linear", 2}, {"split", 1}},
     {{kBatch, kHidden}, {kBatch, kHidden}}},
    {"gru_cell",
     "def forward(self, x, h):\n    return torch.gru_cell(x, h, " + weight({12, kInput}, 1) + ", " +
         weight({12, kHidden}, 2) + ", " + weight({12}, 3) + ", " + weight({12}, 4) + ")",
     {TestInput{kBatch, kInput}, TestInput{kBatch, kHidden}},
     {{"linear", 2}, {"split", 2}},
     {{kBatch, kHidden}}},
    {"rnn_tanh_cell without biases",
     "def forward(self, x, h):\n    return torch.rnn_tanh_cell(x, h, " + weight({kHidden, kInput}, 1) + ", " +
         weight({kHidden, kHidden}, 2) + ")",
     {TestInput{kBatch, kInput}, TestInput{kBatch, kHidden}},
     {{"linear", 2}, {"tanh", 1}},
     {{kBatch, kHidden}}},
    {"rnn_relu_cell with weights given at run time",
     "def forward(self, x, h, w_ih, w_hh):\n    return torch.rnn_relu_cell(x, h, w_ih, w_hh, " + weight({kHidden}, 3) +
         ", " + weight({kHidden}, 4) + ")",
     {TestInput{kBatch, kInput}, TestInput{kBatch, kHidden}, TestInput{kHidden, kInput}, TestInput{kHidden, kHidden}},
     {{"matmul", 2}, {"relu", 1}},
     {{kBatch, kHidden}}},
};

const std::vector<RefusedCase> kRefused = {
    {"lstm in training mode",
     "def forward(self, x):\n    return torch.lstm(x, [" + zeros(lstm(), kHidden) + ", " + zeros(lstm(), kHidden) +
         "], " + params(lstm()) + ", True, 1, 0.0, True, False, False)",
     {kX},
     {"lstm", "train=True", "eval"}},
    {"gru with weights computed at run time",
     "def forward(self, x, w):\n    return torch.gru(x, torch.zeros(1, 2, 4), [w, " + weight({12, kHidden}, 2) +
         "], False, 1, 0.0, False, False, False)",
     {kX, TestInput{12, kInput}},
     {"gru", "constant weights", "weight_ih"}},
};

}  // namespace

TEST_CASE("Recurrent lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Recurrent lowerings refuse what they cannot convert, naming it") { checkAll(kRefused); }

TEST_CASE("Recurrent lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Recurrent lowering cases match LibTorch numerically in fp16 programs") {
    // lstm, gru and rnn take fp32 only: an fp16 program computes them between casts.
    NumericalOptions fp16;
    fp16.precision = Precision::Float16;
    checkAllNumerics(numericCases(kCases), fp16);
}

TEST_CASE("Recurrent layers of a NeuralNetwork model match LibTorch numerically") {
    NumericalOptions nn;
    nn.format = ModelFormat::NeuralNetwork;
    checkAllNumerics(numericCases(kCases), nn);
}

TEST_CASE("in an fp16 program lstm, gru and rnn compute in fp32 between casts, their outputs keeping their names") {
    // Apple's iOS15 recurrent ops take fp32 only.
    for (const char* name : {"lstm, one layer, zero initial states", "rnn_tanh, one layer, given initial state"}) {
        const auto it =
            std::find_if(kCases.begin(), kCases.end(), [&](const LoweringCase& c) { return c.name == name; });
        REQUIRE(it != kCases.end());
        const LoweringCase& c = *it;
        CAPTURE(c.name);
        LoweredModel lowered = lower(scriptModule(c.source + "\n"), modelInputs(c.inputs));
        std::vector<std::string> names;
        for (const mil::Value* out : lowered.program->main().body.outputs()) names.push_back(out->name());
        optimize(*lowered.program, Precision::Float16);
        int recurrent = 0, recurrentOutputs = 0, backToFp16 = 0;
        mil::walk(lowered.program->main().body, [&](const mil::Operation& op) {
            if (op.type() == "lstm" || op.type() == "rnn") {
                ++recurrent;
                recurrentOutputs += static_cast<int>(op.outputs().size());
                for (const auto& [input, values] : op.inputs())
                    for (const mil::Value* v : values)
                        if (isFloat(v->type().dtype)) CHECK_MESSAGE(v->type().dtype == DType::Float32, input);
                for (const auto& out : op.outputs()) CHECK(out->type().dtype == DType::Float32);
            }
            const mil::Value* x = op.input("x");
            if (op.type() == "cast" && x && x->producer() &&
                (x->producer()->type() == "lstm" || x->producer()->type() == "rnn"))
                ++backToFp16;
        });
        CHECK(recurrent == 1);
        CHECK(backToFp16 == recurrentOutputs);
        const auto& outputs = lowered.program->main().body.outputs();
        REQUIRE(outputs.size() == names.size());
        for (size_t i = 0; i < outputs.size(); ++i) {
            CHECK(outputs[i]->type().dtype == DType::Float32);  // the program's outputs are fp32 again
            CHECK(outputs[i]->name() == names[i]);
        }
    }
}
