// The command line with plugins: `ts2coreml ops` listing the shipped plugins (text and JSON),
// rejections as warnings while the host keeps working, TS2COREML_PLUGIN_PATH, and models calling
// the shipped plugins' ops: refused without the plugin, converted and verified with it.
#include "plugin/PluginTestSupport.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

using namespace ts2coreml::test;

namespace {

const std::string kTorchvisionDir = std::filesystem::path(TS2COREML_TORCHVISION_PLUGIN).parent_path().string();
const std::string kSortingDir = std::filesystem::path(TS2COREML_SORTING_PLUGIN).parent_path().string();
// torchvision's own kernels (Debian's python3-torchvision), for LibTorch's side of verify.
const std::string kTorchvisionKernels = "/usr/lib/python3/dist-packages/torchvision/_C.cpython-311-x86_64-linux-gnu.so";

nlohmann::json opsJson(const ScratchDir& dir, const std::string& flags, const std::string& env = {}) {
    CommandRun r = ts2coremlRun(dir, "ops --json " + flags, env);
    REQUIRE_MESSAGE(r.exitCode == 0, r.err);
    return nlohmann::json::parse(r.out);
}

const nlohmann::json* entry(const nlohmann::json& ops, const std::string& key) {
    for (const auto& e : ops["lowerings"])
        if (e["key"] == key) return &e;
    return nullptr;
}

}  // namespace

TEST_CASE("ts2coreml ops lists the shipped plugins' lowerings, providers and torch ops, loaded by default") {
    ScratchDir dir("ops_shipped");
    const auto ops = opsJson(dir, "");
    for (const auto& [key, file] :
         std::vector<std::pair<std::string, std::string>>{{"torchvision::nms", TS2COREML_TORCHVISION_PLUGIN},
                                                          {"torchvision::roi_align", TS2COREML_TORCHVISION_PLUGIN},
                                                          {"torchvision::deform_conv2d", TS2COREML_TORCHVISION_PLUGIN},
                                                          {"aten::topk", TS2COREML_SORTING_PLUGIN},
                                                          {"aten::sort", TS2COREML_SORTING_PLUGIN},
                                                          {"aten::argsort", TS2COREML_SORTING_PLUGIN}}) {
        CAPTURE(key);
        const nlohmann::json* e = entry(ops, key);
        REQUIRE(e);
        CHECK((*e)["provider"] == file);
        CHECK((*e)["min_target"] == "iOS13");
        CHECK((*e)["overrode"].is_null());
    }
    CHECK((*entry(ops, "aten::relu"))["provider"] == "built-in");
    REQUIRE(ops["torch_ops"].size() == 3);
    CHECK(ops["torch_ops"][0]["schema"] ==
          "torchvision::nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor");
    CHECK(ops["torch_ops"][0]["provider"] == TS2COREML_TORCHVISION_PLUGIN);

    CommandRun text = ts2coremlRun(dir, "ops");
    REQUIRE(text.exitCode == 0);
    CHECK(text.out.find("torchvision::nms") != std::string::npos);
    CHECK(text.out.find(std::string(TS2COREML_TORCHVISION_PLUGIN) + " iOS13") != std::string::npos);
    CHECK(text.out.find("torch op torchvision::roi_align(") != std::string::npos);
    CHECK(text.err.empty());

    // Named again on the command line, a shipped plugin loads once: no duplicate-key rejection.
    CommandRun again = ts2coremlRun(dir, "ops --plugin-path " + kTorchvisionDir + " --plugin-path " + kSortingDir);
    REQUIRE(again.exitCode == 0);
    CHECK(again.err.empty());
    CHECK(again.out == text.out);

    const auto without = opsJson(dir, "--no-default-plugins");
    for (const std::string key : {"torchvision::nms", "torchvision::roi_align", "aten::topk", "aten::sort"}) {
        CAPTURE(key);
        CHECK(!entry(without, key));
    }
    CHECK(without["torch_ops"].empty());
    CHECK((*entry(without, "aten::relu"))["provider"] == "built-in");
}

TEST_CASE("ts2coreml ops reports each rejected plugin on one line and lists the rest") {
    ScratchDir dir("ops_fixtures");
    // Without the shipped composites: ops.yaml's aten::hardshrink would also turn away the fixture
    // that registers it, a ninth line.
    CommandRun r = ts2coremlRun(dir, "ops --no-default-ops --plugin-path " + std::string(TS2COREML_FIXTURE_DIR));
    REQUIRE(r.exitCode == 0);
    CHECK(lineCount(r.err) == 8);
    CHECK(r.err.find(fixturePlugin("wrong_version") + ": warning: plugin not loaded: wrong API version") !=
          std::string::npos);
    CHECK(r.err.find(fixturePlugin("no_entry") + ": warning: plugin not loaded: no entry point") != std::string::npos);
    CHECK(r.out.find("fixture::good") != std::string::npos);
    CHECK(r.out.find("(overrides built-in)") != std::string::npos);

    CommandRun missing = ts2coremlRun(dir, "ops --plugin-path /nonexistent/plugins");
    CHECK(missing.exitCode == 2);
    CHECK(missing.err.find("--plugin-path '/nonexistent/plugins': no such file or directory") != std::string::npos);
}

TEST_CASE("A plugin whose entry point throws is one warning line naming it; the host lists the others") {
    ScratchDir dir("ops_throwing_entry");
    CommandRun r = ts2coremlRun(dir, "ops --no-default-ops --plugin-path " + throwingEntryDir());
    REQUIRE(r.exitCode == 0);
    CHECK(lineCount(r.err) == 2);
    CHECK(r.err.find(throwingEntryPlugin("throwing_entry") +
                     ": warning: plugin not loaded: the entry point threw a non-standard exception") !=
          std::string::npos);
    CHECK(r.err.find(throwingEntryPlugin("throwing_entry_std") +
                     ": warning: plugin not loaded: the entry point threw: fixture entry point failure") !=
          std::string::npos);
    CHECK(r.out.find("fixture::good") != std::string::npos);
}

TEST_CASE("Plugins load from TS2COREML_PLUGIN_PATH and never from the current directory") {
    ScratchDir dir("ops_env");
    // The shipped plugins left out, so that only the environment or the command line can bring one.
    const auto fromEnv = opsJson(dir, "--no-default-plugins", "TS2COREML_PLUGIN_PATH=/nonexistent:" + kTorchvisionDir);
    CHECK(entry(fromEnv, "torchvision::nms"));
    // Run inside the plugin's own directory: nothing is loaded unless named.
    CommandRun here =
        runCommand(dir, "cd " + kTorchvisionDir + " && " + TS2COREML_BIN, "ops --json --no-default-plugins");
    REQUIRE(here.exitCode == 0);
    CHECK(!entry(nlohmann::json::parse(here.out), "torchvision::nms"));
    CommandRun named = runCommand(dir, "cd " + kTorchvisionDir + " && " + TS2COREML_BIN,
                                  "ops --json --no-default-plugins --plugin-path .");
    REQUIRE(named.exitCode == 0);
    CHECK(entry(nlohmann::json::parse(named.out), "torchvision::nms"));
}

TEST_CASE("A torchvision model loads and converts only with the torchvision plugin, and verifies") {
    ScratchDir dir("torchvision");
    for (const std::string name : {"torchvision_nms", "torchvision_roi_align"}) {
        CAPTURE(name);
        const std::string out = dir / (name + ".mlpackage");
        const std::string args = "convert " + pluginModel(name) + " -o " + out + " " + pluginModelInputs(name);
        CommandRun without = ts2coremlRun(dir, args + " --no-default-plugins");
        CHECK(without.exitCode == 2);
        const std::string op = name == "torchvision_nms" ? "torchvision::nms" : "torchvision::roi_align";
        CHECK(without.err.find("calls '" + op + "', an op torch does not know") != std::string::npos);
        CHECK(lineCount(without.err) == 1);
        CHECK(!std::filesystem::exists(out));

        CommandRun with = ts2coremlRun(dir, args + " --precision fp32 --plugin-path " + kTorchvisionDir);
        REQUIRE_MESSAGE(with.exitCode == 0, with.err);
        CommandRun byDefault = ts2coremlRun(dir, args + " --precision fp32");
        REQUIRE_MESSAGE(byDefault.exitCode == 0, byDefault.err);
        if (!std::filesystem::exists(kTorchvisionKernels)) continue;
        CommandRun verify = ts2coremlRun(dir, "verify " + pluginModel(name) + " " + out + " --plugin-path " +
                                                  kTorchvisionDir + " --torch-library " + kTorchvisionKernels);
        CHECK_MESSAGE(verify.exitCode == 0, (verify.out + verify.err));
        CHECK(verify.out.find("PASS") != std::string::npos);
    }
}

TEST_CASE("The sorting plugin fills the built-ins' gap: refused with lines without it, verified with it") {
    ScratchDir dir("sorting");
    const std::string out = dir / "sorting.mlpackage";
    const std::string args = "convert " + pluginModel("sorting") + " -o " + out + " " + pluginModelInputs("sorting");
    CommandRun without = ts2coremlRun(dir, args + " --no-default-plugins");
    CHECK(without.exitCode == 2);
    for (const std::string op : {"aten::topk", "aten::sort", "aten::argsort"}) {
        CAPTURE(op);
        CHECK(without.err.find("make_plugin_models.py:") != std::string::npos);
        CHECK(without.err.find("no lowering for '" + op + "'") != std::string::npos);
    }
    CHECK(!std::filesystem::exists(out));
    CommandRun with = ts2coremlRun(dir, args + " --precision fp32 --plugin-path " + TS2COREML_SORTING_PLUGIN);
    REQUIRE_MESSAGE(with.exitCode == 0, with.err);
    CommandRun verify = ts2coremlRun(dir, "verify " + pluginModel("sorting") + " " + out);
    CHECK_MESSAGE(verify.exitCode == 0, (verify.out + verify.err));
    // Shipped, the plugin loads by default: the same model converts and verifies with no flag.
    std::filesystem::remove_all(out);
    CommandRun byDefault = ts2coremlRun(dir, args + " --precision fp32");
    REQUIRE_MESSAGE(byDefault.exitCode == 0, byDefault.err);
    CommandRun verifyDefault = ts2coremlRun(dir, "verify " + pluginModel("sorting") + " " + out);
    CHECK_MESSAGE(verifyDefault.exitCode == 0, (verifyDefault.out + verifyDefault.err));
}

TEST_CASE("Through the command line a throwing plugin lowering fails the conversion with exit 1 and no output") {
    ScratchDir dir("cli_throwing");
    const ts2coreml::ConvertOptions options = hardshrinkConversion(dir);
    const std::string out = options.outputPath;
    // ops.yaml lowers aten::hardshrink too; without it the fixture's throwing lowering is the one.
    CommandRun r =
        ts2coremlRun(dir, "convert " + options.modelPath + " -o " + out +
                              " --input x:4 --no-default-ops --plugin-path " + fixturePlugin("throwing_lowering"));
    CHECK(r.exitCode == 1);
    CHECK(r.err.find("plugin 'throwing_lowering'") != std::string::npos);
    CHECK(r.err.find("fixture lowering failure") != std::string::npos);
    CHECK(!std::filesystem::exists(out));
}
