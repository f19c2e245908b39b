// Linear algebra lowerings (core/lowerings/LinearAlgebra.cpp), checked against LibTorch in both
// formats with the default fp32 tolerance (atol 1e-4 + rtol 1e-4 of the output's scale). The
// inverses are of matrices made well conditioned (x + 4 I), so that fp32 rounding stays small.
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"cdist, p = 2 by differences (small sets)",
     R"(def forward(self, x, y):
    return torch.cdist(x, y))",
     {{5, 3}, {4, 3}},
     {{"matmul", 0}, {"sqrt", 1}},
     {{5, 4}}},
    {"cdist, p = 2 by the expanded form (more than 25 rows)",
     R"(def forward(self, x, y):
    return torch.cdist(x, y))",
     {{2, 30, 4}, {2, 7, 4}},
     {{"matmul", 1}, {"maximum", 1}, {"sqrt", 1}},
     {{2, 30, 7}}},
    {"cdist, p = 2 forced to the expanded form (compute_mode 1)",
     R"(def forward(self, x, y):
    return torch.cdist(x, y, 2.0, 1))",
     {{3, 6, 4}, {3, 5, 4}},
     {{"matmul", 1}},
     {{3, 6, 5}}},
    {"cdist, p = 2 kept from the expanded form (compute_mode 2)",
     R"(def forward(self, x, y):
    return torch.cdist(x, y, 2.0, 2))",
     {{40, 3}, {30, 3}},
     {{"matmul", 0}},
     {{40, 30}}},
    {"cdist, p = 1, broadcast batch",
     R"(def forward(self, x, y):
    return torch.cdist(x, y, p=1.0))",
     {{2, 5, 3}, {1, 4, 3}},
     {{"reduce_sum", 1}},
     {{2, 5, 4}}},
    {"cdist, p = 3",
     R"(def forward(self, x, y):
    return torch.cdist(x, y, 3.0))",
     {{5, 3}, {4, 3}},
     {{"pow", 2}},
     {{5, 4}}},
    {"cdist, p = inf",
     R"(def forward(self, x, y):
    return torch.cdist(x, y, float('inf')))",
     {{5, 3}, {4, 3}},
     {{"reduce_max", 1}},
     {{5, 4}}},
    {"cdist, p = 0",
     R"(def forward(self, x, y):
    return torch.cdist(x, y, 0.0))",
     {{5, 3}, {4, 3}},
     {{"not_equal", 1}},
     {{5, 4}}},
    {"det of 1 x 1",
     R"(def forward(self, x):
    return torch.det(x))",
     {{3, 1, 1}},
     {{"gather", 1}},
     {{3}}},
    {"det of 2 x 2",
     R"(def forward(self, x):
    return torch.linalg_det(x))",
     {{2, 2}},
     {{"gather", 1}, {"reduce_prod", 1}, {"linear", 1}},
     {TestOutput({}, DType::Float32)}},
    {"det of a batch of 3 x 3",
     R"(def forward(self, x):
    return torch.linalg_det(x))",
     {{2, 5, 3, 3}},
     {{"gather", 1}},
     {{2, 5}}},
    {"det of 4 x 4",
     R"(def forward(self, x):
    return torch.det(x))",
     {{3, 4, 4}},
     {{"gather", 1}},
     {{3}}},
    {"inverse of 1 x 1",
     R"(def forward(self, x):
    return torch.inverse(x + 4))",
     {{3, 1, 1}},
     {{"real_div", 1}},
     {{3, 1, 1}}},
    {"inverse of 2 x 2",
     R"(def forward(self, x):
    return torch.linalg_inv(x + 4 * torch.eye(2)))",
     {{2, 2}},
     {{"gather", 2}},
     {{2, 2}}},
    {"inverse of a batch of 3 x 3",
     R"(def forward(self, x):
    return torch.linalg_inv(x + 4 * torch.eye(3)))",
     {{2, 3, 3}},
     {{"gather", 2}},
     {{2, 3, 3}}},
    {"inverse of 4 x 4",
     R"(def forward(self, x):
    return torch.inverse(x + 4 * torch.eye(4)))",
     {{2, 2, 4, 4}},
     {{"gather", 2}},
     {{2, 2, 4, 4}}},
    {"inverse times the matrix is the identity",
     R"(def forward(self, x):
    a = x + 4 * torch.eye(3)
    return torch.matmul(torch.inverse(a), a))",
     {{3, 3}},
     {{"gather", 2}},
     {{3, 3}}},
    {"det of a dynamic batch",
     R"(def forward(self, x):
    return torch.det(x))",
     {dynamicInput({2, 3, 3}, {0})},
     {{"reduce_prod", 1}, {"linear", 1}},
     {{kSymbolic}}},
};

const std::vector<RefusedCase> kRefused = {
    {"inverse of 5 x 5",
     R"(def forward(self, x):
    return torch.inverse(x))",
     {{5, 5}},
     {"'aten::linalg_inv'", "5 x 5"}},  // torch.inverse is linalg_inv in TorchScript
    {"det of a non-square matrix",
     R"(def forward(self, x):
    return torch.det(x))",
     {{2, 3}},
     {"square"}},
    {"det of a dynamic size",
     R"(def forward(self, x):
    return torch.det(x))",
     {dynamicInput({3, 3}, {0, 1})},
     {"static"}},
};

}  // namespace

TEST_CASE("LinearAlgebra lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("LinearAlgebra lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("LinearAlgebra lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("LinearAlgebra lowering cases match LibTorch numerically as NeuralNetwork models") {
    checkNeuralNetworkNumerics(numericCases(kCases));
}
