// The LSTM tagger sample (samples/make_models.py: token ids -> embedding -> bidirectional LSTM ->
// linear -> log_softmax, traced with random weights) as users run it: converted and verified as an
// ML Program (fp16, the default, and fp32) and as a NeuralNetwork, its LSTM one lstm op (a
// BiDirectionalLSTM layer in the .mlmodel).
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using namespace ts2coreml::test;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("an LSTM tagger (embedding, bidirectional LSTM, linear, log_softmax) converts and verifies in both formats") {
    CliTempDir dir("lstm_tagger");
    const std::string pt = model("lstm_tagger");
    struct Form {
        const char* file;
        const char* flags;
    };
    for (const Form& f :
         {Form{"Tagger.mlpackage", ""}, Form{"Tagger32.mlpackage", " --precision fp32"}, Form{"Tagger.mlmodel", ""}}) {
        CAPTURE(f.file);
        const std::string out = dir / f.file;
        Run c = runTs2coreml(dir, "convert " + pt + " -o " + out + " " + inputFlag("lstm_tagger") + f.flags);
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);

        Run v = runTs2coreml(dir, "verify " + pt + " " + out);
        CAPTURE(v.out);
        CAPTURE(v.err);
        CHECK(v.exitCode == 0);
        CHECK(has(v.out, "PASS output_0 [1,12,9]"));

        Run i = runTs2coreml(dir, "inspect " + out);
        REQUIRE_MESSAGE(i.exitCode == 0, i.err);
        CAPTURE(i.out);
        CHECK(has(i.out, "lstm"));
        CHECK_FALSE(has(i.out, "while_loop"));
    }
}
