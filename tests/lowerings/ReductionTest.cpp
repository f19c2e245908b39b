// Reduction lowerings (core/lowerings/Reduction.cpp).
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::vector<LoweringCase> kCases = {
    {"mean over spatial dims keeping them",
     R"(def forward(self, x):
    return x.mean([2, 3], keepdim=True))",
     {{1, 3, 8, 8}},
     {{"reduce_mean", 1}},
     {{1, 3, 1, 1}}},
    {"mean of everything",
     R"(def forward(self, x):
    return x.mean())",
     {{1, 3, 8, 8}},
     {{"reduce_mean", 1}},
     {TestOutput({}, DType::Float32)}},
    {"sum over one dim",
     R"(def forward(self, x):
    return x.sum(1))",
     {{1, 3, 8, 8}},
     {{"reduce_sum", 1}},
     {{1, 8, 8}}},
    {"sum over a negative dim",
     R"(def forward(self, x):
    return torch.sum(x, -1, keepdim=True))",
     {{1, 3, 8, 8}},
     {{"reduce_sum", 1}},
     {{1, 3, 8, 1}}},
    {"sum of bools counts",
     R"(def forward(self, x):
    return (x > 0.5).sum())",
     {{2, 5}},
     {{"greater", 1}, {"cast", 1}, {"reduce_sum", 1}},
     {TestOutput({}, DType::Int32)}},
    {"amax",
     R"(def forward(self, x):
    return torch.amax(x, dim=(2, 3)))",
     {{1, 3, 8, 8}},
     {{"reduce_max", 1}},
     {{1, 3}}},
    {"amin keeping dims",
     R"(def forward(self, x):
    return torch.amin(x, 1, True))",
     {{1, 3, 8, 8}},
     {{"reduce_min", 1}},
     {{1, 1, 8, 8}}},
    {"max of everything",
     R"(def forward(self, x):
    return torch.max(x))",
     {{2, 5}},
     {{"reduce_max", 1}},
     {TestOutput({}, DType::Float32)}},
    {"max along a dim with indices",
     R"(def forward(self, x):
    v, i = torch.max(x, 1)
    return v, i)",
     {{2, 5, 3}},
     {{"reduce_max", 1}, {"reduce_argmax", 1}},
     {{2, 3}, TestOutput({2, 3}, DType::Int32)}},
    {"min along a dim keeping it",
     R"(def forward(self, x):
    return torch.min(x, 0, keepdim=True)[0])",
     {{2, 5}},
     {{"reduce_min", 1}},
     {{1, 5}}},
    {"argmax along a dim",
     R"(def forward(self, x):
    return torch.argmax(x, dim=1))",
     {{2, 5, 3}},
     {{"reduce_argmax", 1}},
     {TestOutput({2, 3}, DType::Int32)}},
    {"argmax of everything",
     R"(def forward(self, x):
    return torch.argmax(x))",
     {{2, 5, 3}},
     {{"reshape", 1}, {"reduce_argmax", 1}},
     {TestOutput({}, DType::Int32)}},
    {"prod",
     R"(def forward(self, x):
    return torch.prod(x, 1))",
     {{2, 5}},
     {{"reduce_prod", 1}},
     {{2}}},
    {"logsumexp",
     R"(def forward(self, x):
    return torch.logsumexp(x, 1))",
     {{2, 5}},
     {{"reduce_log_sum_exp", 1}},
     {{2}}},
    {"mean of a dynamic batch",
     R"(def forward(self, x):
    return x.mean(-1))",
     {dynamicInput({2, 5}, {0})},
     {{"reduce_mean", 1}},
     {{kSymbolic}}},
};

}  // namespace

TEST_CASE("Reduction lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("Reduction lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }
