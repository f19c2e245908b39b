// A damaged .pt is refused, naming the file and the record, before LibTorch reads it: a tensor
// record shorter than its storage (LibTorch would read past it: garbage weights) and bytes that do
// not match the zip's CRC-32 (LibTorch reads them as they are, and verify, reading the same bytes
// on both sides, would pass). Nothing is written.
#include "e2e/CliTestSupport.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace ts2coreml::test;
namespace fs = std::filesystem;

namespace {

/// A model with one 64 x 64 weight (its storage is the record data/0, 16 KiB), saved in `dir`.
std::string weightedModel(const CliTempDir& dir) {
    torch::jit::Module m("Weighted");
    m.register_parameter("w", at::randn({64, 64}), false);
    m.define(R"(def forward(self, x):
    return torch.matmul(x, self.w)
)");
    const std::string path = dir / "good.pt";
    m.save(path);
    return path;
}

/// The name of the record holding data/0 in the archive (its top folder differs by file name).
std::string dataRecord(const std::string& path) {
    caffe2::serialize::PyTorchStreamReader reader(path);
    for (const std::string& r : reader.getAllRecords())
        if (r == "data/0") return r;
    return "";
}

/// Flips one byte in the middle of the record data/0, in place: the zip itself stays valid.
void flipByteOfData0(const std::string& path) {
    size_t offset = 0;
    {
        caffe2::serialize::PyTorchStreamReader reader(path);
        offset = reader.getRecordOffset("data/0") + 1000;
    }
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    const char byte = static_cast<char>(f.get() ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(byte);
}

/// Rewrites `from` into `to` with the entry .../data/0 cut to half its bytes: a consistent zip
/// (right size and CRC in the central directory) whose record is shorter than its storage.
void writeTruncatedCopy(const CliTempDir& dir, const std::string& from, const std::string& to) {
    const std::string script = dir / "truncate.py";
    std::ofstream(script) << R"(import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.endswith('/data/0'):
            data = data[: len(data) // 2]
        zout.writestr(info, data)
)";
    const std::string cmd = "/usr/bin/python3 " + script + " " + from + " " + to;
    REQUIRE(std::system(cmd.c_str()) == 0);
}

}  // namespace

TEST_CASE("a .pt record shorter than its tensor storage is refused, naming the record, nothing written") {
    CliTempDir dir("ckpt_short");
    const std::string good = weightedModel(dir);
    REQUIRE(dataRecord(good) == "data/0");
    const std::string bad = dir / "short.pt";
    writeTruncatedCopy(dir, good, bad);

    const std::string out = dir / "Short.mlpackage";
    const Run r = runTs2coreml(dir, "convert " + bad + " -o " + out + " --input x:2,64");
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find(bad + ": error: record '") != std::string::npos, r.err);
    CHECK_MESSAGE(
        r.err.find("/data/0' is short: it holds 8192 bytes, and its tensor storage needs 16384") != std::string::npos,
        r.err);
    CHECK_FALSE(fs::exists(out));

    // The sound file converts; verify refuses the damaged one too.
    const Run ok = runTs2coreml(dir, "convert " + good + " -o " + out + " --input x:2,64");
    REQUIRE_MESSAGE(ok.exitCode == 0, ok.err);
    const Run v = runTs2coreml(dir, "verify " + bad + " " + out);
    CHECK(v.exitCode == 2);
    CHECK_MESSAGE(v.err.find("/data/0' is short") != std::string::npos, v.err);
}

TEST_CASE("a .pt record whose bytes fail the zip's CRC-32 is refused by convert and verify, naming the record") {
    CliTempDir dir("ckpt_crc");
    const std::string good = weightedModel(dir);
    const std::string out = dir / "Good.mlmodel";
    const Run ok = runTs2coreml(dir, "convert " + good + " -o " + out + " --input x:2,64");
    REQUIRE_MESSAGE(ok.exitCode == 0, ok.err);

    const std::string bad = dir / "flipped.pt";
    fs::copy_file(good, bad);
    flipByteOfData0(bad);
    // LibTorch alone loads it without a word: the check is ours.
    CHECK_NOTHROW(torch::jit::load(bad));

    const std::string badOut = dir / "Flipped.mlmodel";
    const Run r = runTs2coreml(dir, "convert " + bad + " -o " + badOut + " --input x:2,64");
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find(bad + ": error: record '") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("/data/0': CRC-32 mismatch") != std::string::npos, r.err);
    CHECK_FALSE(fs::exists(badOut));

    const Run v = runTs2coreml(dir, "verify " + bad + " " + out);
    CHECK(v.exitCode == 2);
    CHECK_MESSAGE(v.err.find("/data/0': CRC-32 mismatch") != std::string::npos, v.err);
}
