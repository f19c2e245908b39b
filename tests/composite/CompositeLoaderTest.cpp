// The composite-file loader: what a valid file registers, and each error a user can make, reported
// at its FILE:LINE:COL (all of them in one run).
#include "composite/Composite.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <fstream>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

/// Writes `text` as NAME in a fresh directory and registers it (after the built-ins).
struct LoadedFile {
    TempDir dir{"composite-loader"};
    std::string path;
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    std::vector<std::string> errors;

    explicit LoadedFile(const std::string& text, const std::string& name = "my_ops.yaml") {
        path = (dir.path() / name).string();
        std::ofstream(path) << text;
        errors = composite::registerCompositeFiles({path}, registry);
    }
    /// The one error, which must start with PATH:LINE:COL and mention `what`.
    void expectOneError(int line, int column, const std::string& what) const {
        INFO("errors: " << joined());
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].rfind(path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: ", 0) == 0);
        CHECK(errors[0].find(what) != std::string::npos);
    }
    std::string joined() const {
        std::string s;
        for (const auto& e : errors) s += e + "\n";
        return s;
    }
};

}  // namespace

TEST_CASE("a valid composite file registers each composite with its FILE:LINE as provider") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::softshrink
    steps:
      - {mil: sub, x: $self, y: $lambd, out: above}
      - {mil: relu, x: $above}

  - op: aten::relu
    override: true
    steps:
      - {mil: relu, x: $self}
)");
    INFO(f.joined());
    REQUIRE(f.errors.empty());
    const LoweringEntry* softshrink = f.registry.find("aten::softshrink", "", Target::iOS15);
    REQUIRE(softshrink);
    CHECK(softshrink->provider == f.path + ":3");
    const LoweringEntry* relu = f.registry.find("aten::relu", "", Target::iOS15);
    REQUIRE(relu);
    CHECK(relu->provider == f.path + ":8");
    CHECK(relu->overrode == "built-in");
}

TEST_CASE("a YAML syntax error is reported at its line") {
    LoadedFile f("version: 1\ncomposites:\n  - op: aten::softshrink\n    steps: [ {mil: relu\n");
    REQUIRE(f.errors.size() == 1);
    CHECK(f.errors[0].rfind(f.path + ":", 0) == 0);
    CHECK(f.errors[0].find(": error: ") != std::string::npos);
}

TEST_CASE("an unknown key is reported at the key") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::softshrink
    stpes:
      - {mil: relu, x: $self}
)");
    // Two problems: the misspelt key, and no steps.
    INFO(f.joined());
    REQUIRE(f.errors.size() == 2);
    CHECK(f.errors[0].rfind(f.path + ":4:5: error: unknown key 'stpes' in a composite", 0) == 0);
    CHECK(f.errors[1].find("needs 'steps:'") != std::string::npos);
}

TEST_CASE("an unknown MIL op is reported at its name") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::softshrink
    steps:
      - {mil: relux, x: $self}
)");
    f.expectOneError(5, 15, "unknown MIL op 'relux'");
}

TEST_CASE("an unknown torch op is reported in op and in a step") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::not_an_op
    steps:
      - {mil: relu, x: $self}
  - op: aten::softshrink
    steps:
      - {torch: aten::sigmod, self: $self}
)");
    INFO(f.joined());
    REQUIRE(f.errors.size() == 2);
    CHECK(f.errors[0].rfind(f.path + ":3:9: error: unknown torch op 'aten::not_an_op'", 0) == 0);
    CHECK(f.errors[1].rfind(f.path + ":8:17: error: unknown torch op 'aten::sigmod'", 0) == 0);
}

TEST_CASE("an input the MIL op does not have, and a missing required input") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::softshrink
    steps:
      - {mil: clip, x: $self, alpha: 0.0, gamma: 1.0}
)");
    INFO(f.joined());
    REQUIRE(f.errors.size() == 2);
    CHECK(f.errors[0].rfind(f.path + ":5:43: error: MIL op 'clip' has no input 'gamma'", 0) == 0);
    CHECK(f.errors[1].rfind(f.path + ":5:9: error: MIL op 'clip' needs input 'beta'", 0) == 0);
}

TEST_CASE("wrong attribute types: a string for ints, a tensor for a constant") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::softshrink
    steps:
      - {mil: reduce_sum, x: $self, axes: 'one', out: a}
      - {mil: reduce_sum, x: $a, axes: $self}
)");
    INFO(f.joined());
    REQUIRE(f.errors.size() == 2);
    CHECK(f.errors[0].rfind(
              f.path + ":5:37: error: input 'axes' of MIL op 'reduce_sum' takes int32; it is given a string", 0) == 0);
    CHECK(f.errors[1].rfind(f.path + ":6:34: error: input 'axes' of MIL op 'reduce_sum' must be a constant", 0) == 0);
}

TEST_CASE("a reference to an undefined name") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::softshrink
    steps:
      - {mil: relu, x: $slef}
)");
    f.expectOneError(5, 21, "undefined name '$slef' (defined here: $lambd, $self)");
}

TEST_CASE("composites that call each other in a cycle") {
    LoadedFile f(R"(version: 1
composites:
  - op: mylib::ping
    schema: "mylib::ping(Tensor x) -> Tensor"
    steps:
      - {torch: mylib::pong, x: $x}
  - op: mylib::pong
    schema: "mylib::pong(Tensor x) -> Tensor"
    steps:
      - {torch: mylib::ping, x: $x}
)");
    f.expectOneError(10, 17,
                     "composites call each other in a cycle: mylib::ping (" + f.path + ":3) -> mylib::pong (" + f.path +
                         ":7) -> mylib::ping");
    CHECK_FALSE(f.registry.find("mylib::ping", "", Target::iOS15));
}

TEST_CASE("a duplicate of a built-in without override, and a duplicate within the files") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::relu
    steps:
      - {mil: relu, x: $self}
  - op: aten::softshrink
    steps:
      - {mil: relu, x: $self}
  - op: aten::softshrink
    steps:
      - {mil: relu, x: $self}
)");
    INFO(f.joined());
    REQUIRE(f.errors.size() == 2);
    CHECK(f.errors[0].rfind(f.path + ":3:5: error: 'aten::relu' is already lowered by built-in; add 'override: true'",
                            0) == 0);
    CHECK(f.errors[1].rfind(f.path + ":9:5: error: 'aten::softshrink' is already lowered by " + f.path + ":6", 0) == 0);
    // Nothing of a file with errors is registered.
    CHECK_FALSE(f.registry.find("aten::softshrink", "", Target::iOS15));
}

TEST_CASE("every error of a file is reported in one run") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::softshrink
    min_target: iOS99
    require: {lambda: 0.5}
    steps:
      - {mil: relu, x: $self}
  - op: mylib::bad
    schema: "mylib::bad(Tensor x -> Tensor"
    steps:
      - {mil: relu, x: $x}
  - op: aten::hardshrink
    outputs: [$a, $b]
    steps:
      - {mil: relu, x: $self, out: a}
)");
    INFO(f.joined());
    REQUIRE(f.errors.size() == 6);
    CHECK(f.errors[0].rfind(f.path + ":9:13: error: the schema does not parse", 0) == 0);
    CHECK(f.errors[1].rfind(f.path + ":4:17: error: unknown deployment target 'iOS99'", 0) == 0);
    CHECK(f.errors[2].rfind(f.path + ":5:15: error: 'aten::softshrink' has no argument 'lambda'", 0) == 0);
    CHECK(f.errors[3].rfind(f.path + ":8:9: error: unknown torch op 'mylib::bad'", 0) == 0);
    CHECK(f.errors[4].rfind(f.path + ":13:19: error: undefined name '$b'", 0) == 0);
    CHECK(f.errors[5].rfind(f.path + ":13:14: error: 'aten::hardshrink' returns 1 value(s); 'outputs' lists 2", 0) ==
          0);
}

TEST_CASE("custom-layer mappings are checked too") {
    LoadedFile f(R"(version: 1
composites:
  - op: aten::softshrink
    custom_layer:
      class: Soft Shrink
      parameters: {lambda: $self}
      inputs: [$self]
)");
    INFO(f.joined());
    REQUIRE(f.errors.size() == 3);
    CHECK(f.errors[0].rfind(f.path + ":5:14: error: class name 'Soft Shrink' is not an identifier", 0) == 0);
    CHECK(f.errors[1].rfind(f.path + ":6:28: error: parameter 'lambda' must be an int, float, bool or string constant",
                            0) == 0);
    CHECK(f.errors[2].find("needs 'outputs:'") != std::string::npos);
}

TEST_CASE("the shipped ops.yaml loads with no problem") {
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    const std::string shipped = std::string(TS2COREML_SOURCE_DIR) + "/ops.yaml";
    const auto errors = composite::registerCompositeFiles({shipped}, registry);
    for (const auto& e : errors) FAIL_CHECK(e);
    const LoweringEntry* e = registry.find("aten::hardshrink", "", Target::iOS15);
    REQUIRE(e);
    CHECK(e->provider.rfind(shipped + ":", 0) == 0);
}
