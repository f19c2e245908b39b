// Dtype conversion lowerings (core/lowerings/Cast.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"to int32",
     R"(def forward(self, x):
    return x.int())",
     {{2, 5}},
     {{"cast", 1}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"to int64 narrows to int32",
     R"(def forward(self, x):
    return x.long())",
     {{2, 5}},
     {{"cast", 1}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"float of an int tensor",
     R"(def forward(self, x):
    return x.float())",
     {intInput({2, 5})},
     {{"cast", 1}},
     {{2, 5}}},
    {"to a dtype given by its code (3 = int32)",
     R"(def forward(self, x):
    return x.to(3))",
     {{2, 5}},
     {{"cast", 1}},
     {TestOutput({2, 5}, DType::Int32)}},
    {"to the dtype it has is no cast",
     R"(def forward(self, x):
    return x.float() * 2.0)",
     {{2, 5}},
     {{"cast", 0}, {"mul", 1}},
     {{2, 5}}},
    {"type_as",
     R"(def forward(self, x, y):
    return x.type_as(y))",
     {intInput({2, 5}), {2, 5}},
     {{"cast", 1}},
     {{2, 5}}},
    {"to the dtype of another tensor",
     R"(def forward(self, x, y):
    return x.to(y))",
     {intInput({2, 5}), {2, 5}},
     {{"cast", 1}},
     {{2, 5}}},
    {"int of a tensor computed at run time",
     R"(def forward(self, x, y):
    return x * int(y.sum()))",
     {{2, 5}, {3}},
     {{"reduce_sum", 1}, {"cast", 2}, {"mul", 1}},
     {{2, 5}}},
};

}  // namespace

TEST_CASE("Cast lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Cast lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
