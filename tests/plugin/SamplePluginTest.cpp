// samples/plugin built the way its README tells a plugin author: ts2coreml installed to a prefix,
// the sample configured out of tree with find_package(ts2coreml), then used by the INSTALLED
// ts2coreml. A model using its op fails without it (naming op and line) and converts and verifies
// with it; a model calling the custom op mylib::scaled_tanh loads and converts only with it.
#include "plugin/PluginTestSupport.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace ts2coreml::test;

TEST_CASE("The sample plugin builds against the installed SDK and converts what the built-ins cannot") {
    ScratchDir dir("sample");
    const std::string prefix = dir / "prefix", build = dir / "build";
    const std::string cmake = TS2COREML_CMAKE_COMMAND;
    CommandRun install =
        runCommand(dir, cmake, "--install " + std::string(TS2COREML_BINARY_DIR) + " --prefix " + prefix);
    REQUIRE_MESSAGE(install.exitCode == 0, install.err);
    REQUIRE(std::filesystem::exists(prefix + "/include/ts2coreml/Plugin.h"));
    REQUIRE(std::filesystem::exists(prefix + "/lib/cmake/ts2coreml/ts2coreml-config.cmake"));
    CommandRun configure = runCommand(
        dir, cmake,
        "-S " + std::string(TS2COREML_SOURCE_DIR) + "/samples/plugin -B " + build + " -DCMAKE_PREFIX_PATH=" + prefix);
    REQUIRE_MESSAGE(configure.exitCode == 0, (configure.out + configure.err));
    CommandRun compile = runCommand(dir, cmake, "--build " + build);
    REQUIRE_MESSAGE(compile.exitCode == 0, (compile.out + compile.err));
    REQUIRE(std::filesystem::exists(build + "/libmy_ops.so"));

    const std::string bin = prefix + "/bin/ts2coreml";
    SUBCASE("aten::special_ndtr: listed with its line without the plugin; converted and verified with it") {
        const std::string out = dir / "ndtr.mlpackage";
        const std::string args = "convert " + pluginModel("ndtr") + " -o " + out + " " + pluginModelInputs("ndtr");
        CommandRun without = runCommand(dir, bin, args);
        CHECK(without.exitCode == 2);
        CHECK(without.err.find("make_plugin_models.py:") != std::string::npos);
        CHECK(without.err.find("no lowering for 'aten::special_ndtr'") != std::string::npos);
        CHECK(!std::filesystem::exists(out));
        CommandRun with = runCommand(dir, bin, args + " --plugin-path " + build);
        REQUIRE_MESSAGE(with.exitCode == 0, with.err);
        CommandRun verify = runCommand(dir, bin, "verify " + pluginModel("ndtr") + " " + out);
        CHECK_MESSAGE(verify.exitCode == 0, (verify.out + verify.err));
        CHECK(verify.out.find("PASS") != std::string::npos);
    }
    SUBCASE("mylib::scaled_tanh: the model loads and converts only when the plugin declares the op") {
        const std::string out = dir / "mylib.mlpackage";
        const std::string args =
            "convert " + pluginModel("mylib_scaled_tanh") + " -o " + out + " " + pluginModelInputs("mylib_scaled_tanh");
        CommandRun without = runCommand(dir, bin, args);
        CHECK(without.exitCode == 2);
        CHECK(without.err.find(pluginModel("mylib_scaled_tanh") + ": error: cannot load TorchScript model: it calls "
                                                                  "'mylib::scaled_tanh'") != std::string::npos);
        CHECK(!std::filesystem::exists(out));
        CommandRun with = runCommand(dir, bin, args + " --plugin-path " + build);
        REQUIRE_MESSAGE(with.exitCode == 0, with.err);
        CHECK(std::filesystem::exists(out + "/Manifest.json"));
        // LibTorch's side of verify needs the op's kernel, which only the user's library has.
        CommandRun verify =
            runCommand(dir, bin, "verify " + pluginModel("mylib_scaled_tanh") + " " + out + " --plugin-path " + build);
        CHECK(verify.exitCode == 2);
        CHECK(verify.err.find("no kernel for 'mylib::scaled_tanh'") != std::string::npos);
        CommandRun ops = runCommand(dir, bin, "ops --plugin-path " + build);
        CHECK(ops.out.find("mylib::scaled_tanh") != std::string::npos);
        CHECK(ops.out.find(build + "/libmy_ops.so") != std::string::npos);
    }
}
