// Recurrent networks over packed variable-length sequences (tests/e2e/make_packed_rnn.py: embedding
// -> pack_padded_sequence -> 2-layer bidirectional LSTM / GRU -> pad_packed_sequence -> linear,
// traced with random weights), converted with `ts2coreml convert` and checked with `verify`,
// outputs and final states: with constant lengths in both formats, with lengths as a model input
// (whose longest length sets the output's steps) as an ML Program; a NeuralNetwork has no layer for
// the run-time index arithmetic, and refuses it by name.
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace {

using namespace ts2coreml::test;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void convertAndVerify(CliTempDir& dir, const std::string& model, const std::string& out, const std::string& flags,
                      const std::string& verifyFlags, const std::string& steps, int states) {
    CAPTURE(out);
    Run c = runTs2coreml(dir, "convert " + model + " -o " + (dir / out) + " " + flags);
    REQUIRE_MESSAGE(c.exitCode == 0, c.err);
    Run v = runTs2coreml(dir, "verify " + model + " " + (dir / out) + " " + verifyFlags);
    CAPTURE(v.out);
    CAPTURE(v.err);
    CHECK(v.exitCode == 0);
    CHECK(has(v.out, "PASS output_0 [4," + steps + ",5]"));
    for (int i = 1; i <= states; ++i) CHECK(has(v.out, "PASS output_" + std::to_string(i) + " [4,4,6]"));
}

}  // namespace

TEST_CASE("packed bidirectional LSTM and GRU over variable lengths convert and verify") {
    CliTempDir dir("packed_rnn");
    const std::string script = std::string(TS2COREML_SOURCE_DIR) + "/tests/e2e/make_packed_rnn.py";
    REQUIRE(std::system(("/usr/bin/python3 " + script + " --out " + dir.path().string() + " 2>/dev/null").c_str()) ==
            0);
    const std::string tokens = "--input tokens:4,6:int32";
    const std::string withLengths = tokens + " --input lengths:4:int32";
    for (const auto& [name, states] : {std::pair{std::string("lstm"), 2}, std::pair{std::string("gru"), 1}}) {
        CAPTURE(name);
        const std::string constant = dir / ("packed_" + name + "_const.pt");
        // fp32 programs and layers: tolerance 1e-4 (verify's default); the fp16 program: 1e-3 + 3e-2.
        convertAndVerify(dir, constant, name + "_const.mlpackage", tokens, "", "6", states);
        convertAndVerify(dir, constant, name + "_const32.mlpackage", tokens + " --precision fp32", "", "6", states);
        convertAndVerify(dir, constant, name + "_const.mlmodel", tokens, "", "6", states);

        const std::string input = dir / ("packed_" + name + "_input.pt");
        // The LSTM sorts its lengths (enforce_sorted=False), the GRU takes them sorted.
        const std::string lengths =
            "--input-file lengths=" + (dir / (name == "lstm" ? "lengths_unsorted.pt" : "lengths_sorted.pt"));
        convertAndVerify(dir, input, name + "_input.mlpackage", withLengths, lengths, "5", states);
        convertAndVerify(dir, input, name + "_input32.mlpackage", withLengths + " --precision fp32", lengths, "5",
                         states);
        Run nn = runTs2coreml(dir, "convert " + input + " -o " + (dir / (name + "_input.mlmodel")) + " " + withLengths);
        CHECK(nn.exitCode != 0);
        CHECK_MESSAGE(has(nn.err, "has no NeuralNetwork layer; write an .mlpackage"), nn.err);
    }
}
