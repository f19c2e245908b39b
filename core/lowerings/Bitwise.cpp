// Bitwise ops on tensors: bitwise_and/or/xor/not and the operators & | ^ ~ (also in place). On bool
// tensors they are the logical ops. MIL has no integer bitwise op: on integers each operand is taken
// apart into its 32 bits (two's complement), the bits are combined, and the result is put together
// again, which is exact for every int32. Floating tensors are refused, as torch refuses them.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

#include <cstdint>

namespace ts2coreml::lowering {
namespace {

enum class BitOp { And, Or, Xor };

const char* logicalOpFor(BitOp op) {
    return op == BitOp::And ? "logical_and" : op == BitOp::Or ? "logical_or" : "logical_xor";
}

/// Bits 0..30 of int32 `x` along a new last axis of size 31: floor(x / 2^k) mod 2, which for a
/// negative x is the bit of its two's complement (floor division is the arithmetic shift).
mil::Value* lowBits(mil::Builder& b, mil::Value* x, mil::Value* powers) {
    mil::Value* column = b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{-1}}});
    mil::Value* shifted = b.add("floor_div", {{"x", column}, {"y", powers}});
    mil::Value* two = scalarLike(b, 2.0, x);
    mil::Value* even = b.add("mul", {{"x", b.add("floor_div", {{"x", shifted}, {"y", two}})}, {"y", two}});
    return b.add("sub", {{"x", shifted}, {"y", even}});
}

/// x op y on int32 tensors. Bits 0..30 are combined as 0/1 integers (and: ab, or: a + b - ab,
/// xor: a + b - 2ab); bit 31, the sign, is (x < 0) op (y < 0). A non-negative result is the sum of
/// its set bits' weights; a negative one is -1 minus the sum of its clear bits' weights, which keeps
/// every partial sum as small as the result (a NeuralNetwork computes these sums in fp32).
mil::Value* integerBitwise(mil::Builder& b, BitOp op, mil::Value* x, mil::Value* y) {
    std::vector<int32_t> weights;
    for (int k = 0; k < 31; ++k) weights.push_back(int32_t{1} << k);
    mil::Value* powers = b.constant(mil::ConstData::fromInts(weights, {31}));
    mil::Value* a = lowBits(b, x, powers);
    mil::Value* c = lowBits(b, y, powers);
    mil::Value* both = b.add("mul", {{"x", a}, {"y", c}});
    mil::Value* bits = both;
    if (op != BitOp::And) {
        mil::Value* sum = b.add("add", {{"x", a}, {"y", c}});
        mil::Value* overlap = op == BitOp::Or ? both : b.add("add", {{"x", both}, {"y", both}});
        bits = b.add("sub", {{"x", sum}, {"y", overlap}});
    }
    auto weigh = [&](mil::Value* v) {
        return b.add(
            "reduce_sum",
            {{"x", b.add("mul", {{"x", v}, {"y", powers}})}, {"axes", std::vector<int64_t>{-1}}, {"keep_dims", false}});
    };
    mil::Value* minusOne = scalarLike(b, -1.0, x);
    mil::Value* clear = b.add("sub", {{"x", scalarLike(b, 1.0, x)}, {"y", bits}});
    mil::Value* negativeValue = b.add("sub", {{"x", minusOne}, {"y", weigh(clear)}});
    mil::Value* zero = scalarLike(b, 0.0, x);
    mil::Value* negative = b.add(logicalOpFor(op), {{"x", b.add("less", {{"x", x}, {"y", zero}})},
                                                    {"y", b.add("less", {{"x", y}, {"y", zero}})}});
    return b.add("select", {{"cond", negative}, {"a", negativeValue}, {"b", weigh(bits)}});
}

/// x & (2^k - 1), k <= 30, keeps the low k bits: x - floor(x / 2^k) * 2^k, negative x included.
mil::Value* lowBitsMask(mil::Builder& b, mil::Value* x, int64_t modulus) {
    mil::Value* m = scalarLike(b, static_cast<double>(modulus), x);
    mil::Value* high = b.add("mul", {{"x", b.add("floor_div", {{"x", x}, {"y", m}})}, {"y", m}});
    return b.add("sub", {{"x", x}, {"y", high}});
}

/// 2^k when `mask` is 2^k - 1 for some k in 1..30, else 0.
int64_t lowMaskModulus(const Arg& mask) {
    if (!isIntConstant(mask)) return 0;
    const int64_t m = static_cast<int64_t>(literalNumber(mask));
    if (m <= 0 || m >= (int64_t{1} << 30) || ((m + 1) & m) != 0) return 0;
    return m + 1;
}

[[noreturn]] void refuseFloat(const LoweringContext& ctx, const mil::Value* x) {
    ctx.fail(ctx.opName() + " is defined for bool and integer tensors only, got " + x->type().str());
}

LoweringFn bitwise(BitOp op) {
    return [op](LoweringContext& ctx) {
        mil::Builder& b = ctx.builder();
        auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
        const DType dtype = x->type().dtype;
        if (dtype == DType::Bool) return ctx.bind(0, b.add(logicalOpFor(op), {{"x", x}, {"y", y}}));
        if (isFloat(dtype)) refuseFloat(ctx, x);
        if (int64_t modulus = lowMaskModulus(ctx.arg("other")); op == BitOp::And && modulus)
            return ctx.bind(0, lowBitsMask(b, x, modulus));
        ctx.bind(0, integerBitwise(b, op, x, y));
    };
}

// ~x: logical not of a bool; -1 - x for an integer (two's complement), which never overflows.
void lowerBitwiseNot(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");
    if (x->type().dtype == DType::Bool) return ctx.bind(0, b.add("logical_not", {{"x", x}}));
    if (isFloat(x->type().dtype)) refuseFloat(ctx, x);
    ctx.bind(0, b.add("sub", {{"x", scalarLike(b, -1.0, x)}, {"y", x}}));
}

}  // namespace

void populateBitwiseLowerings(Registry& r) {
    const std::pair<std::string, BitOp> ops[] = {{"and", BitOp::And}, {"or", BitOp::Or}, {"xor", BitOp::Xor}};
    for (const auto& [name, op] : ops) {
        r.add("aten::bitwise_" + name, bitwise(op));
        // Only the tensor overloads of the operator: its .bool / .int overloads take Python
        // numbers (Scalar.cpp). The in-place operators (__iand__, ...) reach bitwise_and_ in the
        // frontend, and bitwise_and from there.
        r.add("aten::__" + name + "__.Tensor", bitwise(op));
        r.add("aten::__" + name + "__.Scalar", bitwise(op));
    }
    r.add("aten::bitwise_not", lowerBitwiseNot);
}

TS2COREML_FAMILY(Registry, Bitwise, populateBitwiseLowerings)

}  // namespace ts2coreml::lowering
