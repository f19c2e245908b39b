// Activation lowerings (core/lowerings/Activation.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"relu",
     R"(def forward(self, x):
    return torch.relu(x))",
     {{1, 3, 8, 8}},
     {{"relu", 1}},
     {{1, 3, 8, 8}}},
    {"relu_ in place reaches relu",
     R"(def forward(self, x):
    y = x * 2.0
    torch.relu_(y)
    return y)",
     {{1, 3, 8, 8}},
     {{"mul", 1}, {"relu", 1}},
     {{1, 3, 8, 8}}},
    {"relu6",
     R"(def forward(self, x):
    return torch.relu6(x))",
     {{1, 3, 8, 8}},
     {{"relu6", 1}},
     {{1, 3, 8, 8}}},
    {"hardtanh",
     R"(def forward(self, x):
    return torch.hardtanh(x, -0.5, 0.5))",
     {{1, 3, 8, 8}},
     {{"clip", 1}},
     {{1, 3, 8, 8}}},
    {"hardtanh 0..6 is relu6 (MobileNetV2)",
     R"(def forward(self, x):
    return torch.hardtanh(x, 0.0, 6.0))",
     {{1, 3, 8, 8}},
     {{"relu6", 1}, {"clip", 0}},
     {{1, 3, 8, 8}}},
    {"hardswish",
     R"(def forward(self, x):
    return torch.hardswish(x))",
     {{1, 3, 8, 8}},
     {{"sigmoid_hard", 1}, {"mul", 1}},
     {{1, 3, 8, 8}}},
    {"hardswish_ in place (MobileNetV3)",
     R"(def forward(self, x):
    y = x + 1.0
    torch.hardswish_(y)
    return y)",
     {{1, 3, 8, 8}},
     {{"add", 1}, {"sigmoid_hard", 1}, {"mul", 1}},
     {{1, 3, 8, 8}}},
    {"hardsigmoid",
     R"(def forward(self, x):
    return torch.hardsigmoid(x))",
     {{1, 3, 8, 8}},
     {{"sigmoid_hard", 1}},
     {{1, 3, 8, 8}}},
    {"sigmoid",
     R"(def forward(self, x):
    return torch.sigmoid(x))",
     {{1, 3, 8, 8}},
     {{"sigmoid", 1}},
     {{1, 3, 8, 8}}},
    {"tanh",
     R"(def forward(self, x):
    return torch.tanh(x))",
     {{1, 3, 8, 8}},
     {{"tanh", 1}},
     {{1, 3, 8, 8}}},
    {"silu",
     R"(def forward(self, x):
    return torch.silu(x))",
     {{1, 3, 8, 8}},
     {{"silu", 1}},
     {{1, 3, 8, 8}}},
    {"gelu",
     R"(def forward(self, x):
    return torch.gelu(x))",
     {{2, 16}},
     {{"gelu", 1}},
     {{2, 16}}},
    {"gelu tanh approximation",
     R"(def forward(self, x):
    return torch.gelu(x, approximate='tanh'))",
     {{2, 16}},
     {{"gelu", 1}},
     {{2, 16}}},
    {"leaky_relu",
     R"(def forward(self, x):
    return torch.leaky_relu(x, 0.2))",
     {{1, 3, 8, 8}},
     {{"leaky_relu", 1}},
     {{1, 3, 8, 8}}},
    {"elu",
     R"(def forward(self, x):
    return torch.elu(x, 0.5))",
     {{1, 3, 8, 8}},
     {{"elu", 1}, {"mul", 0}},
     {{1, 3, 8, 8}}},
    {"selu",
     R"(def forward(self, x):
    return torch.selu(x))",
     {{1, 3, 8, 8}},
     {{"elu", 1}, {"mul", 1}},
     {{1, 3, 8, 8}}},
    {"softplus",
     R"(def forward(self, x):
    return torch.softplus(x))",
     {{1, 3, 8, 8}},
     {{"softplus", 1}, {"select", 0}},
     {{1, 3, 8, 8}}},
    {"softplus with beta and a low threshold",
     R"(def forward(self, x):
    return torch.softplus(x, 2.0, 5.0))",
     {{1, 3, 8, 8}},
     {{"mul", 1}, {"softplus", 1}, {"real_div", 1}, {"greater", 1}, {"select", 1}},
     {{1, 3, 8, 8}}},
    {"mish",
     R"(def forward(self, x):
    return torch.mish(x))",
     {{1, 3, 8, 8}},
     {{"softplus", 1}, {"tanh", 1}, {"mul", 1}},
     {{1, 3, 8, 8}}},
    {"softmax",
     R"(def forward(self, x):
    return torch.softmax(x, 1))",
     {{1, 3, 8, 8}},
     {{"softmax", 1}},
     {{1, 3, 8, 8}}},
    {"log_softmax",
     R"(def forward(self, x):
    return torch.log_softmax(x, -1))",
     {{2, 10}},
     {{"reduce_log_sum_exp", 1}, {"sub", 1}},
     {{2, 10}}},
    {"clamp with both bounds",
     R"(def forward(self, x):
    return torch.clamp(x, -1.0, 1.0))",
     {{1, 3, 8, 8}},
     {{"clip", 1}},
     {{1, 3, 8, 8}}},
    {"clamp 0..6 is relu6",
     R"(def forward(self, x):
    return torch.clamp(x, 0.0, 6.0))",
     {{1, 3, 8, 8}},
     {{"relu6", 1}},
     {{1, 3, 8, 8}}},
    {"clamp min only",
     R"(def forward(self, x):
    return torch.clamp(x, min=0.5))",
     {{1, 3, 8, 8}},
     {{"maximum", 1}, {"clip", 0}},
     {{1, 3, 8, 8}}},
    {"clamp max only, an int bound",
     R"(def forward(self, x):
    return torch.clamp(x, max=2))",
     {{1, 3, 8, 8}},
     {{"minimum", 1}},
     {{1, 3, 8, 8}}},
    {"clamp of an int tensor keeps int32",
     R"(def forward(self, x):
    return torch.clamp(x, 0, 3))",
     {intInput({2, 5})},
     {{"maximum", 1}, {"minimum", 1}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"prelu per channel",
     R"(def forward(self, x):
    return torch.prelu(x, torch.ones(3) * 0.25))",
     {{1, 3, 8, 8}},
     {{"prelu", 1}},
     {{1, 3, 8, 8}}},
    {"prelu per channel of a rank-3 input",
     R"(def forward(self, x):
    return torch.prelu(x, torch.arange(3.0) / 4.0))",
     {{2, 3, 5}},
     {{"expand_dims", 1}, {"prelu", 1}, {"squeeze", 1}},
     {{2, 3, 5}}},
    {"prelu per channel of a rank-5 input",
     R"(def forward(self, x):
    return torch.prelu(x, torch.arange(3.0) / 4.0))",
     {{1, 3, 2, 4, 4}},
     {{"prelu", 0}, {"maximum", 1}, {"minimum", 1}, {"mul", 1}, {"add", 1}},
     {{1, 3, 2, 4, 4}}},
    {"prelu with one weight",
     R"(def forward(self, x):
    return torch.prelu(x, torch.ones(1) * 0.25))",
     {{1, 3, 8, 8}},
     {{"leaky_relu", 1}},
     {{1, 3, 8, 8}}},
    {"activation of a dynamic batch",
     R"(def forward(self, x):
    return torch.hardswish(x))",
     {dynamicInput({2, 3, 8, 8}, {0})},
     {{"sigmoid_hard", 1}},
     {{kSymbolic, 3, 8, 8}}},
};

const std::vector<RefusedCase> kRefused = {
    {"gelu with an unknown approximation",
     R"(def forward(self, x):
    return torch.gelu(x, approximate='fast'))",
     {{2, 16}},
     {"approximate='fast'"}},
    {"elu with input_scale",
     R"(def forward(self, x):
    return torch.elu(x, 1.0, 1.0, 2.0))",
     {{2, 16}},
     {"input_scale"}},
};

}  // namespace

TEST_CASE("Activation lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Activation lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Activation lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
