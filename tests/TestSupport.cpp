#include "TestSupport.h"

#include <ts2coreml/Mil.h>

namespace ts2coreml::test {

torch::jit::Module scriptModule(const std::string& source) {
    torch::jit::Module m("TestModule");
    m.define(source + "\n");
    m.eval();
    return m;
}

LoweredModel lower(torch::jit::Module module, const std::vector<ModelInput>& inputs, Target target) {
    static const LoweringRegistry registry = LoweringRegistry::withBuiltins();
    FrontendOptions options;
    options.inputs = inputs;
    options.target = target;
    options.modelPath = "test.pt";
    return lowerModule(std::move(module), options, registry);
}

LoweredModel lower(torch::jit::Module module, const std::vector<std::vector<int64_t>>& inputSizes, Target target) {
    std::vector<ModelInput> inputs;
    for (size_t i = 0; i < inputSizes.size(); ++i)
        inputs.push_back({"x" + std::to_string(i), TensorType::of(DType::Float32, inputSizes[i])});
    return lower(std::move(module), inputs, target);
}

std::map<std::string, int> opHistogram(const mil::Program& program) {
    std::map<std::string, int> h;
    mil::walk(program.main().body, [&](const mil::Operation& op) { ++h[op.type()]; });
    return h;
}

std::vector<TensorType> outputTypes(const mil::Program& program) {
    std::vector<TensorType> out;
    for (const mil::Value* v : program.main().body.outputs()) out.push_back(v->type());
    return out;
}

}  // namespace ts2coreml::test
