// prim::ConstantChunk, the chunk torch's fusion passes write (chunks and dim as node attributes,
// one output per chunk): a scripted module's aten::chunk + prim::ListUnpack is rewritten into it,
// as the fuser does, and the lowered program must give LibTorch's results for the rewritten graph.
#include "TestSupport.h"

#include "runtime/Executor.h"

#include <doctest/doctest.h>

#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

using namespace ts2coreml;

namespace {

/// `forward` of `source` with its one aten::chunk (constant chunks and dim) and the ListUnpack of
/// its result replaced by a prim::ConstantChunk node.
torch::jit::Module withConstantChunk(const std::string& source) {
    torch::jit::Module m = test::scriptModule(source);
    auto graph = m.get_method("forward").graph();
    torch::jit::Node* chunk = nullptr;
    for (torch::jit::Node* n : graph->nodes())
        if (n->kind() == c10::aten::chunk) chunk = n;
    REQUIRE(chunk);
    torch::jit::Node* unpack = chunk->output()->uses().at(0).user;
    REQUIRE(unpack->kind() == c10::prim::ListUnpack);
    torch::jit::Node* constantChunk =
        graph->create(c10::prim::ConstantChunk, {chunk->input(0)}, unpack->outputs().size());
    constantChunk->i_(c10::Symbol::attr("chunks"), torch::jit::toIValue(chunk->input(1))->toInt());
    constantChunk->i_(c10::Symbol::attr("dim"), torch::jit::toIValue(chunk->input(2))->toInt());
    constantChunk->insertBefore(chunk);
    for (size_t i = 0; i < unpack->outputs().size(); ++i)
        unpack->output(i)->replaceAllUsesWith(constantChunk->output(i));
    unpack->destroy();
    chunk->destroy();
    return m;
}

void checkConstantChunk(const std::string& source, const std::vector<int64_t>& sizes) {
    INFO(source);
    const at::Tensor x = at::randn(sizes);
    torch::jit::Module m = withConstantChunk(source);
    bool rewritten = false;
    for (torch::jit::Node* n : m.get_method("forward").graph()->nodes())
        rewritten = rewritten || n->kind() == c10::prim::ConstantChunk;
    REQUIRE(rewritten);
    std::vector<at::Tensor> expected;
    const c10::IValue out = m.forward({x});
    for (const auto& e : out.toTupleRef().elements()) expected.push_back(e.toTensor());

    LoweredModel lowered = test::lower(withConstantChunk(source), {sizes});
    CHECK(test::opHistogram(*lowered.program)["split"] + test::opHistogram(*lowered.program)["slice_by_index"] > 0);
    const std::vector<at::Tensor> actual =
        runtime::execute(*lowered.program, {{lowered.program->main().body.inputs()[0]->name(), x}});
    REQUIRE(actual.size() == expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
        CAPTURE(i);
        REQUIRE(actual[i].sizes() == expected[i].sizes());
        CHECK(at::allclose(actual[i], expected[i], 1e-6, 1e-6));
    }
}

}  // namespace

TEST_CASE("prim::ConstantChunk is lowered as aten::chunk of its attributes") {
    checkConstantChunk(R"(
def forward(self, x):
    a, b, c = torch.chunk(x, 3, 1)
    return a * 2.0 + c, b
)",
                       {2, 6, 4});
    // Uneven chunks along a negative dim: 7 in pieces of 3, 3, 1.
    checkConstantChunk(R"(
def forward(self, x):
    a, b, c = torch.chunk(x, 3, -1)
    return c, a - b
)",
                       {3, 7});
}
