// Elementwise lowerings (core/lowerings/Elementwise.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"add",
     R"(def forward(self, x, y):
    return x + y)",
     {{1, 3, 8, 8}, {1, 3, 8, 8}},
     {{"add", 1}},
     {{1, 3, 8, 8}}},
    {"add a scalar",
     R"(def forward(self, x):
    return x + 1)",
     {{1, 3, 8, 8}},
     {{"add", 1}},
     {{1, 3, 8, 8}}},
    {"add with alpha",
     R"(def forward(self, x, y):
    return torch.add(x, y, alpha=2))",
     {{1, 3, 8, 8}, {1, 3, 8, 8}},
     {{"mul", 1}, {"add", 1}},
     {{1, 3, 8, 8}}},
    {"add_ in place (ResNet's residual)",
     R"(def forward(self, x, y):
    z = x * 1.0
    z += y
    return z)",
     {{1, 3, 8, 8}, {1, 3, 8, 8}},
     {{"mul", 1}, {"add", 1}},
     {{1, 3, 8, 8}}},
    {"sub",
     R"(def forward(self, x, y):
    return x - y)",
     {{1, 3, 8, 8}, {1, 3, 8, 8}},
     {{"sub", 1}},
     {{1, 3, 8, 8}}},
    {"rsub",
     R"(def forward(self, x):
    return torch.rsub(x, 1.0))",
     {{1, 3, 8, 8}},
     {{"sub", 1}},
     {{1, 3, 8, 8}}},
    {"scalar minus tensor is neg and add in TorchScript",
     R"(def forward(self, x):
    return 1.0 - x)",
     {{1, 3, 8, 8}},
     {{"mul", 1}, {"add", 1}},
     {{1, 3, 8, 8}}},
    {"mul broadcasting",
     R"(def forward(self, x, y):
    return x * y)",
     {{1, 3, 8, 8}, {3, 1, 1}},
     {{"mul", 1}},
     {{1, 3, 8, 8}}},
    {"div",
     R"(def forward(self, x, y):
    return x / y)",
     {{1, 3, 8, 8}, {1, 3, 8, 8}},
     {{"real_div", 1}},
     {{1, 3, 8, 8}}},
    {"div of ints is real",
     R"(def forward(self, x, y):
    return x / y)",
     {intInput({2, 5}), intInput({2, 5})},
     {{"cast", 2}, {"real_div", 1}},
     {{2, 5}}},
    {"div rounding down",
     R"(def forward(self, x, y):
    return torch.div(x, y, rounding_mode='floor'))",
     {{2, 5}, {2, 5}},
     {{"real_div", 1}, {"floor", 1}},
     {{2, 5}}},
    {"div rounding toward zero",
     R"(def forward(self, x, y):
    return torch.div(x, y, rounding_mode='trunc'))",
     {{2, 5}, {2, 5}},
     {{"real_div", 1}, {"less", 1}, {"ceil", 1}, {"floor", 1}, {"select", 1}},
     {{2, 5}}},
    {"floor_divide of ints",
     R"(def forward(self, x, y):
    return torch.floor_divide(x, y))",
     {intInput({2, 5}), intInput({2, 5})},
     {{"floor_div", 1}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"remainder",
     R"(def forward(self, x):
    return torch.remainder(x, 0.3))",
     {{2, 5}},
     {{"real_div", 1}, {"floor", 1}, {"mul", 1}, {"sub", 1}},
     {{2, 5}}},
    {"pow 2 is a product",
     R"(def forward(self, x):
    return x ** 2)",
     {{2, 5}},
     {{"mul", 1}, {"pow", 0}},
     {{2, 5}}},
    {"pow 0.5 is sqrt",
     R"(def forward(self, x):
    return torch.pow(x, 0.5))",
     {{2, 5}},
     {{"sqrt", 1}, {"pow", 0}},
     {{2, 5}}},
    {"pow of a real exponent",
     R"(def forward(self, x):
    return torch.pow(x, 1.7))",
     {{2, 5}},
     {{"pow", 1}},
     {{2, 5}}},
    {"pow of a tensor exponent",
     R"(def forward(self, x, y):
    return torch.pow(x, y))",
     {{2, 5}, {2, 5}},
     {{"pow", 1}},
     {{2, 5}}},
    {"sqrt",
     R"(def forward(self, x):
    return torch.sqrt(x))",
     {{2, 5}},
     {{"sqrt", 1}},
     {{2, 5}}},
    {"rsqrt",
     R"(def forward(self, x):
    return torch.rsqrt(x))",
     {{2, 5}},
     {{"rsqrt", 1}},
     {{2, 5}}},
    {"exp",
     R"(def forward(self, x):
    return torch.exp(x))",
     {{2, 5}},
     {{"exp", 1}},
     {{2, 5}}},
    {"log",
     R"(def forward(self, x):
    return torch.log(x))",
     {{2, 5}},
     {{"log", 1}},
     {{2, 5}}},
    {"abs",
     R"(def forward(self, x):
    return torch.abs(x))",
     {{2, 5}},
     {{"abs", 1}},
     {{2, 5}}},
    {"neg",
     R"(def forward(self, x):
    return -x)",
     {{2, 5}},
     {{"mul", 1}},
     {{2, 5}}},
    {"reciprocal",
     R"(def forward(self, x):
    return torch.reciprocal(x))",
     {{2, 5}},
     {{"real_div", 1}},
     {{2, 5}}},
    {"sin and cos",
     R"(def forward(self, x):
    return torch.sin(x) + torch.cos(x))",
     {{2, 5}},
     {{"sin", 1}, {"cos", 1}, {"add", 1}},
     {{2, 5}}},
    {"erf",
     R"(def forward(self, x):
    return torch.erf(x))",
     {{2, 5}},
     {{"erf", 1}},
     {{2, 5}}},
    {"exp of an int tensor is real",
     R"(def forward(self, x):
    return torch.exp(x))",
     {intInput({2, 5})},
     {{"cast", 1}, {"exp", 1}},
     {{2, 5}}},
    {"maximum",
     R"(def forward(self, x, y):
    return torch.maximum(x, y))",
     {{2, 5}, {2, 5}},
     {{"maximum", 1}},
     {{2, 5}}},
    {"max of two tensors",
     R"(def forward(self, x, y):
    return torch.max(x, y))",
     {{2, 5}, {2, 5}},
     {{"maximum", 1}},
     {{2, 5}}},
    {"min of two tensors",
     R"(def forward(self, x, y):
    return torch.min(x, y))",
     {{2, 5}, {2, 5}},
     {{"minimum", 1}},
     {{2, 5}}},
    {"greater",
     R"(def forward(self, x, y):
    return x > y)",
     {{2, 5}, {2, 5}},
     {{"greater", 1}},
     {TestOutput({2, 5}, DType::Bool)}},
    {"equal to a scalar",
     R"(def forward(self, x):
    return x == 0.5)",
     {{2, 5}},
     {{"equal", 1}},
     {TestOutput({2, 5}, DType::Bool)}},
    {"less_equal of ints",
     R"(def forward(self, x):
    return x <= 2)",
     {intInput({2, 5})},
     {{"less_equal", 1}},
     {TestOutput({2, 5}, DType::Bool)}},
    {"where",
     R"(def forward(self, x, y):
    return torch.where(x > 0.5, x, y))",
     {{2, 5}, {2, 5}},
     {{"greater", 1}, {"select", 1}},
     {{2, 5}}},
    {"where with a scalar",
     R"(def forward(self, x):
    return torch.where(x > 0.5, x, 0.0))",
     {{2, 5}},
     {{"greater", 1}, {"select", 1}},
     {{2, 5}}},
    {"masked_fill",
     R"(def forward(self, x):
    return x.masked_fill(x > 0.5, -1.0))",
     {{2, 5}},
     {{"greater", 1}, {"select", 1}},
     {{2, 5}}},
    {"masked_fill of an int tensor keeps int32",
     R"(def forward(self, x):
    return x.masked_fill(x > 2, 0))",
     {intInput({2, 5})},
     {{"select", 1}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"logical_and",
     R"(def forward(self, x, y):
    return torch.logical_and(x > 0.5, y > 0.5))",
     {{2, 5}, {2, 5}},
     {{"greater", 2}, {"logical_and", 1}},
     {TestOutput({2, 5}, DType::Bool)}},
    {"logical_not",
     R"(def forward(self, x):
    return torch.logical_not(x > 0.5))",
     {{2, 5}},
     {{"logical_not", 1}},
     {TestOutput({2, 5}, DType::Bool)}},
    {"int tensor plus float tensor is float",
     R"(def forward(self, x, y):
    return x + y)",
     {intInput({2, 5}), {2, 5}},
     {{"cast", 1}, {"add", 1}},
     {{2, 5}}},
    {"int tensor plus int stays int",
     R"(def forward(self, x):
    return x + 1)",
     {intInput({2, 5})},
     {{"add", 1}, {"cast", 0}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"int tensor times a real is float",
     R"(def forward(self, x):
    return x * 1.5)",
     {intInput({2, 5})},
     {{"cast", 1}, {"mul", 1}},
     {{2, 5}}},
};

const std::vector<RefusedCase> kRefused = {
    {"where with one argument",
     R"(def forward(self, x):
    return torch.where(x > 0.5)[0])",
     {{2, 5}},
     {"where(condition)"}},
};

}  // namespace

TEST_CASE("Elementwise lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Elementwise lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Elementwise lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
