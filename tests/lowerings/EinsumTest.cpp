// Contraction lowerings (core/lowerings/Einsum.cpp): einsum equations of one to four operands, with
// repeated subscripts, ellipses and broadcasting, and dot, linalg_vecdot, trace, addbmm, cross.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"einsum batched matmul",
     R"(def forward(self, a, b):
    return torch.einsum('bij,bjk->bik', a, b))",
     {{2, 3, 4}, {2, 4, 5}},
     {{"matmul", 1}, {"transpose", 0}, {"reshape", 0}},
     {{2, 3, 5}}},
    {"einsum attention scores use transpose_y, not a transpose",
     R"(def forward(self, q, k):
    return torch.einsum('bhqd,bhkd->bhqk', q, k))",
     {{2, 3, 5, 4}, {2, 3, 6, 4}},
     {{"matmul", 1}, {"transpose", 0}, {"reshape", 0}},
     {{2, 3, 5, 6}}},
    {"einsum transpose of one operand",
     R"(def forward(self, x):
    return torch.einsum('ij->ji', x))",
     {{3, 4}},
     {{"transpose", 1}, {"matmul", 0}},
     {{4, 3}}},
    {"einsum sum of everything",
     R"(def forward(self, x):
    return torch.einsum('ij->', x))",
     {{3, 4}},
     {{"reduce_sum", 1}},
     {TestOutput({}, DType::Float32)}},
    {"einsum trace by a repeated subscript, implicit output",
     R"(def forward(self, x):
    return torch.einsum('ii', x))",
     {{4, 4}},
     {{"reduce_sum", 1}},
     {TestOutput({}, DType::Float32)}},
    {"einsum diagonal",
     R"(def forward(self, x):
    return torch.einsum('ii->i', x))",
     {{5, 5}},
     {{"reduce_sum", 0}},
     {{5}}},
    {"einsum batched diagonal under an ellipsis",
     R"(def forward(self, x):
    return torch.einsum('...ii->...i', x))",
     {{2, 3, 4, 4}},
     {},
     {{2, 3, 4}}},
    {"einsum repeated subscript in one operand of two",
     R"(def forward(self, a, b):
    return torch.einsum('bii,bi->bi', a, b))",
     {{2, 3, 3}, {2, 3}},
     {{"mul", 1}, {"matmul", 0}},
     {{2, 3}}},
    {"einsum ellipses broadcast against each other",
     R"(def forward(self, a, b):
    return torch.einsum('...ij,...jk->...ik', a, b))",
     {{2, 1, 3, 4}, {5, 4, 6}},
     {{"matmul", 1}},
     {{2, 5, 3, 6}}},
    {"einsum ellipsis summed when the output leaves it out",
     R"(def forward(self, x):
    return torch.einsum('...ij->ij', x))",
     {{2, 3, 4}},
     {{"reduce_sum", 1}},
     {{3, 4}}},
    {"einsum three operands",
     R"(def forward(self, a, b, c):
    return torch.einsum('ij,jk,kl->il', a, b, c))",
     {{3, 4}, {4, 5}, {5, 2}},
     {{"matmul", 2}},
     {{3, 2}}},
    {"einsum four operands, a subscript summed before any product",
     R"(def forward(self, a, b, c, d):
    return torch.einsum('abc,cd,de,a->be', a, b, c, d))",
     {{2, 3, 4}, {4, 5}, {5, 6}, {2}},
     {},
     {{3, 6}}},
    {"einsum outer product",
     R"(def forward(self, a, b):
    return torch.einsum('i,j->ij', a, b))",
     {{3}, {4}},
     {{"mul", 1}, {"matmul", 0}},
     {{3, 4}}},
    {"einsum elementwise product summed per row",
     R"(def forward(self, a, b):
    return torch.einsum('ij,ij->i', a, b))",
     {{3, 4}, {3, 4}},
     {{"matmul", 1}},
     {{3}}},
    {"einsum implicit output in alphabetical order",
     R"(def forward(self, a, b):
    return torch.einsum('kj,ji', a, b))",
     {{3, 4}, {4, 5}},
     {},
     {{5, 3}}},
    {"einsum summed subscript of size 1 broadcasts",
     R"(def forward(self, a, b):
    return torch.einsum('ij,jk->ik', a, b))",
     {{2, 1}, {3, 4}},
     {},
     {{2, 4}}},
    {"einsum merging several free dims into one matmul",
     R"(def forward(self, a, b):
    return torch.einsum('abc,cde->abde', a, b))",
     {{2, 3, 4}, {4, 5, 6}},
     {{"matmul", 1}, {"reshape", 3}},
     {{2, 3, 5, 6}}},
    {"einsum of int tensors",
     R"(def forward(self, a, b):
    return torch.einsum('ij,jk->ik', a, b))",
     {intInput({3, 4}), intInput({4, 2})},
     {{"matmul", 1}},
     {TestOutput({3, 2}, DType::Int32)}},
    {"einsum with a dynamic sequence length",
     R"(def forward(self, q, k):
    return torch.einsum('bhqd,bhkd->bhqk', q, k))",
     {dynamicInput({1, 2, 5, 4}, {2}), {1, 2, 6, 4}},
     {{"matmul", 1}},
     {{1, 2, kSymbolic, 6}}},
    {"einsum merging a dynamic dim",
     R"(def forward(self, a, b):
    return torch.einsum('abc,cd->abd', a, b))",
     {dynamicInput({2, 3, 4}, {0}), {4, 5}},
     {{"matmul", 1}},
     {{kSymbolic, 3, 5}}},
    {"an einsum attention: softmax(q k^T / sqrt(d)) v",
     R"(def forward(self, q, k, v):
    scores = torch.einsum('bhqd,bhkd->bhqk', q, k) / (q.size(-1) ** 0.5)
    return torch.einsum('bhqk,bhkd->bhqd', torch.softmax(scores, dim=-1), v))",
     {{2, 4, 7, 8}, {2, 4, 9, 8}, {2, 4, 9, 8}},
     {{"matmul", 2}, {"softmax", 1}, {"transpose", 0}},
     {{2, 4, 7, 8}}},
    {"dot",
     R"(def forward(self, a, b):
    return torch.dot(a, b))",
     {{6}, {6}},
     {{"mul", 1}, {"reduce_sum", 1}},
     {TestOutput({}, DType::Float32)}},
    {"linalg_vecdot broadcasting, on a negative dim",
     R"(def forward(self, a, b):
    return torch.linalg_vecdot(a, b, dim=-2))",
     {{2, 3, 4}, {3, 4}},
     {{"reduce_sum", 1}},
     {{2, 4}}},
    {"trace of a wide matrix",
     R"(def forward(self, x):
    return torch.trace(x))",
     {{4, 6}},
     {{"reduce_sum", 1}},
     {TestOutput({}, DType::Float32)}},
    {"trace of an int matrix",
     R"(def forward(self, x):
    return torch.trace(x))",
     {intInput({3, 3})},
     {{"reduce_sum", 1}},
     {TestOutput({}, DType::Int32)}},
    {"addbmm with beta and alpha",
     R"(def forward(self, x, a, b):
    return torch.addbmm(x, a, b, beta=0.5, alpha=2.0))",
     {{3, 5}, {4, 3, 2}, {4, 2, 5}},
     {{"matmul", 1}},
     {{3, 5}}},
    {"cross on dim 1, linalg_cross on the last dim",
     R"(def forward(self, a, b):
    return torch.cross(a, b, dim=1), torch.linalg_cross(a.transpose(1, 2), b.transpose(1, 2)))",
     {{2, 3, 4}, {2, 3, 4}},
     {{"gather", 8}},
     {{2, 3, 4}, {2, 4, 3}}},
    {"cross without dim takes the first dim of size 3",
     R"(def forward(self, a, b):
    return torch.cross(a, b))",
     {{4, 3}, {4, 3}},
     {{"gather", 4}},
     {{4, 3}}},
};

const std::vector<RefusedCase> kRefused = {
    {"einsum with too few subscripts",
     R"(def forward(self, x):
    return torch.einsum('ij->i', x))",
     {{2, 3, 4}},
     {"einsum subscripts 'ij'", "fp32[2,3,4]"}},
    {"einsum output naming an unknown subscript",
     R"(def forward(self, x):
    return torch.einsum('ij->k', x))",
     {{2, 3}},
     {"'k' appears in no operand"}},
    {"diagonal of a dynamic matrix by einsum",
     R"(def forward(self, x):
    return torch.einsum('ii->i', x))",
     {dynamicInput({3, 3}, {0})},
     {"diagonal", "static size"}},
};

}  // namespace

TEST_CASE("Einsum lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Einsum lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("Einsum lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("Einsum lowering cases match LibTorch numerically as NeuralNetwork layers") {
    checkNeuralNetworkNumerics(numericCases(kCases));
}
