// A 2-layer nn.TransformerEncoder (d_model 32, 4 heads, batch_first) traced in eval mode under
// no_grad (samples/make_models.py: transformer_encoder.pt), whose layers torch traces as its fused
// aten::_transformer_encoder_layer_fwd: `ts2coreml convert` to an fp32 .mlpackage and an .mlmodel,
// then `ts2coreml verify` against LibTorch.
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <string>

using namespace ts2coreml::test;

TEST_CASE("a traced nn.TransformerEncoder of fused layers converts and verifies end to end") {
    CliTempDir dir("transformer_encoder");
    const std::string pt = model("transformer_encoder");
    for (const char* file : {"Encoder.mlpackage", "Encoder.mlmodel"}) {
        CAPTURE(file);
        const std::string out = dir / file;
        const Run c = runTs2coreml(
            dir, "convert " + pt + " -o " + out + " " + inputFlag("transformer_encoder") + " --precision fp32");
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);
        const Run v = runTs2coreml(dir, "verify " + pt + " " + out);
        CAPTURE(v.out);
        CAPTURE(v.err);
        CHECK(v.exitCode == 0);
        CHECK(v.out.find("PASS output_0 [2,10,32]") != std::string::npos);
    }
}
