// Elementwise MIL ops (coremltools ops/defs/iOS15/elementwise_binary.py, elementwise_unary.py,
// control_flow.py's select). Binary ops broadcast numpy-style.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

namespace ts2coreml::runtime {

namespace {

using BinaryFn = at::Tensor (*)(const at::Tensor&, const at::Tensor&);
using UnaryFn = at::Tensor (*)(const at::Tensor&);

void addBinary(KernelTable& t, const std::string& name, BinaryFn fn) {
    t.add(name, [fn](const KernelContext& k) { return fn(k.input("x"), k.input("y")); });
}

void addUnary(KernelTable& t, const std::string& name, UnaryFn fn) {
    t.add(name, [fn](const KernelContext& k) { return fn(k.input("x")); });
}

at::Tensor add(const at::Tensor& x, const at::Tensor& y) { return at::add(x, y); }
at::Tensor sub(const at::Tensor& x, const at::Tensor& y) { return at::sub(x, y); }
at::Tensor mul(const at::Tensor& x, const at::Tensor& y) { return at::mul(x, y); }
// real_div is true division; an int32 result is truncated by the cast to the declared dtype.
at::Tensor realDiv(const at::Tensor& x, const at::Tensor& y) { return at::div(x, y); }
// floor_div rounds the quotient towards negative infinity.
at::Tensor floorDiv(const at::Tensor& x, const at::Tensor& y) { return at::div(x, y, "floor"); }
// mod takes the sign of the divisor (numpy / Python %), which is at::remainder.
at::Tensor mod(const at::Tensor& x, const at::Tensor& y) { return at::remainder(x, y); }
at::Tensor pow(const at::Tensor& x, const at::Tensor& y) { return at::pow(x, y); }
at::Tensor maximum(const at::Tensor& x, const at::Tensor& y) { return at::maximum(x, y); }
at::Tensor minimum(const at::Tensor& x, const at::Tensor& y) { return at::minimum(x, y); }
at::Tensor equal(const at::Tensor& x, const at::Tensor& y) { return at::eq(x, y); }
at::Tensor notEqual(const at::Tensor& x, const at::Tensor& y) { return at::ne(x, y); }
at::Tensor less(const at::Tensor& x, const at::Tensor& y) { return at::lt(x, y); }
at::Tensor lessEqual(const at::Tensor& x, const at::Tensor& y) { return at::le(x, y); }
at::Tensor greater(const at::Tensor& x, const at::Tensor& y) { return at::gt(x, y); }
at::Tensor greaterEqual(const at::Tensor& x, const at::Tensor& y) { return at::ge(x, y); }
at::Tensor logicalAnd(const at::Tensor& x, const at::Tensor& y) { return at::logical_and(x, y); }
at::Tensor logicalOr(const at::Tensor& x, const at::Tensor& y) { return at::logical_or(x, y); }
at::Tensor logicalXor(const at::Tensor& x, const at::Tensor& y) { return at::logical_xor(x, y); }

at::Tensor logicalNot(const at::Tensor& x) { return at::logical_not(x); }
at::Tensor acos(const at::Tensor& x) { return at::acos(x); }
at::Tensor asin(const at::Tensor& x) { return at::asin(x); }
at::Tensor atan(const at::Tensor& x) { return at::atan(x); }
at::Tensor atanh(const at::Tensor& x) { return at::atanh(x); }
at::Tensor ceil(const at::Tensor& x) { return at::ceil(x); }
at::Tensor cos(const at::Tensor& x) { return at::cos(x); }
at::Tensor cosh(const at::Tensor& x) { return at::cosh(x); }
at::Tensor erf(const at::Tensor& x) { return at::erf(x); }
at::Tensor exp(const at::Tensor& x) { return at::exp(x); }
at::Tensor floor(const at::Tensor& x) { return at::floor(x); }
// round: to the nearest integer, halves to even (numpy's round, which Apple's reference uses).
at::Tensor round(const at::Tensor& x) { return at::round(x); }
at::Tensor sin(const at::Tensor& x) { return at::sin(x); }
at::Tensor sinh(const at::Tensor& x) { return at::sinh(x); }
at::Tensor sqrt(const at::Tensor& x) { return at::sqrt(x); }
at::Tensor tan(const at::Tensor& x) { return at::tan(x); }
at::Tensor tanh(const at::Tensor& x) { return at::tanh(x); }
at::Tensor abs(const at::Tensor& x) { return at::abs(x); }
// exp2 of an int32 tensor is computed in floating point; the cast to int32 follows.
at::Tensor exp2(const at::Tensor& x) { return at::exp2(x.is_floating_point() ? x : x.to(at::kFloat)); }
at::Tensor sign(const at::Tensor& x) { return at::sign(x); }
at::Tensor square(const at::Tensor& x) { return at::mul(x, x); }

// rsqrt(x) = 1 / sqrt(x + epsilon); log(x) = ln(x + epsilon); inverse(x) = 1 / (x + epsilon).
at::Tensor rsqrtKernel(const KernelContext& k) { return at::rsqrt(k.input("x") + k.getDouble("epsilon")); }
at::Tensor logKernel(const KernelContext& k) { return at::log(k.input("x") + k.getDouble("epsilon")); }
at::Tensor inverseKernel(const KernelContext& k) { return at::reciprocal(k.input("x") + k.getDouble("epsilon")); }

// clip(x) = min(max(x, alpha), beta)
at::Tensor clipKernel(const KernelContext& k) {
    return at::clamp(k.input("x"), k.getDouble("alpha"), k.getDouble("beta"));
}

// threshold(x) = max(x, alpha)
at::Tensor thresholdKernel(const KernelContext& k) {
    const at::Tensor x = k.input("x");
    return at::maximum(x, at::scalar_tensor(k.getDouble("alpha"), x.options()));
}

// cast: float -> int truncates towards zero, anything -> bool is "non-zero"; the executor's
// conversion to the declared output dtype does exactly that.
at::Tensor castKernel(const KernelContext& k) { return k.raw("x"); }

// select(cond, a, b) = cond ? a : b, broadcast together.
at::Tensor selectKernel(const KernelContext& k) {
    at::Tensor a = k.input("a"), b = k.input("b");
    const auto type = at::promote_types(a.scalar_type(), b.scalar_type());
    return at::where(k.input("cond").to(at::kBool), a.to(type), b.to(type));
}

}  // namespace

void populateElementwiseKernels(KernelTable& t) {
    addBinary(t, "add", add);
    addBinary(t, "sub", sub);
    addBinary(t, "mul", mul);
    addBinary(t, "real_div", realDiv);
    addBinary(t, "floor_div", floorDiv);
    addBinary(t, "mod", mod);
    addBinary(t, "pow", pow);
    addBinary(t, "maximum", maximum);
    addBinary(t, "minimum", minimum);
    addBinary(t, "equal", equal);
    addBinary(t, "not_equal", notEqual);
    addBinary(t, "less", less);
    addBinary(t, "less_equal", lessEqual);
    addBinary(t, "greater", greater);
    addBinary(t, "greater_equal", greaterEqual);
    addBinary(t, "logical_and", logicalAnd);
    addBinary(t, "logical_or", logicalOr);
    addBinary(t, "logical_xor", logicalXor);

    addUnary(t, "logical_not", logicalNot);
    addUnary(t, "acos", acos);
    addUnary(t, "asin", asin);
    addUnary(t, "atan", atan);
    addUnary(t, "atanh", atanh);
    addUnary(t, "ceil", ceil);
    addUnary(t, "cos", cos);
    addUnary(t, "cosh", cosh);
    addUnary(t, "erf", erf);
    addUnary(t, "exp", exp);
    addUnary(t, "floor", floor);
    addUnary(t, "round", round);
    addUnary(t, "sin", sin);
    addUnary(t, "sinh", sinh);
    addUnary(t, "sqrt", sqrt);
    addUnary(t, "tan", tan);
    addUnary(t, "tanh", tanh);
    addUnary(t, "abs", abs);
    addUnary(t, "exp2", exp2);
    addUnary(t, "sign", sign);
    addUnary(t, "square", square);

    t.add("rsqrt", rsqrtKernel);
    t.add("log", logKernel);
    t.add("inverse", inverseKernel);
    t.add("clip", clipKernel);
    t.add("threshold", thresholdKernel);
    t.add("cast", castKernel);
    t.add("select", selectKernel);
}

TS2COREML_FAMILY(KernelTable, Elementwise, populateElementwiseKernels)

}  // namespace ts2coreml::runtime
