// The built-in registry (core/lowerings/Builtins.cpp): every family registers without clashes and
// the ops of the torchvision models we convert all have a lowering.
#include "lowerings/Builtins.h"
#include "registry/LoweringRegistry.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ts2coreml;

TEST_CASE("Builtins register every family without a duplicate key") {
    LoweringRegistry registry;
    CHECK_NOTHROW(registerBuiltinLowerings(registry));
    for (const LoweringEntry* e : registry.entries()) {
        CHECK(e->provider == "built-in");
        CHECK(e->overrode.empty());
    }
}

TEST_CASE("Builtins cover the ops of traced and scripted torchvision models") {
    const LoweringRegistry registry = LoweringRegistry::withBuiltins();
    // {op, overload} as the TorchScript nodes of resnet18/50, mobilenet_v2, mobilenet_v3_large and
    // deeplabv3_resnet50 name them (traced and scripted, after freezing).
    const std::vector<std::pair<std::string, std::string>> ops = {
        {"aten::_convolution", ""},
        {"aten::conv2d", ""},
        {"aten::relu_", ""},
        {"aten::relu", ""},
        {"aten::hardtanh_", ""},
        {"aten::hardswish_", ""},
        {"aten::hardsigmoid", ""},
        {"aten::max_pool2d", ""},
        {"aten::add_", "Tensor"},
        {"aten::add", "Tensor"},
        {"aten::mul", "Tensor"},
        {"aten::adaptive_avg_pool2d", ""},
        {"aten::flatten", "using_ints"},
        {"aten::linear", ""},
        {"aten::batch_norm", ""},
        {"aten::size", ""},
        {"aten::size", "int"},
        {"aten::len", "t"},
        {"aten::gt", "int"},
        {"aten::ne", "int"},
        {"aten::eq", "int"},
        {"aten::sub", "int"},
        {"aten::slice", "t"},
        {"aten::slice", "Tensor"},
        {"aten::upsample_bilinear2d", "vec"},
        {"aten::cat", ""},
        {"aten::__getitem__", "t"},
        {"aten::__isnot__", ""},
        {"aten::dropout", ""},
        {"aten::dim", ""},
    };
    for (const auto& [name, overload] : ops) {
        INFO(name, ".", overload);
        CHECK(registry.find(name, overload, Target::iOS15) != nullptr);
    }
}

TEST_CASE("Builtins keep TorchScript number overloads apart from tensor ops") {
    const LoweringRegistry registry = LoweringRegistry::withBuiltins();
    const LoweringEntry* tensorAdd = registry.find("aten::add", "Tensor", Target::iOS15);
    const LoweringEntry* intAdd = registry.find("aten::add", "int", Target::iOS15);
    REQUIRE(tensorAdd);
    REQUIRE(intAdd);
    CHECK(tensorAdd->key == "aten::add");
    CHECK(intAdd->key == "aten::add.int");
    CHECK(registry.find("aten::max", "dim", Target::iOS15)->key == "aten::max.dim");
    CHECK(registry.find("aten::max", "other", Target::iOS15)->key == "aten::max.other");
    CHECK(registry.find("aten::max", "", Target::iOS15)->key == "aten::max");
}
