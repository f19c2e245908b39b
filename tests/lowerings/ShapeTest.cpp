// Tensor shape lowerings (core/lowerings/Shape.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"flatten as in ResNet",
     R"(def forward(self, x):
    return torch.flatten(x, 1))",
     {{1, 3, 8, 8}},
     {{"reshape", 1}},
     {{1, 192}}},
    {"flatten of a dynamic batch",
     R"(def forward(self, x):
    return torch.flatten(x, 1))",
     {dynamicInput({2, 3, 8, 8}, {0})},
     {{"reshape", 1}, {"shape", 0}},
     {{kSymbolic, 192}}},
    {"flatten of two dynamic dims",
     R"(def forward(self, x):
    return torch.flatten(x, 1))",
     {dynamicInput({2, 3, 8, 8}, {0, 2})},
     {{"shape", 2}, {"slice_by_index", 2}, {"reduce_prod", 1}, {"concat", 1}, {"reshape", 1}},
     {{kAnyDim, kAnyDim}}},
    {"flatten a middle range",
     R"(def forward(self, x):
    return torch.flatten(x, 1, 2))",
     {{1, 3, 8, 8}},
     {{"reshape", 1}},
     {{1, 24, 8}}},
    {"view with -1",
     R"(def forward(self, x):
    return x.view(-1, 8))",
     {{1, 3, 8, 8}},
     {{"reshape", 1}},
     {{24, 8}}},
    {"reshape",
     R"(def forward(self, x):
    return x.reshape(2, -1))",
     {{1, 4, 8, 8}},
     {{"reshape", 1}},
     {{2, 128}}},
    {"view by the size of a static dim",
     R"(def forward(self, x):
    return x.view(x.size(0), -1))",
     {{2, 3, 8, 8}},
     {{"reshape", 1}, {"shape", 0}},
     {{2, 192}}},
    {"view by the size of a dynamic dim",
     R"(def forward(self, x):
    return x.view(x.size(0), -1))",
     {dynamicInput({2, 3, 8, 8}, {0})},
     {{"shape", 1}, {"gather", 1}, {"concat", 1}, {"reshape", 1}},
     {{kAnyDim, kAnyDim}}},
    {"permute",
     R"(def forward(self, x):
    return x.permute(0, 2, 3, 1))",
     {{1, 3, 8, 8}},
     {{"transpose", 1}},
     {{1, 8, 8, 3}}},
    {"transpose",
     R"(def forward(self, x):
    return x.transpose(1, -1))",
     {{1, 3, 8, 5}},
     {{"transpose", 1}},
     {{1, 5, 8, 3}}},
    {"cat",
     R"(def forward(self, x, y):
    return torch.cat([x, y], 1))",
     {{1, 3, 8, 8}, {1, 2, 8, 8}},
     {{"concat", 1}},
     {{1, 5, 8, 8}}},
    {"cat of an int and a float tensor",
     R"(def forward(self, x, y):
    return torch.cat([x, y], -1))",
     {intInput({2, 3}), {2, 4}},
     {{"cast", 1}, {"concat", 1}},
     {{2, 7}}},
    {"stack",
     R"(def forward(self, x, y):
    return torch.stack([x, y]))",
     {{3, 4}, {3, 4}},
     {{"stack", 1}},
     {{2, 3, 4}}},
    {"stack on the last dim",
     R"(def forward(self, x, y):
    return torch.stack([x, y], -1))",
     {{3, 4}, {3, 4}},
     {{"stack", 1}},
     {{3, 4, 2}}},
    {"unsqueeze",
     R"(def forward(self, x):
    return x.unsqueeze(-1))",
     {{3, 4}},
     {{"expand_dims", 1}},
     {{3, 4, 1}}},
    {"squeeze every unit dim",
     R"(def forward(self, x):
    return x.squeeze())",
     {{1, 3, 1, 4}},
     {{"squeeze", 1}},
     {{3, 4}}},
    {"squeeze one dim",
     R"(def forward(self, x):
    return x.squeeze(0))",
     {{1, 3, 1, 4}},
     {{"squeeze", 1}},
     {{3, 1, 4}}},
    {"squeeze of a dim that is not 1 is the identity",
     R"(def forward(self, x):
    return x.squeeze(1) * 2.0)",
     {{1, 3, 1, 4}},
     {{"squeeze", 0}, {"mul", 1}},
     {{1, 3, 1, 4}}},
    {"contiguous",
     R"(def forward(self, x):
    return x.contiguous() * 2.0)",
     {{2, 3}},
     {{"mul", 1}},
     {{2, 3}}},
    {"expand",
     R"(def forward(self, x):
    return x.expand(2, 3, 8, 8))",
     {{1, 3, 1, 1}},
     {{"tile", 1}},
     {{2, 3, 8, 8}}},
    {"expand keeping dims with -1 and adding one",
     R"(def forward(self, x):
    return x.expand(5, -1, 4))",
     {{3, 1}},
     {{"expand_dims", 1}, {"tile", 1}},
     {{5, 3, 4}}},
    {"expand of a dynamic dim kept by -1",
     R"(def forward(self, x):
    return x.expand(-1, 4, -1))",
     {dynamicInput({2, 1, 8}, {0})},
     {{"tile", 1}},
     {{kSymbolic, 4, 8}}},
    {"expand_as",
     R"(def forward(self, x, y):
    return x.expand_as(y))",
     {{1, 3, 1, 1}, {2, 3, 8, 8}},
     {{"tile", 1}},
     {{2, 3, 8, 8}}},
    {"repeat",
     R"(def forward(self, x):
    return x.repeat(1, 2, 1, 1))",
     {{1, 3, 8, 8}},
     {{"tile", 1}},
     {{1, 6, 8, 8}}},
    {"pixel_shuffle",
     R"(def forward(self, x):
    return torch.pixel_shuffle(x, 2))",
     {{1, 8, 4, 4}},
     {{"pixel_shuffle", 1}},
     {{1, 2, 8, 8}}},
    {"numel of a static tensor is a constant",
     R"(def forward(self, x):
    return x / x.numel())",
     {{2, 3}},
     {{"real_div", 1}, {"reduce_prod", 0}},
     {{2, 3}}},
    {"dim is a constant",
     R"(def forward(self, x):
    return x * x.dim())",
     {{2, 3}},
     {{"mul", 1}},
     {{2, 3}}},
};

}  // namespace

TEST_CASE("Shape lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Shape lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
