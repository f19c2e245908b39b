// How verify compares an output (core/runtime/Verification.cpp): floats within a tolerance of the
// output's scale, integers exactly.
#include "runtime/Verification.h"

#include <doctest/doctest.h>

using namespace ts2coreml;

TEST_CASE("an integer output must equal LibTorch's exactly, whatever the tolerance") {
    const runtime::Tolerance loose = runtime::fp16Tolerance();  // rtol 3e-2 of a scale of 250 would allow 7
    const at::Tensor tokens = at::tensor({4, 9, 250, 17}, at::kLong);
    runtime::OutputComparison same = runtime::compareOutput("t", tokens, tokens.to(at::kInt), loose);
    CHECK(same.exact);
    CHECK(same.pass);

    at::Tensor off = tokens.to(at::kInt).clone();
    off[2] = 249;
    runtime::OutputComparison differs = runtime::compareOutput("t", tokens, off, loose);
    CHECK(differs.exact);
    CHECK_FALSE(differs.pass);
    CHECK(differs.problem == "1 of 4 integers differ");

    // A generated sentence of another length: the shapes differ.
    runtime::OutputComparison shorter = runtime::compareOutput("t", tokens, tokens.slice(0, 0, 3).to(at::kInt), loose);
    CHECK_FALSE(shorter.pass);
}

TEST_CASE("a float output passes within atol + rtol * scale") {
    const at::Tensor ref = at::tensor({1.0f, -2.0f, 4.0f});
    runtime::OutputComparison near = runtime::compareOutput("y", ref, ref + 1e-3, runtime::fp16Tolerance());
    CHECK_FALSE(near.exact);
    CHECK(near.pass);
    runtime::OutputComparison far = runtime::compareOutput("y", ref, ref + 1.0, runtime::fp16Tolerance());
    CHECK_FALSE(far.pass);
}
