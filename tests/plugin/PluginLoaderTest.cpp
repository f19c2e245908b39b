// core/plugin discovery and registration, in process, against the fixture plugins of
// tests/plugin/fixtures: each rejection is one line naming the file, nothing of a rejected plugin
// stays registered, and the host keeps working.
#include "Converter.h"
#include "plugin/PluginLoader.h"
#include "plugin/PluginTestSupport.h"
#include "registry/TorchOps.h"

#include <doctest/doctest.h>

#include <torch/csrc/jit/runtime/operator.h>

#include <filesystem>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

size_t entryCount(const LoweringRegistry& r) { return r.entries().size(); }

std::string rejectionOf(const std::string& file, LoweringRegistry& registry) {
    try {
        loadPlugin(file, registry);
    } catch (const PluginRejected& e) {
        return e.what();
    }
    return "(loaded)";
}

}  // namespace

TEST_CASE("Each rejected fixture plugin gives its one-line reason and registers nothing") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"wrong_version", "wrong API version: built with plugin API version " +
                              std::to_string(TS2COREML_PLUGIN_API_VERSION + 41) + ", this ts2coreml supports " +
                              std::to_string(TS2COREML_PLUGIN_API_VERSION)},
        {"wrong_abi", "wrong ABI tag: built as 'msvc19-fixture'"},
        {"no_entry", "no entry point: the library does not export 'ts2coreml_plugin_entry'"},
        {"missing_symbol", "undefined symbol: ts2coreml_fixture_undefined_function"},
        {"not_a_library", "not a shared library"},
        {"throwing_register", "register function threw: fixture register failure"},
        {"duplicate_key", "duplicate key: 'aten::relu' (iOS13) is already registered by built-in"},
        {"bad_schema", "torch op schema 'fixture::broken(Tensor x -> Tensor' does not parse"},
    };
    for (const auto& [kind, expected] : cases) {
        CAPTURE(kind);
        LoweringRegistry registry = LoweringRegistry::withBuiltins();
        const size_t before = entryCount(registry);
        const std::string reason = rejectionOf(fixturePlugin(kind), registry);
        CHECK_MESSAGE(reason.find(expected) != std::string::npos, reason);
        CHECK(reason.find('\n') == std::string::npos);
        CHECK(entryCount(registry) == before);
        CHECK(registry.find("aten::hardshrink", "", Target::iOS18) == nullptr);
        CHECK(registry.find("aten::relu", "", Target::iOS15)->provider == "built-in");
        // The host keeps working: a good plugin still loads into the same registry.
        CHECK(loadPlugin(fixturePlugin("good"), registry).name == "good");
        CHECK(registry.find("fixture::good", "", Target::iOS15) != nullptr);
    }
}

TEST_CASE("A plugin directory loads in file-name order and a rejection does not stop the others") {
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    const PluginLoadReport report = loadPlugins({TS2COREML_FIXTURE_DIR}, registry);
    std::vector<std::string> loaded, rejected;
    for (const auto& p : report.loaded) loaded.push_back(p.name);
    for (const auto& r : report.rejected) rejected.push_back(std::filesystem::path(r.file).filename().string());
    CHECK(loaded == std::vector<std::string>{"good", "override", "throwing_lowering"});
    CHECK(rejected == std::vector<std::string>{"libfixture_bad_schema.so", "libfixture_duplicate_key.so",
                                               "libfixture_missing_symbol.so", "libfixture_no_entry.so",
                                               "libfixture_not_a_library.so", "libfixture_throwing_register.so",
                                               "libfixture_wrong_abi.so", "libfixture_wrong_version.so"});
    for (const auto& r : report.rejected) {
        CHECK(r.str().find('\n') == std::string::npos);
        CHECK(r.str().rfind(r.file + ": warning: plugin not loaded: ", 0) == 0);
    }
    CHECK(registry.find("aten::hardshrink", "", Target::iOS15)->plugin == "throwing_lowering");
}

TEST_CASE("An entry point that throws anything is refused with its path, and the others still load") {
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    const size_t before = entryCount(registry);
    CHECK(rejectionOf(throwingEntryPlugin("throwing_entry"), registry) ==
          "the entry point threw a non-standard exception");
    CHECK(rejectionOf(throwingEntryPlugin("throwing_entry_std"), registry) ==
          "the entry point threw: fixture entry point failure");
    CHECK(entryCount(registry) == before);

    const PluginLoadReport report = loadPlugins({throwingEntryDir()}, registry);
    REQUIRE(report.rejected.size() == 2);
    CHECK(report.rejected[0].str() ==
          throwingEntryPlugin("throwing_entry") +
              ": warning: plugin not loaded: the entry point threw a non-standard exception");
    CHECK(report.rejected[1].file == throwingEntryPlugin("throwing_entry_std"));
    REQUIRE(report.loaded.size() == 1);
    CHECK(report.loaded[0].name == "zz_good");
    CHECK(registry.find("fixture::good", "", Target::iOS15)->plugin == "zz_good");
}

TEST_CASE("A register function that throws a non-standard exception is refused like any other") {
    static const ts2coreml_plugin_info throwsInt{TS2COREML_PLUGIN_API_VERSION, TS2COREML_ABI_TAG, "throws_int", "1.0",
                                                 [](Registry& r) {
                                                     r.add("ts2coreml_test::throws_int", [](LoweringContext&) {});
                                                     throw 42;
                                                 }};
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    CHECK_THROWS_WITH_AS(registerPlugin(registry, throwsInt, "static", nullptr),
                         "register function threw a non-standard exception", PluginRejected);
    CHECK(!registry.hasKey("ts2coreml_test::throws_int"));
}

TEST_CASE("An override replaces the built-in lowering and the conversion uses it") {
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    loadPlugin(fixturePlugin("override"), registry);
    const LoweringEntry* relu = registry.find("aten::relu", "", Target::iOS15);
    REQUIRE(relu);
    CHECK(relu->provider == fixturePlugin("override"));
    CHECK(relu->overrode == "built-in");
    CHECK(relu->plugin == "override");

    FrontendOptions options;
    options.inputs = {{"x", TensorType::of(DType::Float32, {2, 3})}};
    options.modelPath = "relu.pt";
    LoweredModel lowered =
        lowerModule(scriptModule("def forward(self, x):\n    return torch.relu(x)"), options, registry);
    const auto ops = opHistogram(*lowered.program);
    CHECK(ops.count("maximum") == 1);
    CHECK(ops.count("relu") == 0);
}

TEST_CASE("A lowering that throws is a diagnostic naming plugin, op and place, and nothing is written") {
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    loadPlugin(fixturePlugin("throwing_lowering"), registry);
    ScratchDir dir("throwing_lowering");
    const ConvertOptions options = hardshrinkConversion(dir);
    try {
        convertModel(options, registry);
        FAIL("the conversion succeeded");
    } catch (const ConversionError& e) {
        CHECK(e.exitCode() == 1);
        REQUIRE(e.diagnostics().size() == 1);
        const Diagnostic& d = e.diagnostics().front();
        CHECK(!d.location.empty());
        CHECK(d.message.find("while lowering 'aten::hardshrink'") != std::string::npos);
        CHECK(d.message.find("plugin 'throwing_lowering' (" + fixturePlugin("throwing_lowering") + ")") !=
              std::string::npos);
        CHECK(d.message.find("fixture lowering failure") != std::string::npos);
    }
    CHECK(!std::filesystem::exists(options.outputPath));
}

TEST_CASE("The search path takes the environment first and never an empty entry as the current directory") {
    CHECK(pluginSearchPath({"cli1", "cli2"}, "env1::env2:") ==
          std::vector<std::string>{"env1", "env2", "cli1", "cli2"});
    CHECK(pluginSearchPath({}, nullptr).empty());
    CHECK(pluginSearchPath({}, ":").empty());
    std::vector<PluginRejection> rejected;
    const auto files =
        findPluginFiles({"/nonexistent/ts2coreml/plugins", TS2COREML_FIXTURE_DIR, TS2COREML_FIXTURE_DIR}, rejected);
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].reason == "no such file or directory");
    CHECK(files.size() == 11);  // each library once, README.txt ignored
}

TEST_CASE("Registering is all or nothing: a conflicting torch op leaves no lowering behind") {
    static const ts2coreml_plugin_info conflicting{
        TS2COREML_PLUGIN_API_VERSION, TS2COREML_ABI_TAG, "conflicting", "1.0", [](Registry& r) {
            r.add("ts2coreml_test::conflicting", [](LoweringContext&) {});
            r.declareTorchOp("aten::relu(Tensor self, int extra) -> Tensor");  // not torch's relu
        }};
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    const size_t before = entryCount(registry);
    try {
        registerPlugin(registry, conflicting, "static", nullptr);
        FAIL("registered");
    } catch (const PluginRejected& e) {
        CHECK(std::string(e.what()).find("torch op 'aten::relu' is already defined as") != std::string::npos);
    }
    CHECK(entryCount(registry) == before);
    CHECK(!registry.hasKey("ts2coreml_test::conflicting"));
}

TEST_CASE("Declared torch ops become TorchScript operators") {
    // What torch::jit::load resolves a model's `ops.ns.op(...)` calls against.
    auto known = [] {
        return !torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString("ts2coreml_test::declared")).empty();
    };
    CHECK(!known());
    CHECK(!checkTorchOpSchema("ts2coreml_test::declared(Tensor x, float alpha=1.) -> Tensor").size());
    LoweringRegistry registry;
    registry.declareTorchOp("ts2coreml_test::declared(Tensor x, float alpha=1.) -> Tensor");
    CHECK(known());
    // The same schema again (another plugin, or the op's own library) is no conflict; another is.
    CHECK_NOTHROW(registry.declareTorchOp("ts2coreml_test::declared(Tensor x, float alpha=1.) -> Tensor"));
    CHECK_THROWS_AS(registry.declareTorchOp("ts2coreml_test::declared(Tensor x) -> Tensor"), std::invalid_argument);
    CHECK_THROWS_AS(registry.declareTorchOp("no_namespace(Tensor x) -> Tensor"), std::invalid_argument);
    CHECK(torchOpName("mylib::op.out(Tensor x) -> Tensor") == "mylib::op.out");
    CHECK(registry.declaredTorchOps().size() == 2);
}
