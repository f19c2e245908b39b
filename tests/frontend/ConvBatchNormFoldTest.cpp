// conv + batch_norm folding without a second copy of the weights: the conv's own weight tensor is
// rescaled in place when the graph alone holds it, and a weight two convs share is left alone (to
// torch's folding, which copies or keeps the batch_norm), so neither conv sees the other's
// normalization.
#include "TestSupport.h"

#include "runtime/Executor.h"

#include <doctest/doctest.h>

#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

using namespace ts2coreml;

namespace {

struct Norm {
    at::Tensor gamma = at::rand({4}) + 0.5, beta = at::randn({4}), mean = at::randn({4}), var = at::rand({4}) + 0.2;
};

/// conv2d with `weight` then batch_norm; with `shared`, a second conv of the same weight with
/// another normalization, added to the first.
torch::jit::Module convBn(const at::Tensor& weight, const Norm& a, const Norm& b, bool shared) {
    torch::jit::Module m("ConvBn");
    m.register_parameter("w", weight, false);
    int i = 0;
    for (const Norm* n : {&a, &b}) {
        const std::string k = std::to_string(i++);
        m.register_buffer("g" + k, n->gamma);
        m.register_buffer("b" + k, n->beta);
        m.register_buffer("m" + k, n->mean);
        m.register_buffer("v" + k, n->var);
    }
    m.define(std::string(R"(
def forward(self, x):
    y = torch.batch_norm(torch.conv2d(x, self.w), self.g0, self.b0, self.m0, self.v0, False, 0.1, 1e-5, False)
)") +
             (shared ? "    y = y + torch.batch_norm(torch.conv2d(x, self.w), self.g1, self.b1, self.m1, self.v1, "
                       "False, 0.1, 1e-5, False)\n"
                     : "") +
             "    return y\n");
    m.eval();
    return m;
}

const torch::jit::Node* convNode(const torch::jit::Graph& g) {
    for (const torch::jit::Node* n : g.nodes())
        if (n->kind() == c10::aten::conv2d) return n;
    return nullptr;
}

int count(const torch::jit::Graph& g, c10::Symbol kind) {
    int n = 0;
    for (const torch::jit::Node* node : g.nodes()) n += node->kind() == kind;
    return n;
}

/// Lowers a module holding `weight`, runs the program, and compares with LibTorch's forward of a
/// copy of the module (its own weight tensor) on the same input.
void checkAgainstTorch(const at::Tensor& weight, const Norm& a, const Norm& b, bool shared, LoweredModel& lowered) {
    const at::Tensor x = at::randn({1, 3, 8, 8});
    torch::jit::Module reference = convBn(weight.clone(), a, b, shared);
    const at::Tensor expected = reference.forward({x}).toTensor();
    lowered = test::lower(convBn(weight, a, b, shared), {{1, 3, 8, 8}});
    const at::Tensor actual =
        runtime::execute(*lowered.program, {{lowered.program->main().body.inputs()[0]->name(), x}}).at(0);
    CHECK(at::allclose(actual, expected, 1e-4, 1e-4));
}

}  // namespace

TEST_CASE("conv + batch_norm folds into the conv's own weight tensor, rescaled in place") {
    at::manual_seed(3);
    const at::Tensor weight = at::randn({4, 3, 3, 3});
    const at::Tensor original = weight.clone();
    LoweredModel lowered;
    checkAgainstTorch(weight, Norm{}, Norm{}, false, lowered);
    REQUIRE(lowered.graph);
    CHECK(count(*lowered.graph, c10::aten::batch_norm) == 0);
    const torch::jit::Node* conv = convNode(*lowered.graph);
    REQUIRE(conv);
    const at::Tensor folded = torch::jit::toIValue(conv->input(1))->toTensor();
    CHECK(folded.data_ptr() == weight.data_ptr());  // no second copy
    CHECK_FALSE(at::equal(weight, original));
}

TEST_CASE("a weight two convs share is not rescaled in place: each conv gets its own normalization") {
    at::manual_seed(4);
    const at::Tensor weight = at::randn({4, 3, 3, 3});
    const at::Tensor original = weight.clone();
    LoweredModel lowered;
    checkAgainstTorch(weight, Norm{}, Norm{}, true, lowered);
    CHECK(at::equal(weight, original));
}
