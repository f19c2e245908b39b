// Composite files through the command line, as a user adds an op: --ops FILE on convert and ops,
// override: true against the built-ins, and a custom torch op mapped to a custom layer.
#include "plugin/PluginTestSupport.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

using namespace ts2coreml::test;

namespace {

std::string writeFile(const ScratchDir& dir, const std::string& name, const std::string& text) {
    const std::string path = dir / name;
    std::ofstream(path) << text;
    return path;
}

const char* kNdtr = R"(version: 1
composites:
  - op: aten::special_ndtr
    doc: the standard normal CDF, (1 + erf(x / sqrt(2))) / 2
    steps:
      - {mil: mul, x: $self, y: 0.7071067811865476, out: scaled}
      - {mil: erf, x: $scaled, out: e}
      - {mil: add, x: $e, y: 1.0, out: shifted}
      - {mil: mul, x: $shifted, y: 0.5}
)";

const char* kReluOverride = R"(version: 1
composites:
  - op: aten::relu
    override: true
    steps:
      - {mil: maximum, x: $self, y: 0.0}
)";

const char* kScaledTanhLayer = R"(version: 1
composites:
  - op: mylib::scaled_tanh
    schema: "mylib::scaled_tanh(Tensor x, float alpha=1.) -> Tensor"
    custom_layer:
      class: ScaledTanh
      description: alpha * tanh(x), computed by the app
      parameters: {alpha: $alpha}
      inputs: [$x]
      outputs: [{like: $x}]
)";

std::string readText(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The line of `ops` output listing `key`, or empty.
std::string opsLine(const std::string& out, const std::string& key) {
    size_t at = out.find(key + " ");
    if (at == std::string::npos) return {};
    return out.substr(at, out.find('\n', at) - at);
}

}  // namespace

TEST_CASE("an op no built-in lowers converts and verifies with --ops, and without it is listed with its line") {
    ScratchDir dir("composite_ndtr");
    const std::string yaml = writeFile(dir, "ndtr.yaml", kNdtr);
    const std::string out = dir / "ndtr.mlpackage";
    const std::string args = "convert " + pluginModel("ndtr") + " -o " + out + " " + pluginModelInputs("ndtr");

    CommandRun without = ts2coremlRun(dir, args);
    CHECK(without.exitCode == 2);
    CHECK(without.err.find("no lowering for 'aten::special_ndtr'") != std::string::npos);
    CHECK(without.err.find("make_plugin_models.py:") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out));

    CommandRun with = ts2coremlRun(dir, args + " --ops " + yaml);
    REQUIRE_MESSAGE(with.exitCode == 0, with.err);
    CommandRun verify = ts2coremlRun(dir, "verify " + pluginModel("ndtr") + " " + out);
    CHECK_MESSAGE(verify.exitCode == 0, (verify.out + verify.err));
    CHECK(verify.out.find("PASS") != std::string::npos);

    CommandRun ops = ts2coremlRun(dir, "ops --ops " + yaml);
    REQUIRE(ops.exitCode == 0);
    CHECK(opsLine(ops.out, "aten::special_ndtr").find(yaml + ":3") != std::string::npos);
    // The shipped composites are listed with their ops.yaml line.
    CHECK(opsLine(ops.out, "aten::hardshrink").find("ops.yaml:") != std::string::npos);
}

TEST_CASE("override: true replaces a built-in lowering; without it the duplicate is an error at its line") {
    ScratchDir dir("composite_override");
    const std::string model = dir / "relu.pt";
    scriptModule("def forward(self, x):\n    return torch.relu(x - 0.25) * 2.0").save(model);
    const std::string yaml = writeFile(dir, "relu.yaml", kReluOverride);

    CommandRun ops = ts2coremlRun(dir, "ops --ops " + yaml);
    REQUIRE(ops.exitCode == 0);
    const std::string line = opsLine(ops.out, "aten::relu");
    CHECK(line.find(yaml + ":3") != std::string::npos);
    CHECK(line.find("(overrides built-in)") != std::string::npos);

    const std::string out = dir / "relu.mlpackage";
    CommandRun convert = ts2coremlRun(dir, "convert " + model + " -o " + out + " --input x:2,8 --ops " + yaml);
    REQUIRE_MESSAGE(convert.exitCode == 0, convert.err);
    CommandRun inspect = ts2coremlRun(dir, "inspect " + out);
    REQUIRE(inspect.exitCode == 0);
    CHECK(inspect.out.find("\n  maximum 1\n") != std::string::npos);  // the op histogram
    CHECK(inspect.out.find("\n  relu ") == std::string::npos);
    CommandRun verify = ts2coremlRun(dir, "verify " + model + " " + out);
    CHECK_MESSAGE(verify.exitCode == 0, (verify.out + verify.err));

    std::string noOverride = kReluOverride;
    noOverride.erase(noOverride.find("    override: true\n"), std::string("    override: true\n").size());
    const std::string dup = writeFile(dir, "relu_dup.yaml", noOverride);
    const std::string out2 = dir / "relu2.mlpackage";
    CommandRun refused = ts2coremlRun(dir, "convert " + model + " -o " + out2 + " --input x:2,8 --ops " + dup);
    CHECK(refused.exitCode == 2);
    CHECK(refused.err.find(dup + ":3:5: error: 'aten::relu' is already lowered by built-in; add 'override: true'") !=
          std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out2));
}

TEST_CASE("every problem of the command line and of the composite files is reported in one run") {
    ScratchDir dir("composite_errors");
    const std::string bad =
        writeFile(dir, "bad.yaml",
                  "version: 1\ncomposites:\n  - op: aten::special_ndtr\n    steps:\n      - {mil: elux, x: $self}\n");
    CommandRun r = ts2coremlRun(dir, "convert " + pluginModel("ndtr") + " -o " + (dir / "x.mlpackage") +
                                         " --precision fp8 --ops " + bad + " --ops " + (dir / "missing.yaml"));
    CHECK(r.exitCode == 2);
    CHECK(r.err.find(bad + ":5:15: error: unknown MIL op 'elux'") != std::string::npos);
    CHECK(r.err.find("--precision 'fp8'") != std::string::npos);
    CHECK(r.err.find("--ops '" + (dir / "missing.yaml") + "': no such file") != std::string::npos);
}

TEST_CASE("a custom torch op mapped to a custom layer in YAML converts to .mlmodel, is inspected and stubbed") {
    ScratchDir dir("composite_custom_layer");
    const std::string yaml = writeFile(dir, "mylib.yaml", kScaledTanhLayer);
    const std::string model = pluginModel("mylib_scaled_tanh"), inputs = pluginModelInputs("mylib_scaled_tanh");

    const std::string mlmodel = dir / "scaled_tanh.mlmodel";
    CommandRun convert = ts2coremlRun(dir, "convert " + model + " -o " + mlmodel + " " + inputs + " --ops " + yaml);
    REQUIRE_MESSAGE(convert.exitCode == 0, convert.err);

    CommandRun inspect = ts2coremlRun(dir, "inspect " + mlmodel);
    REQUIRE_MESSAGE(inspect.exitCode == 0, inspect.err);
    CHECK(inspect.out.find("ScaledTanh") != std::string::npos);
    CHECK(inspect.out.find("alpha") != std::string::npos);

    const std::string stubs = dir / "stubs";
    CommandRun stub = ts2coremlRun(dir, "stubs " + mlmodel + " -o " + stubs);
    REQUIRE_MESSAGE(stub.exitCode == 0, stub.err);
    const std::string swift = readText(stubs + "/ScaledTanh.swift");
    CHECK(swift.find("class ScaledTanh") != std::string::npos);
    CHECK(swift.find("MLCustomLayer") != std::string::npos);
    CHECK(swift.find("\"alpha\"") != std::string::npos);

    const std::string package = dir / "scaled_tanh.mlpackage";
    CommandRun refused = ts2coremlRun(dir, "convert " + model + " -o " + package + " " + inputs + " --ops " + yaml);
    CHECK(refused.exitCode != 0);
    CHECK(refused.err.find("ScaledTanh") != std::string::npos);
    CHECK(refused.err.find(".mlmodel") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(package));
}

TEST_CASE("a composite declares a custom torch op's schema, so a model calling it loads and converts") {
    ScratchDir dir("composite_schema");
    const std::string yaml = writeFile(dir, "mylib.yaml", R"(version: 1
composites:
  - op: mylib::scaled_tanh
    schema: "mylib::scaled_tanh(Tensor x, float alpha=1.) -> Tensor"
    steps:
      - {mil: tanh, x: $x, out: t}
      - {mil: mul, x: $t, y: $alpha}
)");
    const std::string model = pluginModel("mylib_scaled_tanh"), inputs = pluginModelInputs("mylib_scaled_tanh");
    const std::string out = dir / "m.mlpackage";
    CommandRun without = ts2coremlRun(dir, "convert " + model + " -o " + out + " " + inputs);
    CHECK(without.exitCode == 2);
    CHECK(without.err.find("'mylib::scaled_tanh'") != std::string::npos);
    CommandRun with = ts2coremlRun(dir, "convert " + model + " -o " + out + " " + inputs + " --ops " + yaml);
    REQUIRE_MESSAGE(with.exitCode == 0, with.err);
    CommandRun inspect = ts2coremlRun(dir, "inspect " + out);
    CHECK(inspect.out.find("\n  tanh 1\n") != std::string::npos);
    CommandRun ops = ts2coremlRun(dir, "ops --ops " + yaml);
    CHECK(ops.out.find("torch op mylib::scaled_tanh(Tensor x, float alpha=1.) -> Tensor  " + yaml + ":3") !=
          std::string::npos);
}

TEST_CASE("min_target: a composite serves only the deployment targets it names") {
    ScratchDir dir("composite_min_target");
    std::string text = kNdtr;
    text.insert(text.find("    doc:"), "    min_target: iOS17\n");
    const std::string yaml = writeFile(dir, "ndtr17.yaml", text);
    const std::string base = "convert " + pluginModel("ndtr") + " " + pluginModelInputs("ndtr") + " --ops " + yaml;
    CommandRun old = ts2coremlRun(dir, base + " -o " + (dir / "a.mlpackage") + " --target iOS16");
    CHECK(old.exitCode == 2);
    CHECK(old.err.find("registered only for a later deployment target than iOS16") != std::string::npos);
    CommandRun fresh = ts2coremlRun(dir, base + " -o " + (dir / "b.mlpackage") + " --target iOS17");
    CHECK_MESSAGE(fresh.exitCode == 0, fresh.err);
}
