// What the plugin SDK lets a plugin do, checked at compile time: it emits MIL through the Builder
// and reads the IR, but cannot rewire the IR's structure nor declare a MIL op (every MIL op needs a
// kernel and a NeuralNetwork layer in the host). Core code does both through mil::IRAccess.
#include "mil/IRAccess.h"

#include <ts2coreml/Builder.h>
#include <ts2coreml/LoweringSupport.h>

#include <doctest/doctest.h>

#include <type_traits>
#include <utility>

using namespace ts2coreml;

namespace {

template <typename T, typename = void>
struct HasMutableInputs : std::false_type {};
template <typename T>
struct HasMutableInputs<T, std::void_t<decltype(std::declval<T&>().mutableInputs())>> : std::true_type {};

template <typename T, typename = void>
struct CanAddSchema : std::false_type {};
template <typename T>
struct CanAddSchema<T, std::void_t<decltype(std::declval<T&>().add(std::declval<mil::OpSchema>()))>> : std::true_type {
};

template <typename Container>
constexpr bool isReadOnly = std::is_const_v<std::remove_reference_t<Container>>;

}  // namespace

TEST_CASE("The SDK gives plugins no mutable access to the IR's structure nor to the schema table") {
    static_assert(!HasMutableInputs<mil::Operation>::value);
    static_assert(isReadOnly<decltype(std::declval<mil::Operation&>().inputs())>);
    static_assert(isReadOnly<decltype(std::declval<mil::Operation&>().blocks())>);
    static_assert(isReadOnly<decltype(std::declval<mil::Block&>().operations())>);
    static_assert(!CanAddSchema<mil::SchemaTable>::value);
    // Core code keeps both, through IRAccess.
    static_assert(!isReadOnly<decltype(mil::IRAccess::operations(std::declval<mil::Block&>()))>);
    static_assert(!isReadOnly<decltype(mil::IRAccess::inputs(std::declval<mil::Operation&>()))>);
    CHECK(mil::SchemaTable::instance().find("relu") != nullptr);
}

TEST_CASE("A plugin's lowering can use the SDK's lowering helpers, defined in the host") {
    mil::Block block;
    mil::Builder b(block, Target::iOS15);
    mil::Value* x = block.addInput("x", TensorType::of(DType::Int32, {2, 3}));
    CHECK(lowering::rankOf(x) == 2);
    CHECK(lowering::staticDim(x, 1) == 3);
    CHECK(lowering::toFloat(b, x)->type().dtype == DType::Float32);
    CHECK(lowering::promote(DType::Int32, DType::Float16) == DType::Float16);
    CHECK(lowering::scalarConst(b, 2.0, DType::Float16)->type().dtype == DType::Float16);
    CHECK(block.operations().back()->type() == "const");
}
