#include "verify/CustomLayerCheck.h"

#include "passes/Passes.h"

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <set>

namespace ts2coreml::verify {

std::vector<TorchCustomLayerInputs> torchCustomLayerInputs(const std::string& modelPath, const FrontendOptions& options,
                                                           const LoweringRegistry& registry,
                                                           const std::vector<at::Tensor>& inputs) {
    torch::jit::Module module = loadModule(modelPath);
    LoweredModel lowered = lowerModule(module, options, registry);
    // The conversion dropped the layers nothing uses: the file holds the survivors, in order.
    passes::eliminateDeadCode(*lowered.program);
    const std::vector<const mil::Operation*> surviving = customLayerOps(*lowered.program);
    const std::set<const mil::Operation*> alive(surviving.begin(), surviving.end());

    std::vector<TorchCustomLayerInputs> result;
    std::vector<std::pair<size_t, size_t>> slots;  // (layer, input) of each extra graph output
    std::shared_ptr<torch::jit::Graph> graph = lowered.graph;
    // The graph now returns exactly the values feeding the custom layers.
    while (!graph->outputs().empty()) graph->eraseOutput(graph->outputs().size() - 1);
    for (const CustomLayerOrigin& origin : lowered.customLayers) {
        if (!alive.count(origin.op)) continue;
        TorchCustomLayerInputs layer;
        layer.className = origin.op->customLayer()->className;
        layer.torchOp = origin.node->kind().toQualString();
        layer.location = origin.location;
        layer.inputs.resize(origin.inputs.size());
        for (size_t i = 0; i < origin.inputs.size(); ++i) {
            torch::jit::Value* v = origin.inputs[i];
            if (!v || !v->type()->cast<c10::TensorType>()) continue;
            graph->registerOutput(v);
            slots.emplace_back(result.size(), i);
        }
        result.push_back(std::move(layer));
    }
    if (slots.empty()) return result;

    torch::jit::Stack stack;
    if (!graph->inputs().empty() && graph->inputs()[0]->type()->cast<c10::ClassType>())
        stack.emplace_back(module._ivalue());
    for (const at::Tensor& t : inputs) {
        // As runReference: integer inputs are int64 in torch.
        const bool integer = !t.is_floating_point() && t.scalar_type() != at::kBool;
        stack.emplace_back(integer ? t.to(at::kLong) : t);
    }
    try {
        c10::InferenceMode guard;
        torch::jit::GraphExecutor executor(graph, "ts2coreml_custom_layer_inputs");
        executor.run(stack);
    } catch (const c10::Error& e) {
        throw std::runtime_error(modelPath +
                                 ": computing the inputs of its custom layers failed: " + e.what_without_backtrace());
    }
    if (stack.size() != slots.size())
        throw std::runtime_error(modelPath + ": the graph computing custom layers' inputs returned " +
                                 std::to_string(stack.size()) + " values, expected " + std::to_string(slots.size()));
    for (size_t k = 0; k < slots.size(); ++k)
        if (stack[k].isTensor()) result[slots[k].first].inputs[slots[k].second] = stack[k].toTensor();
    return result;
}

std::vector<const mil::Operation*> customLayerOps(const mil::Program& program) {
    std::vector<const mil::Operation*> ops;
    mil::walk(program.main().body, [&](const mil::Operation& op) {
        if (op.type() == mil::kCustomLayerOp) ops.push_back(&op);
    });
    return ops;
}

std::vector<const mil::Operation*> customLayersBehind(const mil::Value& value,
                                                      const std::vector<const mil::Operation*>& skipped) {
    const std::set<const mil::Operation*> wanted(skipped.begin(), skipped.end());
    std::set<const mil::Operation*> seen, found;
    std::vector<const mil::Operation*> stack;
    if (value.producer()) stack.push_back(value.producer());
    while (!stack.empty()) {
        const mil::Operation* op = stack.back();
        stack.pop_back();
        if (!seen.insert(op).second) continue;
        if (wanted.count(op)) found.insert(op);
        for (const auto& [name, values] : op->inputs())
            for (const mil::Value* v : values)
                if (v->producer()) stack.push_back(v->producer());
    }
    std::vector<const mil::Operation*> ordered;
    for (const mil::Operation* op : skipped)
        if (found.count(op)) ordered.push_back(op);
    return ordered;
}

}  // namespace ts2coreml::verify
