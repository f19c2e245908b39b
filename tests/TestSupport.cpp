#include "TestSupport.h"

#include <ts2coreml/Mil.h>

#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace ts2coreml::test {

namespace {

/// `ops.NS.OP(...)` calls an op outside aten (`ops.quantized.add`), as serialized TorchScript does.
struct OpNamespaces : torch::jit::SugaredValue {
    std::string kind() const override { return "ops"; }
    std::shared_ptr<torch::jit::SugaredValue> attr(const torch::jit::SourceRange&, torch::jit::GraphFunction&,
                                                   const std::string& ns) override {
        return std::make_shared<torch::jit::BuiltinModule>(ns);
    }
};

/// torch's native resolver (which knows only `torch`), and `ops`.
struct TestResolver : torch::jit::Resolver {
    std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction& m,
                                                           const torch::jit::SourceRange& loc) override {
        if (name == "ops") return std::make_shared<OpNamespaces>();
        return torch::jit::nativeResolver()->resolveValue(name, m, loc);
    }
};

}  // namespace

torch::jit::Module scriptModule(const std::string& source) {
    torch::jit::Module m("TestModule");
    m.define(source + "\n", std::make_shared<TestResolver>());
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

void keepWrittenModels(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    const char* keep = std::getenv("TS2COREML_KEEP_MODELS");
    if (!keep || !*keep) return;
    static std::atomic<int> count{0};
    std::error_code ec;
    fs::create_directories(keep, ec);
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const fs::path& p = it->path();
        const bool package = p.extension() == ".mlpackage" && fs::is_regular_file(p / "Manifest.json", ec);
        if (!package && !(p.extension() == ".mlmodel" && it->is_regular_file(ec))) continue;
        const fs::path copy =
            fs::path(keep) / (std::to_string(::getpid()) + "_" + std::to_string(count++) + "_" + p.filename().string());
        std::error_code ignored;
        fs::copy(p, copy, fs::copy_options::recursive, ignored);
        if (package) it.disable_recursion_pending();
    }
}

}  // namespace ts2coreml::test
