// Input shapes from the command line as users give them: enumerated shapes (`NAME:S1|S2`) in both
// formats, verified at each shape; the warning for int64 values Core ML cannot hold; and the
// refusals of shapes a model cannot declare.
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <torch/script.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

using namespace ts2coreml::test;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// A small conv + relu model (random, seeded weights) saved as a TorchScript file.
std::string saveConvModel(const CliTempDir& dir) {
    at::manual_seed(0);
    torch::jit::Module m("SmallConv");
    m.register_parameter("weight", at::randn({4, 3, 3, 3}) * 0.3, false);
    m.register_parameter("bias", at::randn({4}) * 0.1, false);
    m.define(R"(def forward(self, x):
    return torch.relu(torch.conv2d(x, self.weight, self.bias, [1, 1], [1, 1]))
)");
    const std::string path = dir / "small_conv.pt";
    m.save(path);
    return path;
}

/// The line of `file` holding `text` (1-based), 0 when absent.
int lineOf(const std::string& file, const std::string& text) {
    std::ifstream in(file);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
        if (has(line, text)) return n;
    return 0;
}

}  // namespace

TEST_CASE("enumerated input shapes: declared in both formats, shown by inspect, verified at each shape") {
    CliTempDir dir("enumerated");
    const std::string pt = saveConvModel(dir);
    for (const char* ext : {".mlpackage", ".mlmodel"}) {
        CAPTURE(ext);
        const std::string out = dir / (std::string("Conv") + ext);
        Run c = runTs2coreml(dir, "convert " + pt + " -o " + out + " --input 'x:1,3,16,16|1,3,24,20'");
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);

        Run i = runTs2coreml(dir, "inspect " + out);
        REQUIRE_MESSAGE(i.exitCode == 0, i.err);
        CHECK(has(i.out, "enumerated shapes: 1,3,16,16 | 1,3,24,20"));

        for (const char* shape : {"", " --input x:1,3,24,20"}) {
            CAPTURE(shape);
            Run v = runTs2coreml(dir, "verify " + pt + " " + out + shape);
            CAPTURE(v.out);
            CHECK_MESSAGE(v.exitCode == 0, v.err);
            CHECK(has(v.out, std::string("PASS output_0 [1,4,") + (*shape ? "24,20]" : "16,16]")));
        }
        // A shape between the two is not one the model accepts.
        Run off = runTs2coreml(dir, "verify " + pt + " " + out + " --input x:1,3,20,20");
        CHECK(off.exitCode == 2);
        CHECK(has(off.err, "1,3,20,20 is not one of the model's enumerated shapes (1,3,16,16 | 1,3,24,20)"));
    }
}

TEST_CASE("bad enumerated shapes are refused with the reason, exit 2") {
    CliTempDir dir("enumerated_bad");
    const std::string pt = saveConvModel(dir);
    const std::string out = dir / "Conv.mlpackage";
    Run ranks = runTs2coreml(dir, "convert " + pt + " -o " + out + " --input 'x:1,3,16,16|1,3,24'");
    CHECK(ranks.exitCode == 2);
    CHECK(has(ranks.err, "enumerated shapes must have one rank"));
    Run range = runTs2coreml(dir, "convert " + pt + " -o " + out + " --input 'x:1,3,16,16|1,3,8..32,24'");
    CHECK(range.exitCode == 2);
    CHECK(has(range.err, "enumerated shapes list fixed sizes"));
    Run twice = runTs2coreml(dir, "convert " + pt + " -o " + out + " --input 'x:1,3,16,16|1,3,16,16'");
    CHECK(twice.exitCode == 2);
    CHECK(has(twice.err, "listed twice"));
    CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("an int64 constant beyond int32 is clamped with a warning naming the line that uses it") {
    CliTempDir dir("int64");
    const std::string source = std::string(TS2COREML_SOURCE_DIR) + "/samples/make_models.py";
    const int line = lineOf(source, "return x + self.offsets");
    REQUIRE(line > 0);
    Run c = runTs2coreml(
        dir, "convert " + model("int64_offsets") + " -o " + (dir / "Offsets.mlpackage") + " --input x:4:int32");
    REQUIRE_MESSAGE(c.exitCode == 0, c.err);
    CAPTURE(c.err);
    CHECK(has(c.err, "make_models.py:" + std::to_string(line) + ":"));
    CHECK(has(c.err, "warning: an int64 constant"));
    CHECK(has(c.err, "holds 1099511627776, outside the int32 range"));
    CHECK(has(c.err, "warning: input 'x' is declared int32"));
}

// Every target ts2coreml writes (iOS13 and later, specification 4+) declares an unbounded range in
// a multi-array's shape range (upper bound -1), in both formats. What cannot be declared is an
// unbounded (or any flexible) size among enumerated shapes or in an image input: refused up front.
TEST_CASE("unbounded input dims: declared where Core ML can, refused with the reason where it cannot") {
    CliTempDir dir("unbounded");
    const std::string pt = saveConvModel(dir);
    for (const char* ext : {".mlpackage", ".mlmodel"}) {
        CAPTURE(ext);
        const std::string out = dir / (std::string("Open") + ext);
        Run c = runTs2coreml(dir, "convert " + pt + " -o " + out + " --input x:1,3,8..,16");
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);
        Run i = runTs2coreml(dir, "inspect " + out);
        CHECK(has(i.out, "x fp32[1,3,?,16]"));  // no upper bound
        Run v = runTs2coreml(dir, "verify " + pt + " " + out + " --input x:1,3,40,16");
        CHECK_MESSAGE(v.exitCode == 0, v.err);
    }
    const std::string out = dir / "Refused.mlpackage";
    Run enumerated = runTs2coreml(dir, "convert " + pt + " -o " + out + " --input 'x:1,3,16,16|1,3,16..,16'");
    CHECK(enumerated.exitCode == 2);
    CHECK(has(enumerated.err, "enumerated shapes list fixed sizes"));
    Run image = runTs2coreml(dir, "convert " + pt + " -o " + out + " --image x:1,3,16..,16:scale=0.1");
    CHECK(image.exitCode == 2);
    CHECK(has(image.err, "with fixed sizes"));
    CHECK_FALSE(std::filesystem::exists(out));
}
