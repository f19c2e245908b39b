// torchvision::deform_conv2d through the torchvision plugin: models traced from
// torchvision.ops.DeformConv2d (tests/plugin/make_plugin_models.py, DEFORM) convert to both formats
// and verify against LibTorch running torchvision's own kernel; dynamic sizes are refused.
#include "plugin/PluginTestSupport.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace ts2coreml::test;

namespace {

const std::string kTorchvisionDir = std::filesystem::path(TS2COREML_TORCHVISION_PLUGIN).parent_path().string();
// torchvision's own kernels (Debian's python3-torchvision), for LibTorch's side of verify.
const std::string kTorchvisionKernels = "/usr/lib/python3/dist-packages/torchvision/_C.cpython-311-x86_64-linux-gnu.so";

// Each varies one thing of the default (3x3 kernel, padding 1, one group, no mask, offsets ~ +-2 px).
const char* const kModels[] = {
    "deform_plain",          // no mask
    "deform_mask",           // use_mask, a 3x2 kernel
    "deform_groups",         // groups = 2, no bias
    "deform_offset_groups",  // offset_groups = 2 with a mask, a 2x3 kernel
    "deform_strided",        // stride 2, padding 2, dilation 2, a 3x2 kernel on a 9x11 image
    "deform_batch",          // batch 2 with groups = 2, offset_groups = 2 and a mask
    "deform_outside",        // offsets up to ~12 px on a 5x6 image: many samples outside, partly outside
};

}  // namespace

TEST_CASE("torchvision deform_conv2d converts to both formats and verifies against torchvision's kernel") {
    REQUIRE_MESSAGE(std::filesystem::exists(kTorchvisionKernels), "verify needs torchvision's kernels");
    ScratchDir dir("deform_conv2d");
    for (const std::string name : kModels) {
        for (const std::string ext : {".mlpackage", ".mlmodel"}) {
            CAPTURE(name);
            CAPTURE(ext);
            const std::string out = dir / (name + ext);
            CommandRun convert = ts2coremlRun(dir, "convert " + pluginModel(name) + " -o " + out + " " +
                                                       pluginModelInputs(name) + " --precision fp32");
            REQUIRE_MESSAGE(convert.exitCode == 0, convert.err);
            // fp32 throughout: a bilinear sample is a few products and sums, as in torchvision.
            CommandRun verify =
                ts2coremlRun(dir, "verify " + pluginModel(name) + " " + out +
                                      " --atol 1e-4 --rtol 1e-4 --torch-library " + kTorchvisionKernels);
            CHECK_MESSAGE(verify.exitCode == 0, (verify.out + verify.err));
            CHECK(verify.out.find("PASS") != std::string::npos);
        }
    }
}

TEST_CASE("torchvision deform_conv2d verifies as an fp16 program within fp16's tolerances") {
    REQUIRE_MESSAGE(std::filesystem::exists(kTorchvisionKernels), "verify needs torchvision's kernels");
    ScratchDir dir("deform_conv2d_fp16");
    for (const std::string name : {"deform_batch", "deform_outside"}) {
        CAPTURE(name);
        const std::string out = dir / (name + ".mlpackage");
        CommandRun convert = ts2coremlRun(
            dir, "convert " + pluginModel(name) + " -o " + out + " " + pluginModelInputs(name) + " --precision fp16");
        REQUIRE_MESSAGE(convert.exitCode == 0, convert.err);
        CommandRun verify = ts2coremlRun(dir, "verify " + pluginModel(name) + " " + out +
                                                  " --atol 1e-3 --rtol 3e-2 --torch-library " + kTorchvisionKernels);
        CHECK_MESSAGE(verify.exitCode == 0, (verify.out + verify.err));
    }
}

TEST_CASE("torchvision deform_conv2d with a flexible input size is refused naming the op") {
    ScratchDir dir("deform_conv2d_dynamic");
    const std::string out = dir / "deform.mlpackage";
    CommandRun r = ts2coremlRun(dir, "convert " + pluginModel("deform_plain") + " -o " + out + " --input x:1,3,5..9,9");
    CHECK(r.exitCode != 0);
    CHECK(r.err.find("torchvision::deform_conv2d") != std::string::npos);
    CHECK(r.err.find("needs static sizes") != std::string::npos);
    CHECK(!std::filesystem::exists(out));
}
