// Nothing at the output path is lost: ts2coreml replaces only an output of the same kind it could
// have written (a regular file for .mlmodel, a directory with a Manifest.json for .mlpackage),
// never the input model, and finds every output-path problem before it loads the model, reporting
// it with the other problems of the command line (exit 2).
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace ts2coreml::test;
namespace fs = std::filesystem;

namespace {

/// A tiny scripted model saved into `dir`, converted with --input x:2,3.
std::string tinyModel(const CliTempDir& dir, const std::string& name = "tiny.pt") {
    const std::string path = dir / name;
    scriptModule(R"(def forward(self, x):
    return torch.relu(x) * 2.0)")
        .save(path);
    return path;
}

void writeText(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST_CASE("a directory at an .mlmodel output path survives: exit 2, named, before the model loads") {
    CliTempDir dir("out_dir_mlmodel");
    const std::string model = tinyModel(dir);
    fs::create_directories(dir / "p.mlmodel");
    writeText(dir / "p.mlmodel/keep.txt", "x");
    const Run r = runTs2coreml(dir, "convert " + model + " -o " + (dir / "p.mlmodel") + " --input x:2,3");
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find(dir / "p.mlmodel" + ": is a directory") != std::string::npos, r.err);
    CHECK(slurp(dir / "p.mlmodel/keep.txt") == "x");
}

TEST_CASE("a file or a foreign directory at an .mlpackage output path survives with exit 2") {
    CliTempDir dir("out_file_package");
    const std::string model = tinyModel(dir);
    writeText(dir / "f.mlpackage", "mine");
    Run r = runTs2coreml(dir, "convert " + model + " -o " + (dir / "f.mlpackage") + " --input x:2,3");
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find("not an .mlpackage directory") != std::string::npos, r.err);
    CHECK(slurp(dir / "f.mlpackage") == "mine");

    fs::create_directories(dir / "d.mlpackage");
    writeText(dir / "d.mlpackage/notes.txt", "mine");
    r = runTs2coreml(dir, "convert " + model + " -o " + (dir / "d.mlpackage") + " --input x:2,3");
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find("without a Manifest.json") != std::string::npos, r.err);
    CHECK(slurp(dir / "d.mlpackage/notes.txt") == "mine");
}

TEST_CASE("outputs ts2coreml wrote are replaced, in both formats") {
    CliTempDir dir("out_replace");
    const std::string model = tinyModel(dir);
    for (const std::string out : {"m.mlpackage", "m.mlmodel"}) {
        CAPTURE(out);
        Run first = runTs2coreml(dir, "convert " + model + " -o " + (dir / out) + " --input x:2,3");
        REQUIRE_MESSAGE(first.exitCode == 0, first.err);
        Run again = runTs2coreml(dir, "convert " + model + " -o " + (dir / out) + " --input x:2,3");
        CHECK_MESSAGE(again.exitCode == 0, again.err);
        Run verify = runTs2coreml(dir, "verify " + model + " " + (dir / out));
        CHECK_MESSAGE(verify.exitCode == 0, (verify.out + verify.err));
    }
    // No staging entry is left beside them.
    for (const auto& e : fs::directory_iterator(dir.path()))
        CHECK_MESSAGE(e.path().filename().string().find(".partial-") == std::string::npos, e.path());
}

TEST_CASE("the input model is never its own output") {
    CliTempDir dir("out_same");
    const std::string model = tinyModel(dir, "same.mlmodel");
    const std::string before = slurp(model);
    const Run r = runTs2coreml(dir, "convert " + model + " -o " + model + " --input x:2,3");
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find("is the input model itself") != std::string::npos, r.err);
    CHECK(slurp(model) == before);
}

TEST_CASE("output path problems are reported at once with a missing model and YAML errors") {
    CliTempDir dir("out_all_at_once");
    writeText(dir / "bad.yaml", "version: 1\ncomposites:\n  - op: aten::x\n    stepz: []\n");
    const Run r = runTs2coreml(dir, "convert " + (dir / "missing.pt") + " -o " + (dir / "no/such/m.mlpackage") +
                                        " --input x:2,3 --ops " + (dir / "bad.yaml"));
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find("missing.pt: cannot open model: no such file") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("does not exist") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("bad.yaml:") != std::string::npos, r.err);
    const Run ext = runTs2coreml(dir, "convert " + (dir / "missing.pt") + " -o " + (dir / "m.onnx") + " --input x:2,3");
    CHECK(ext.exitCode == 2);
    CHECK(ext.err.find("missing.pt: cannot open model") != std::string::npos);
    CHECK(ext.err.find("unknown output format '.onnx'") != std::string::npos);
}

TEST_CASE("a killed run's staging leftover is removed by the next run at that path; a live run's is not") {
    CliTempDir dir("out_leftovers");
    const std::string model = tinyModel(dir);
    // A process that has exited: its pid names a leftover nobody is writing any more.
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    REQUIRE(child > 0);
    int status = 0;
    ::waitpid(child, &status, 0);
    const fs::path dead = dir / (".m.mlpackage.partial-" + std::to_string(child) + "-0badc0de");
    const fs::path live = dir / (".m.mlpackage.partial-" + std::to_string(::getpid()) + "-0badc0de");
    fs::create_directories(dead / "Data");
    fs::create_directories(live / "Data");
    const Run r = runTs2coreml(dir, "convert " + model + " -o " + (dir / "m.mlpackage") + " --input x:2,3");
    REQUIRE_MESSAGE(r.exitCode == 0, r.err);
    CHECK_FALSE(fs::exists(dead));
    CHECK(fs::exists(live));
}
