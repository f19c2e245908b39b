// The sentence-completion demo (samples/sentence/finish_my_sentence.py: a traced GPT-2-style
// next-token predictor inside a scripted generation loop) as users run it: converted with a flexible
// 1..64 int32 input, then verified at two input lengths with the generated tokens equal exactly,
// as an ML Program and as a NeuralNetwork.
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using namespace ts2coreml::test;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE(
    "the sentence-completion demo converts with a 1..64 input and verifies at two lengths, tokens exactly equal") {
    CliTempDir dir("sentence");
    const std::string pt = model("finish_my_sentence");
    // An ML Program, and a NeuralNetwork whose loop is a LoopLayer.
    for (const char* file : {"FinishMySentence.mlpackage", "FinishMySentence.mlmodel"}) {
        CAPTURE(file);
        const std::string out = dir / file;
        Run c = runTs2coreml(
            dir, "convert " + pt + " -o " + out + " " + inputFlag("finish_my_sentence") + " --output sentence");
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);
        // Core ML has no int64: the int32 declaration of torch's int64 token ids is pointed out.
        CHECK(has(c.err, "warning: input 'tokens' is declared int32"));

        for (const char* length : {"5", "17"}) {
            CAPTURE(length);
            Run v = runTs2coreml(dir, "verify " + pt + " " + out + " --input tokens:" + length);
            CAPTURE(v.out);
            CAPTURE(v.err);
            CHECK(v.exitCode == 0);
            CHECK(has(v.out, "PASS sentence"));
            CHECK(has(v.out, "integers, compared exactly"));
        }

        // The loop is one while_loop whose body holds the whole predictor.
        Run i = runTs2coreml(dir, "inspect " + out);
        REQUIRE_MESSAGE(i.exitCode == 0, i.err);
        CHECK(has(i.out, "(1..64)"));
        CHECK(has(i.out, "in nested blocks"));
        CHECK(has(i.out, "while_loop"));
        CHECK(has(i.out, "body: "));
    }
}
