// `ts2coreml verify` as users run it: the five torchvision samples pass in fp32 and fp16, and
// verify fails — exit 1, naming the output — when the written weights are altered, and exits 2
// naming the problem on bad input.
#include "TestSupport.h"
#include "e2e/CliTestSupport.h"
#include "verify/Npy.h"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace fs = std::filesystem;

namespace {

using namespace ts2coreml::test;
using TempDir = CliTempDir;

void convertAndVerify(const std::string& name) {
    TempDir dir(name);
    for (const char* precision : {"fp32", "fp16"}) {
        CAPTURE(precision);
        const std::string package = dir / (name + "_" + precision + ".mlpackage");
        Run c = runTs2coreml(
            dir, "convert " + model(name) + " -o " + package + " " + inputFlag(name) + " --precision " + precision);
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);
        Run v = runTs2coreml(dir, "verify " + model(name) + " " + package);
        CAPTURE(v.out);
        CAPTURE(v.err);
        CHECK(v.exitCode == 0);
        CHECK(v.out.find("PASS output_0") != std::string::npos);
        CHECK(v.out.find(std::string(precision) + " program") != std::string::npos);
        // fp32 must hold the bar: max abs error <= 1e-4 of the output's scale (plus 1e-4 absolute).
        if (std::string(precision) == "fp32") CHECK(v.out.find("atol 0.0001, rtol 0.0001") != std::string::npos);
    }
}

// The data region of the largest blob in weight.bin: records are 64-byte metadata (sentinel u32,
// dtype u32, size u64, data offset u64) starting after the 64-byte file header.
std::pair<uint64_t, uint64_t> largestBlob(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    uint32_t count = 0;
    std::memcpy(&count, bytes.data(), 4);
    uint64_t at = 64, bestOffset = 0, bestSize = 0;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t sentinel = 0;
        uint64_t size = 0, offset = 0;
        std::memcpy(&sentinel, bytes.data() + at, 4);
        REQUIRE(sentinel == 0xDEADBEEFu);
        std::memcpy(&size, bytes.data() + at + 8, 8);
        std::memcpy(&offset, bytes.data() + at + 16, 8);
        if (size > bestSize) bestSize = size, bestOffset = offset;
        at = (offset + size + 63) / 64 * 64;
    }
    return {bestOffset, bestSize};
}

}  // namespace

TEST_CASE("verify passes resnet18 in fp32 and fp16") { convertAndVerify("resnet18"); }
TEST_CASE("verify passes resnet50 in fp32 and fp16") { convertAndVerify("resnet50"); }
TEST_CASE("verify passes mobilenet_v2 in fp32 and fp16") { convertAndVerify("mobilenet_v2"); }
TEST_CASE("verify passes mobilenet_v3_large in fp32 and fp16") { convertAndVerify("mobilenet_v3_large"); }
TEST_CASE("verify passes deeplabv3_resnet50 in fp32 and fp16") { convertAndVerify("deeplabv3_resnet50"); }

TEST_CASE("verify fails with exit 1 naming the output when weight.bin was altered") {
    TempDir dir("altered");
    const std::string package = dir / "r18.mlpackage";
    REQUIRE(runTs2coreml(dir, "convert " + model("resnet18") + " -o " + package + " " + inputFlag("resnet18") +
                                  " --precision fp32")
                .exitCode == 0);
    REQUIRE(runTs2coreml(dir, "verify " + model("resnet18") + " " + package).exitCode == 0);

    // Add 0.5 to every 16th float of the largest weight: the file stays well-formed, only the numbers change.
    const std::string weights = package + "/Data/com.apple.CoreML/weights/weight.bin";
    const auto [offset, size] = largestBlob(weights);
    REQUIRE(size >= 4096);
    std::fstream f(weights, std::ios::in | std::ios::out | std::ios::binary);
    for (uint64_t at = offset; at + 4 <= offset + size; at += 64) {
        float v = 0;
        f.seekg(static_cast<std::streamoff>(at));
        f.read(reinterpret_cast<char*>(&v), 4);
        v += 0.5f;
        f.seekp(static_cast<std::streamoff>(at));
        f.write(reinterpret_cast<const char*>(&v), 4);
    }
    f.close();

    Run v = runTs2coreml(dir, "verify " + model("resnet18") + " " + package);
    CAPTURE(v.out);
    CAPTURE(v.err);
    CHECK(v.exitCode == 1);
    CHECK(v.out.find("FAIL output_0") != std::string::npos);
    CHECK(v.err.find("output output_0: max abs err") != std::string::npos);
}

TEST_CASE("verify writes both sides with --dump and reads inputs back with --input-file") {
    TempDir dir("dump");
    const std::string package = dir / "r18.mlpackage";
    REQUIRE(runTs2coreml(dir, "convert " + model("resnet18") + " -o " + package + " " + inputFlag("resnet18") +
                                  " --precision fp32")
                .exitCode == 0);
    const std::string dumpA = dir / "a", dumpB = dir / "b";
    REQUIRE(runTs2coreml(dir, "verify " + model("resnet18") + " " + package + " --seed 7 --dump " + dumpA).exitCode ==
            0);
    for (const char* f : {"x.input.npy", "output_0.torch.npy", "output_0.coreml.npy"})
        CHECK(fs::exists(fs::path(dumpA) / f));
    const at::Tensor input = ts2coreml::verify::readNpy(dumpA + "/x.input.npy");
    CHECK(input.sizes() == at::IntArrayRef({1, 3, 224, 224}));

    // The same input from the file gives the same outputs; another seed gives other inputs.
    REQUIRE(runTs2coreml(dir, "verify " + model("resnet18") + " " + package + " --input-file x=" + dumpA +
                                  "/x.input.npy --dump " + dumpB)
                .exitCode == 0);
    CHECK(at::equal(ts2coreml::verify::readNpy(dumpA + "/output_0.coreml.npy"),
                    ts2coreml::verify::readNpy(dumpB + "/output_0.coreml.npy")));
    CHECK(at::equal(ts2coreml::verify::readNpy(dumpA + "/output_0.torch.npy"),
                    ts2coreml::verify::readNpy(dumpB + "/output_0.torch.npy")));
    REQUIRE(runTs2coreml(dir, "verify " + model("resnet18") + " " + package + " --seed 8 --dump " + dumpB).exitCode ==
            0);
    CHECK_FALSE(at::equal(input, ts2coreml::verify::readNpy(dumpB + "/x.input.npy")));
}

TEST_CASE("verify exits 2 naming every problem with its input") {
    TempDir dir("bad");
    const std::string package = dir / "r18.mlpackage";
    REQUIRE(runTs2coreml(dir, "convert " + model("resnet18") + " -o " + package + " " + inputFlag("resnet18") +
                                  " --precision fp32")
                .exitCode == 0);

    SUBCASE("missing files, all reported at once") {
        Run v = runTs2coreml(dir, "verify " + (dir / "none.pt") + " " + (dir / "none.mlpackage"));
        CHECK(v.exitCode == 2);
        CHECK(v.err.find("none.pt") != std::string::npos);
        CHECK(v.err.find("none.mlpackage") != std::string::npos);
    }
    SUBCASE("an input file of the wrong shape, and an unknown input name") {
        ts2coreml::verify::writeNpy(dir / "small.npy", at::zeros({1, 3, 8, 8}));
        Run v =
            runTs2coreml(dir, "verify " + model("resnet18") + " " + package + " --input-file x=" + (dir / "small.npy") +
                                  " --input-file y=" + (dir / "small.npy"));
        CAPTURE(v.err);
        CHECK(v.exitCode == 2);
        CHECK(v.err.find("x: size 8") != std::string::npos);
        CHECK(v.err.find("--input-file y: the model has no input of that name") != std::string::npos);
    }
    SUBCASE("an input file that is not a tensor") {
        std::ofstream(dir / "junk.pt") << "not a tensor";
        Run v =
            runTs2coreml(dir, "verify " + model("resnet18") + " " + package + " --input-file x=" + (dir / "junk.pt"));
        CHECK(v.exitCode == 2);
        CHECK(v.err.find("junk.pt") != std::string::npos);
    }
    SUBCASE("a negative tolerance") {
        Run v = runTs2coreml(dir, "verify " + model("resnet18") + " " + package + " --atol -1");
        CHECK(v.exitCode == 2);
        CHECK(v.err.find("--atol") != std::string::npos);
    }
}
