// How verify compares an output (core/runtime/Verification.cpp): floats within a tolerance of the
// output's scale, integers exactly.
#include "verify/Verification.h"

#include <doctest/doctest.h>

using namespace ts2coreml;

TEST_CASE("an integer output must equal LibTorch's exactly, whatever the tolerance") {
    const verify::Tolerance loose = verify::fp16Tolerance();  // rtol 3e-2 of a scale of 250 would allow 7
    const at::Tensor tokens = at::tensor({4, 9, 250, 17}, at::kLong);
    verify::OutputComparison same = verify::compareOutput("t", tokens, tokens.to(at::kInt), loose);
    CHECK(same.exact);
    CHECK(same.pass);

    at::Tensor off = tokens.to(at::kInt).clone();
    off[2] = 249;
    verify::OutputComparison differs = verify::compareOutput("t", tokens, off, loose);
    CHECK(differs.exact);
    CHECK_FALSE(differs.pass);
    CHECK(differs.problem == "1 of 4 integers differ");

    // A generated sentence of another length: the shapes differ.
    verify::OutputComparison shorter = verify::compareOutput("t", tokens, tokens.slice(0, 0, 3).to(at::kInt), loose);
    CHECK_FALSE(shorter.pass);
}

TEST_CASE("a float output passes within atol + rtol * scale") {
    const at::Tensor ref = at::tensor({1.0f, -2.0f, 4.0f});
    verify::OutputComparison near = verify::compareOutput("y", ref, ref + 1e-3, verify::fp16Tolerance());
    CHECK_FALSE(near.exact);
    CHECK(near.pass);
    verify::OutputComparison far = verify::compareOutput("y", ref, ref + 1.0, verify::fp16Tolerance());
    CHECK_FALSE(far.pass);
}
