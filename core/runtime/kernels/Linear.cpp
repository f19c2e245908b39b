// Linear-algebra MIL ops (coremltools ops/defs/iOS15/linear.py). ATen has no CPU fp16 matrix
// product: fp16 programs multiply in fp32 and the executor rounds the result to fp16.
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

namespace ts2coreml::runtime {

using namespace kernels;

namespace {

// linear(x) = x @ weight^T + bias
at::Tensor linear(const KernelContext& k) {
    at::Tensor x = k.input("x");
    at::Tensor weight = k.input("weight");
    // ATen's CPU matmul has no int32 kernel: integers multiply in int64 (exact), cast back after.
    if (!x.is_floating_point()) x = x.to(at::kLong), weight = weight.to(at::kLong);
    at::Tensor y = at::matmul(x, weight.t());
    if (auto bias = k.optionalInput("bias")) y = y + bias->to(y.scalar_type());
    return y;
}

// matmul: numpy matmul, each operand optionally transposed in its last two dimensions.
at::Tensor matmul(const KernelContext& k) {
    at::Tensor x = k.input("x"), y = k.input("y");
    if (k.getBool("transpose_x")) x = x.transpose(-1, -2);
    if (k.getBool("transpose_y")) y = y.transpose(-1, -2);
    if (!x.is_floating_point()) x = x.to(at::kLong), y = y.to(at::kLong);
    return at::matmul(x, y);
}

at::Tensor einsum(const KernelContext& k) { return at::einsum(k.getString("equation"), k.inputs("values")); }

}  // namespace

void populateLinearKernels(KernelTable& t) {
    t.add("linear", linear);
    t.add("matmul", matmul);
    t.add("einsum", einsum);
}

TS2COREML_FAMILY(KernelTable, Linear, populateLinearKernels)

}  // namespace ts2coreml::runtime
