// Absurd and inconsistent input is refused at once, in one line each, exit 2: input sizes no tensor
// can have, a zero size, a forward() argument that is no tensor, a model traced in training mode, a
// composite file of several YAML documents, Swift stubs already there. A failed write names its
// reason (errno), and no LibTorch backtrace reaches a user.
#include "e2e/CliTestSupport.h"

#include <torch/script.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace ts2coreml::test;
namespace fs = std::filesystem;

namespace {

std::string reluModel(const CliTempDir& dir) {
    const std::string path = dir / "relu.pt";
    scriptModule("def forward(self, x):\n    return torch.relu(x)").save(path);
    return path;
}

/// LibTorch's C++ backtrace, which a user must never see.
void checkNoBacktrace(const Run& r) {
    CHECK_MESSAGE(r.err.find("Exception raised from") == std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("frame #") == std::string::npos, r.err);
}

size_t lineCount(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST_CASE("input sizes that cannot exist are refused at parse time, one line, exit 2") {
    CliTempDir dir("absurd_dims");
    const std::string model = reluModel(dir);
    struct Case {
        const char* spec;
        const char* message;
    };
    const Case cases[] = {
        {"x:1099511627776,8", "dimension 1099511627776 is too large (at most 2147483647"},
        {"x:4611686018427387904", "dimension 4611686018427387904 is too large"},
        {"x:99999999999999999999999", "dimension 99999999999999999999999 is too large"},
        {"x:2147483647,2147483647,2147483647", "the shape has more than 2^63 elements"},
        {"x:2147483647,2147483647,2", "elements take more than 2^63 bytes"},
        {"x:1..2147483647,2147483647,2147483647", "the shape has more than 2^63 elements"},
        {"'x:2,2|2147483647,2147483647,2147483647'", "enumerated shapes must have one rank"},
        {"'x:2,2,2|2147483647,2147483647,2147483647'", "the shape has more than 2^63 elements"},
        {"x:0,8", "a dimension of 0: Core ML inputs have no empty dimensions"},
        {"x:0..8", "a dimension of 0"},
        {"x:-1,8", "bad dimension '-1'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.spec);
        const std::string out = dir / "o.mlpackage";
        const Run r = runTs2coreml(dir, "convert " + model + " -o " + out + " --input " + c.spec);
        CHECK(r.exitCode == 2);
        CHECK_MESSAGE(r.err.find(c.message) != std::string::npos, r.err);
        CHECK_MESSAGE(lineCount(r.err) == 1, r.err);
        CHECK_FALSE(fs::exists(out));
        checkNoBacktrace(r);
    }
    // verify parses --input the same way.
    const Run v = runTs2coreml(dir, "verify " + model + " " + (dir / "none.mlpackage") + " --input x:1099511627776,8");
    CHECK(v.exitCode == 2);
    CHECK_MESSAGE(v.err.find("dimension 1099511627776 is too large") != std::string::npos, v.err);
    checkNoBacktrace(v);
}

TEST_CASE("a str, int or list argument of forward() declared with --input is named with its type") {
    CliTempDir dir("absurd_args");
    const std::string model = dir / "args.pt";
    scriptModule(R"(def forward(self, x, n: int, s: str, l: List[int]):
    return x * n)")
        .save(model);
    const Run r = runTs2coreml(dir, "convert " + model + " -o " + (dir / "a.mlpackage") +
                                        " --input x:2 --input n:1 --input s:1 " + "--input l:3");
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find("forward() argument 'n' has type int, not Tensor: --input 'n' declares a tensor") !=
                      std::string::npos,
                  r.err);
    CHECK_MESSAGE(r.err.find("forward() argument 's' has type str, not Tensor") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("forward() argument 'l' has type List[int], not Tensor") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("'x'") == std::string::npos, r.err);
    CHECK_FALSE(fs::exists(dir / "a.mlpackage"));
    checkNoBacktrace(r);
}

TEST_CASE("no LibTorch backtrace reaches stderr from failing commands") {
    CliTempDir dir("absurd_backtrace");
    const std::string model = reluModel(dir);
    const std::string out = dir / "r.mlpackage";
    REQUIRE(runTs2coreml(dir, "convert " + model + " -o " + out + " --input x:2,3").exitCode == 0);
    // Any width converts, and LibTorch's matmul then fails on all but 3 (a c10::Error).
    const std::string matmul = dir / "matmul.pt", flexible = dir / "m.mlpackage";
    scriptModule("def forward(self, x):\n    return torch.matmul(x, torch.ones(3, 4))").save(matmul);
    const Run c = runTs2coreml(dir, "convert " + matmul + " -o " + flexible + " --input x:2,1..5");
    CHECK_MESSAGE(c.exitCode == 0, c.err);
    std::ofstream(dir / "text.pt") << "not a model";
    std::ofstream(dir / "bad.npy") << "\x93NUMPY garbage";
    const std::string commands[] = {
        "verify " + matmul + " " + flexible + " --input x:2,5",
        "verify " + model + " " + out + " --input x:3,3",
        "verify " + model + " " + out + " --input-file x=" + (dir / "bad.npy"),
        "verify " + (dir / "text.pt") + " " + out,
        "convert " + (dir / "text.pt") + " -o " + (dir / "t.mlpackage") + " --input x:2",
        "convert " + model + " -o " + (dir / "u.mlpackage") + " --input x:2,3 --input y:2",
        "inspect " + (dir / "text.pt"),
    };
    for (const std::string& command : commands) {
        CAPTURE(command);
        const Run r = runTs2coreml(dir, command);
        CHECK(r.exitCode != 0);
        CHECK(!r.err.empty());
        checkNoBacktrace(r);
    }
}

TEST_CASE("a model traced in training mode is refused with the reason, at the user's line") {
    CliTempDir dir("absurd_train");
    const std::string model = dir / "train.pt";
    const std::string script = dir / "make.py";
    std::ofstream(script) << R"(import sys, torch
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))
torch.jit.trace(Net(), torch.randn(1, 3, 8, 8), check_trace=False).save(sys.argv[1])
)";
    REQUIRE(std::system(("/usr/bin/python3 " + script + " " + model).c_str()) == 0);
    const Run r = runTs2coreml(dir, "convert " + model + " -o " + (dir / "t.mlpackage") + " --input x:1,3,8,8");
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find("was traced in training mode") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("model.eval()") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("make.py:8") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("prim::GetAttr") == std::string::npos, r.err);
    checkNoBacktrace(r);
}

TEST_CASE("a composite file of several YAML documents is an error at the second one") {
    CliTempDir dir("absurd_yaml_docs");
    const std::string yaml = dir / "two.yaml";
    std::ofstream(yaml) << R"(version: 1
composites: [{op: aten::special_ndtr, steps: [{mil: erf, x: $self}]}]
---
version: 1
composites: []
)";
    Run r = runTs2coreml(dir, "ops --ops " + yaml);
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find(yaml + ":4:1: error: a second YAML document") != std::string::npos, r.err);

    // An empty document after the separator too, at its '---' line.
    std::ofstream(yaml) << "version: 1\ncomposites: []\n---\n";
    r = runTs2coreml(dir, "ops --ops " + yaml);
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find(yaml + ":3:1: error: a second YAML document") != std::string::npos, r.err);

    // A leading '---' is one document.
    std::ofstream(yaml) << "---\nversion: 1\ncomposites: []\n";
    r = runTs2coreml(dir, "ops --ops " + yaml);
    CHECK_MESSAGE(r.exitCode == 0, r.err);
}

TEST_CASE("stubs never replaces a Swift file without --force, naming it") {
    CliTempDir dir("absurd_stubs");
    const std::string yaml = dir / "layer.yaml";
    std::ofstream(yaml) << R"(version: 1
composites:
  - op: aten::hardshrink
    override: true
    custom_layer:
      class: HardShrink
      parameters: {lambd: $lambd}
      inputs: [$self]
      outputs: [{like: $self}]
)";
    const std::string model = dir / "hs.pt", mlmodel = dir / "hs.mlmodel";
    scriptModule("def forward(self, x):\n    return torch.hardshrink(x, 0.5)").save(model);
    REQUIRE(runTs2coreml(dir, "convert " + model + " -o " + mlmodel + " --input x:3 --ops " + yaml).exitCode == 0);

    const fs::path stubs = dir.path() / "stubs";
    fs::create_directories(stubs);
    std::ofstream(stubs / "HardShrink.swift") << "// my evaluate()\n";
    Run r = runTs2coreml(dir, "stubs " + mlmodel + " -o " + stubs.string());
    CHECK(r.exitCode == 2);
    CHECK_MESSAGE(r.err.find((stubs / "HardShrink.swift").string() + ": error: the file exists") != std::string::npos,
                  r.err);
    CHECK(slurp(stubs / "HardShrink.swift") == "// my evaluate()\n");
    CHECK_FALSE(fs::exists(stubs / "README.md"));

    r = runTs2coreml(dir, "stubs " + mlmodel + " -o " + stubs.string() + " --force");
    CHECK_MESSAGE(r.exitCode == 0, r.err);
    CHECK(slurp(stubs / "HardShrink.swift").find("class HardShrink") != std::string::npos);
}

TEST_CASE("a failed write names its reason") {
    CliTempDir dir("absurd_write");
    const std::string model = dir / "big.pt";
    torch::jit::Module m("Big");
    m.register_parameter("w", at::randn({256, 256}), false);
    m.define("def forward(self, x):\n    return torch.matmul(x, self.w)\n");
    m.save(model);
    // A file size limit of 64 KiB (ignoring SIGXFSZ, so that write fails with EFBIG).
    for (const std::string out : {"big.mlpackage", "big.mlmodel"}) {
        CAPTURE(out);
        const std::string cmd = "sh -c 'ulimit -f 128; trap \"\" XFSZ; exec " + std::string(TS2COREML_BIN) +
                                " convert " + model + " -o " + (dir / out) + " --input x:2,256' 2>" + (dir / "err.txt");
        const int status = std::system(cmd.c_str());
        const std::string err = slurp(dir / "err.txt");
        CHECK(WEXITSTATUS(status) == 1);
        CHECK_MESSAGE(err.find("write failed: File too large") != std::string::npos, err);
        CHECK_FALSE(fs::exists(dir / out));
    }
}
