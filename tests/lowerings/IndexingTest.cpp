// Indexing lowerings (core/lowerings/Indexing.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"slice",
     R"(def forward(self, x):
    return x[:, 1:3])",
     {{1, 4, 8, 8}},
     {{"slice_by_index", 1}},
     {{1, 2, 8, 8}}},
    {"slice with a step",
     R"(def forward(self, x):
    return x[..., ::2])",
     {{1, 3, 8, 8}},
     {{"slice_by_index", 1}},
     {{1, 3, 8, 4}}},
    {"slice from the end",
     R"(def forward(self, x):
    return x[:, -2:])",
     {{1, 4, 8, 8}},
     {{"slice_by_index", 1}},
     {{1, 2, 8, 8}}},
    {"slice of everything is the identity",
     R"(def forward(self, x):
    return x[:, 0:100] * 2.0)",
     {{1, 4, 8, 8}},
     {{"slice_by_index", 0}, {"mul", 1}},
     {{1, 4, 8, 8}}},
    {"slice of a dynamic dim",
     R"(def forward(self, x):
    return x[1:])",
     {dynamicInput({4, 3}, {0})},
     {{"slice_by_index", 1}},
     {{kAnyDim, 3}}},
    {"narrow",
     R"(def forward(self, x):
    return x.narrow(1, 1, 2))",
     {{1, 4, 8, 8}},
     {{"slice_by_index", 1}},
     {{1, 2, 8, 8}}},
    {"select",
     R"(def forward(self, x):
    return x[:, 0])",
     {{1, 3, 8, 8}},
     {{"slice_by_index", 1}},
     {{1, 8, 8}}},
    {"select from the end",
     R"(def forward(self, x):
    return x[0, -1])",
     {{2, 3, 8}},
     {{"slice_by_index", 2}},
     {{8}}},
    {"chunk",
     R"(def forward(self, x):
    a, b = x.chunk(2, 1)
    return a * b)",
     {{1, 4, 8, 8}},
     {{"split", 1}, {"mul", 1}},
     {{1, 2, 8, 8}}},
    {"chunk of an odd size",
     R"(def forward(self, x):
    a, b = x.chunk(2, 1)
    return a, b)",
     {{1, 5, 8, 8}},
     {{"split", 1}},
     {{1, 3, 8, 8}, {1, 2, 8, 8}}},
    {"split by size",
     R"(def forward(self, x):
    a, b = torch.split(x, 3, 1)
    return a, b)",
     {{1, 5, 8, 8}},
     {{"split", 1}},
     {{1, 3, 8, 8}, {1, 2, 8, 8}}},
    {"split by sizes",
     R"(def forward(self, x):
    a, b = torch.split(x, [1, 4], 1)
    return a, b)",
     {{1, 5, 8, 8}},
     {{"split", 1}},
     {{1, 1, 8, 8}, {1, 4, 8, 8}}},
    {"unbind",
     R"(def forward(self, x):
    a, b, c = x.unbind(1)
    return a + b + c)",
     {{2, 3, 4}},
     {{"split", 1}, {"squeeze", 3}, {"add", 2}},
     {{2, 4}}},
    {"index_select",
     R"(def forward(self, x, i):
    return torch.index_select(x, 1, torch.clamp(i, 0, 3)))",
     {{2, 4, 6}, intInput({3})},
     {{"gather", 1}},
     {{2, 3, 6}}},
    {"gather along a dim",
     R"(def forward(self, x, i):
    return torch.gather(x, 2, torch.clamp(i, 0, 5).long()))",
     {{2, 4, 6}, intInput({2, 4, 3})},
     {{"gather_along_axis", 1}},
     {{2, 4, 3}}},
    {"embedding",
     R"(def forward(self, i):
    return torch.embedding(torch.sin(torch.arange(30.0)).reshape(10, 3), torch.clamp(i, 0, 9)))",
     {intInput({2, 5})},
     {{"gather", 1}},
     {{2, 5, 3}}},
    {"indexing by a tensor",
     R"(def forward(self, x, i):
    return x[:, torch.clamp(i, 0, 3).long()])",
     {{2, 4, 6}, intInput({3})},
     {{"gather", 1}},
     {{2, 3, 6}}},
};

const std::vector<RefusedCase> kRefused = {
    {"indexing by a bool mask",
     R"(def forward(self, x):
    return x[x > 0.5])",
     {{2, 4}},
     {"bool mask"}},
    {"chunk along a dynamic dim",
     R"(def forward(self, x):
    a, b = x.chunk(2, 0)
    return a)",
     {dynamicInput({4, 3}, {0})},
     {"static size"}},
};

}  // namespace

TEST_CASE("Indexing lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Indexing lowerings refuse what Core ML cannot express") { checkAll(kRefused); }

TEST_CASE("Indexing lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
