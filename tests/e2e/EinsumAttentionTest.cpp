// An attention written with einsum, as users run it: a TorchScript file, `ts2coreml convert` to an
// .mlpackage and an .mlmodel, then `ts2coreml verify` against LibTorch. The sequence lengths may
// also be flexible (an ML Program verified at sizes other than the range's bounds).
#include "TestSupport.h"
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <string>

using namespace ts2coreml::test;

namespace {

// softmax(q k^T / sqrt(d)) v, both products spelled as einsum.
const char* const kAttention = R"(def forward(self, q, k, v):
    scores = torch.einsum('bhqd,bhkd->bhqk', q, k) / (q.size(-1) ** 0.5)
    return torch.einsum('bhqk,bhkd->bhqd', torch.softmax(scores, dim=-1), v))";

void convertAndVerify(const CliTempDir& dir, const std::string& model, const std::string& out,
                      const std::string& inputs, const std::string& verifyInputs = "") {
    CAPTURE(out);
    const Run c = runTs2coreml(dir, "convert " + model + " -o " + (dir / out) + " " + inputs);
    REQUIRE_MESSAGE(c.exitCode == 0, c.err);
    const Run v = runTs2coreml(dir, "verify " + model + " " + (dir / out) + " " + verifyInputs);
    CAPTURE(v.out);
    CAPTURE(v.err);
    CHECK(v.exitCode == 0);
    CHECK(v.out.find("PASS output_0") != std::string::npos);
}

}  // namespace

TEST_CASE("an einsum-based attention converts and verifies end to end") {
    CliTempDir dir("einsum_attention");
    const std::string model = dir / "attention.pt";
    scriptModule(kAttention).save(model);
    const std::string inputs = "--input q:2,4,7,8 --input k:2,4,9,8 --input v:2,4,9,8";
    convertAndVerify(dir, model, "Attention.mlpackage", inputs + " --precision fp32");
    convertAndVerify(dir, model, "Attention16.mlpackage", inputs);
    convertAndVerify(dir, model, "Attention.mlmodel", inputs);
    convertAndVerify(dir, model, "Flexible.mlpackage",
                     "--input q:1,2,1..16,8 --input k:1,2,1..16,8 --input v:1,2,1..16,8",
                     "--input q:1,2,5,8 --input k:1,2,11,8 --input v:1,2,11,8");
}
