// A speech front end as users write it — |stft| of a [1, 16000] waveform (n_fft 400, hop 160, hann
// window), log(x + 1e-6), a mel filter bank matmul — traced and scripted by
// tests/e2e/make_stft_frontend.py, converted with `ts2coreml convert` and checked with
// `ts2coreml verify` (its default fp32 tolerance: atol 1e-4 + rtol 1e-4 of the output's scale).
#include "TestSupport.h"
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

using namespace ts2coreml::test;

namespace {

void convertAndVerify(const CliTempDir& dir, const std::string& model, const std::string& out) {
    CAPTURE(model);
    CAPTURE(out);
    const Run c = runTs2coreml(dir, "convert " + model + " -o " + (dir / out) + " --input waveform:1,16000" +
                                        (out.find(".mlpackage") != std::string::npos ? " --precision fp32" : ""));
    REQUIRE_MESSAGE(c.exitCode == 0, c.err);
    const Run v = runTs2coreml(dir, "verify " + model + " " + (dir / out));
    CAPTURE(v.out);
    CAPTURE(v.err);
    CHECK(v.exitCode == 0);
    CHECK(v.out.find("PASS output_0 [1,101,40]") != std::string::npos);
}

}  // namespace

TEST_CASE("an STFT magnitude front end converts and verifies end to end") {
    CliTempDir dir("stft_frontend");
    const std::string script = std::string(TS2COREML_SOURCE_DIR) + "/tests/e2e/make_stft_frontend.py";
    REQUIRE(std::system(("/usr/bin/python3 " + script + " --out " + dir.path().string()).c_str()) == 0);
    for (const char* form : {"traced", "scripted"}) {
        const std::string model = dir / ("stft_frontend_" + std::string(form) + ".pt");
        convertAndVerify(dir, model, std::string(form) + ".mlpackage");
        convertAndVerify(dir, model, std::string(form) + ".mlmodel");
    }
}
