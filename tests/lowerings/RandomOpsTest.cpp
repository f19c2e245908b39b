// Random lowerings (core/lowerings/RandomOps.cpp). A converted model draws its own values, so the
// checks are the ops, shapes and dtypes of the draws, and statistics of large draws (means,
// spreads, ranges, frequencies), computed in the model and compared with the same statistics of
// LibTorch's draws within a tolerance far above their sampling noise (20000 draws: standard errors
// below 0.01) and far below what a wrong distribution would give.
#include "backend/neuralnetwork/NeuralNetworkWriter.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"rand of constant sizes",
     R"(def forward(self, x):
    return torch.rand(3, 4))",
     {{1}},
     {{"random_uniform", 1}},
     {{3, 4}}},
    {"rand of a size read from the input",
     R"(def forward(self, x):
    return torch.rand(x.size(0), 4))",
     {dynamicInput({3, 2}, {0})},
     {{"random_uniform", 1}},
     {{kAnyDim, kAnyDim}}},
    {"rand as fp16",
     R"(def forward(self, x):
    return torch.rand([3, 4], dtype=5))",
     {{1}},
     {{"random_uniform", 1}, {"cast", 1}},
     {TestOutput({3, 4}, DType::Float16)}},
    {"rand_like",
     R"(def forward(self, x):
    return torch.rand_like(x))",
     {{2, 3, 5}},
     {{"random_uniform", 1}},
     {{2, 3, 5}}},
    {"randn",
     R"(def forward(self, x):
    return torch.randn(2, 7))",
     {{1}},
     {{"random_normal", 1}},
     {{2, 7}}},
    {"randn_like of a dynamic input",
     R"(def forward(self, x):
    return torch.randn_like(x))",
     {dynamicInput({3, 2}, {0, 1})},
     {{"random_normal", 1}, {"shape", 1}},
     {{kSymbolic, kSymbolic}}},
    {"randint is int",
     R"(def forward(self, x):
    return torch.randint(10, (3, 4)))",
     {{1}},
     {{"random_uniform", 1}, {"floor", 1}},
     {TestOutput({3, 4}, DType::Int32)}},
    {"randint between low and high",
     R"(def forward(self, x):
    return torch.randint(-3, 4, [5]))",
     {{1}},
     {{"random_uniform", 1}},
     {TestOutput({5}, DType::Int32)}},
    {"randint_like keeps a float dtype",
     R"(def forward(self, x):
    return torch.randint_like(x, 2, 6))",
     {{2, 3}},
     {{"random_uniform", 1}},
     {{2, 3}}},
    {"bernoulli of probabilities",
     R"(def forward(self, x):
    return torch.bernoulli(torch.sigmoid(x)))",
     {{2, 3}},
     {{"random_uniform", 1}, {"less", 1}},
     {{2, 3}}},
    {"bernoulli with a constant p",
     R"(def forward(self, x):
    return torch.bernoulli(x, 0.25))",
     {{2, 3}},
     {{"random_bernoulli", 1}},
     {{2, 3}}},
    {"bernoulli with a tensor p",
     R"(def forward(self, x, p):
    return torch.bernoulli(x, torch.sigmoid(p)))",
     {{2, 3}, {3}},
     {{"random_uniform", 1}, {"less", 1}},
     {{2, 3}}},
    {"bernoulli_ in place",
     R"(def forward(self, x):
    y = torch.zeros(2, 3)
    y.bernoulli_(0.5)
    return y)",
     {{1}},
     {{"random_bernoulli", 1}},
     {{2, 3}}},
    {"multinomial with replacement",
     R"(def forward(self, x):
    return torch.multinomial(torch.softmax(x, -1), 6, True))",
     {{2, 4}},
     {{"random_categorical", 1}},
     {TestOutput({2, 6}, DType::Int32)}},
    {"multinomial of one sample from a vector",
     R"(def forward(self, x):
    return torch.multinomial(torch.softmax(x, -1), 1))",
     {{4}},
     {{"random_categorical", 1}, {"topk", 0}},
     {TestOutput({1}, DType::Int32)}},
    {"multinomial without replacement",
     R"(def forward(self, x):
    return torch.multinomial(torch.softmax(x, -1), 3))",
     {{2, 4}},
     {{"random_uniform", 1}, {"topk", 1}},
     {TestOutput({2, 3}, DType::Int32)}},
};

const std::vector<RefusedCase> kRefused = {
    {"more samples than classes without replacement",
     R"(def forward(self, x):
    return torch.multinomial(torch.softmax(x, -1), 5))",
     {{2, 4}},
     {"multinomial", "5 samples without replacement"}},
    {"rand of an integer dtype",
     R"(def forward(self, x):
    return torch.rand([3], dtype=3))",
     {{1}},
     {"rand", "floating"}},
    {"bernoulli with p above 1",
     R"(def forward(self, x):
    return torch.bernoulli(x, 1.5))",
     {{3}},
     {"bernoulli", "p must be in [0, 1]"}},
};

// Statistics of a draw r of reals in [0, 1): mean, spread, the share below 0.25, and whether all
// lie in [0, 1).
const std::string kUniformStats = R"(
    return torch.stack([r.mean(), r.std(), (r < 0.25).float().mean(), (r >= 0).float().min(),
                        (r < 1).float().min()]))";

const std::vector<LoweringCase> kStatistics = {
    {"rand", "def forward(self, x):\n    r = torch.rand(200, 100)" + kUniformStats, {{1}}, {}, {{5}}},
    {"rand of sizes read from the input",
     "def forward(self, x):\n    r = torch.rand(x.size(0), 100)" + kUniformStats,
     {dynamicInput({200, 1}, {0})},
     {},
     {{5}}},
    {"rand_like", "def forward(self, x):\n    r = torch.rand_like(x)" + kUniformStats, {{200, 100}}, {}, {{5}}},
    {"randn",
     R"(def forward(self, x):
    r = torch.randn(200, 100)
    return torch.stack([r.mean(), r.std(), (r.abs() < 1).float().mean(), (r < -1).float().mean()]))",
     {{1}},
     {},
     {{4}}},
    {"randn_like",
     R"(def forward(self, x):
    r = torch.randn_like(x)
    return torch.stack([r.mean(), r.std(), (r.abs() < 1).float().mean()]))",
     {{200, 100}},
     {},
     {{3}}},
    // Every integer of [3, 10) is drawn (the chance that one is missing is (6/7)^20000).
    {"randint between low and high",
     R"(def forward(self, x):
    r = torch.randint(3, 10, (200, 100)).float()
    return torch.stack([r.min(), r.max(), r.mean() / 10, (r == 3).float().mean(), (r == 9).float().mean()]))",
     {{1}},
     {},
     {{5}}},
    {"randint below high",
     R"(def forward(self, x):
    r = torch.randint(4, (20000,)).float()
    return torch.stack([r.min(), r.max(), r.mean() / 4, (r == r.floor()).float().min()]))",
     {{1}},
     {},
     {{4}}},
    {"randint between bounds read from the input",
     R"(def forward(self, x):
    r = torch.randint(x.size(1) - 3, x.size(1), (200, 100)).float()
    return torch.stack([r.min(), r.max(), r.mean() / 10]))",
     {dynamicInput({1, 8}, {1})},
     {},
     {{3}}},
    {"randint_like",
     R"(def forward(self, x):
    r = torch.randint_like(x, -2, 3)
    return torch.stack([r.min(), r.max(), r.mean(), (r == r.floor()).float().min(), (r == 0).float().mean()]))",
     {{200, 100}},
     {},
     {{5}}},
    // p alternates 0.1 and 0.9: the draws must follow each element's own probability.
    {"bernoulli of per-element probabilities",
     R"(def forward(self, x):
    p = (torch.arange(20000) % 2).float() * 0.8 + 0.1
    r = torch.bernoulli(p)
    return torch.stack([r[0::2].mean(), r[1::2].mean(), ((r == 0) | (r == 1)).float().min()]))",
     {{1}},
     {},
     {{3}}},
    {"bernoulli with a constant p",
     R"(def forward(self, x):
    r = torch.bernoulli(x, 0.3)
    return torch.stack([r.mean(), ((r == 0) | (r == 1)).float().min()]))",
     {{200, 100}},
     {},
     {{2}}},
    {"bernoulli with a tensor p broadcast",
     R"(def forward(self, x):
    r = torch.bernoulli(x, torch.tensor([0.2, 0.7]))
    return torch.stack([r[:, 0].mean(), r[:, 1].mean()]))",
     {{10000, 2}},
     {},
     {{2}}},
    {"bernoulli_ in place",
     R"(def forward(self, x):
    r = torch.zeros(200, 100)
    r.bernoulli_(0.6)
    return torch.stack([r.mean(), ((r == 0) | (r == 1)).float().min()]))",
     {{1}},
     {},
     {{2}}},
    // Class frequencies of p = (0.1, 0.2, 0.3, 0.4), unnormalized (weights 1 : 2 : 3 : 4).
    {"multinomial with replacement",
     R"(def forward(self, x):
    w = torch.arange(1.0, 5.0).repeat(50, 1)
    r = torch.multinomial(w, 400, True)
    return torch.stack([(r == 0).float().mean(), (r == 1).float().mean(), (r == 2).float().mean(),
                        (r == 3).float().mean()]))",
     {{1}},
     {},
     {{4}}},
    {"multinomial of one sample per row",
     R"(def forward(self, x):
    w = torch.arange(1.0, 5.0).repeat(20000, 1)
    r = torch.multinomial(w, 1)
    return torch.stack([(r == 0).float().mean(), (r == 3).float().mean()]))",
     {{1}},
     {},
     {{2}}},
    // Without replacement: no class twice in a row, a zero-weight class never, and the second draw
    // distributed as torch's.
    {"multinomial without replacement",
     R"(def forward(self, x):
    w = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]).repeat(10000, 1)
    r = torch.multinomial(w, 3)
    return torch.stack([(r[:, 0] != r[:, 1]).float().min(), (r[:, 1] != r[:, 2]).float().min(),
                        (r[:, 0] != r[:, 2]).float().min(), (r == 0).float().max(), (r[:, 0] == 4).float().mean(),
                        (r[:, 1] == 4).float().mean(), (r[:, 2] == 1).float().mean()]))",
     {{1}},
     {},
     {{7}}},
};

NumericalOptions statisticsOptions(ModelFormat format) {
    NumericalOptions o;
    o.format = format;
    o.tolerance = verify::Tolerance{0.03, 0};
    return o;
}

}  // namespace

TEST_CASE("RandomOps lowerings emit the expected MIL ops, shapes and dtypes") { checkAll(kCases); }

TEST_CASE("RandomOps lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("RandomOps draws have LibTorch's statistics") {
    checkAllNumerics(kStatistics, statisticsOptions(ModelFormat::MLProgram));
}

TEST_CASE("RandomOps draws have LibTorch's statistics as NeuralNetwork layers") {
    for (const LoweringCase& c : kStatistics) {
        if (c.name != "multinomial without replacement") {
            checkNumerics(c, statisticsOptions(ModelFormat::NeuralNetwork));
            continue;
        }
        // Drawing without replacement takes the top k, which no NeuralNetwork layer computes.
        CHECK_THROWS_WITH_AS(
            convertAndCompare(c.name, c.source, c.inputs, statisticsOptions(ModelFormat::NeuralNetwork)),
            doctest::Contains("op 'topk'"), NeuralNetworkError);
    }
}

TEST_CASE("random_categorical draws indices of each distribution's classes, repeatably with a seed") {
    // Row 0 as logits favours class 2; row 1 puts everything on class 1.
    const at::Tensor logits = at::tensor({0.0f, 0.0f, 3.0f, -50.0f, 0.0f, -50.0f}).reshape({2, 3});
    auto draw = [&](const std::string& mode, const at::Tensor& x, int64_t seed) {
        return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.add("random_categorical", {{"x", in[0]}, {"mode", mode}, {"size", int64_t{5000}}, {"seed", seed}});
        });
    };
    const at::Tensor a = draw("logits", logits, 4);
    CHECK(a.sizes().vec() == std::vector<int64_t>{2, 5000});
    CHECK(a[1].eq(1).all().item<bool>());
    const double share = a[0].eq(2).to(at::kFloat).mean().item<double>();  // e^3 / (2 + e^3) = 0.909
    CHECK(std::abs(share - 0.909) < 0.02);
    CHECK(at::equal(a, draw("logits", logits, 4)));
    CHECK_FALSE(at::equal(a, draw("logits", logits, 5)));
    // Probabilities need not be normalized: weights 1 : 3.
    const at::Tensor b = draw("probs", at::tensor({1.0f, 3.0f}), 2);
    CHECK(b.sizes().vec() == std::vector<int64_t>{5000});
    CHECK(std::abs(b.mean().item<double>() - 0.75) < 0.02);
    CHECK_THROWS_WITH_AS(draw("probs", at::tensor({-1.0f, 3.0f}), 2), doctest::Contains("non-negative"),
                         std::exception);
}
