// Linear algebra: linear, matmul and its 2-D/batched spellings, addmm, t.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

// linear(x, W, b) = x @ W^T + b. MIL `linear` wants a constant W and an input of rank 1 to 3;
// otherwise matmul with transpose_y.
void lowerLinear(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("input");
    mil::Value* w = ctx.tensor("weight");
    mil::Value* bias = ctx.isNone("bias") ? nullptr : ctx.tensor("bias");
    if (rankOf(w) != 2) ctx.fail("linear weight must have rank 2, got " + w->type().str());
    const int64_t rank = rankOf(x);
    if (w->constant() && (!bias || bias->constant()) && rank >= 1 && rank <= 3) {
        mil::OperandList in{{"x", x}, {"weight", w}};
        if (bias) in.emplace_back("bias", bias);
        return ctx.bind(0, b.add("linear", in));
    }
    mil::Value* y = b.add("matmul", {{"x", x}, {"y", w}, {"transpose_x", false}, {"transpose_y", true}});
    if (bias) y = b.add("add", {{"x", y}, {"y", bias}});
    ctx.bind(0, y);
}

/// `self @ <other>` with numpy broadcasting, which is torch.matmul's (mm and bmm are special cases).
LoweringFn matmulOf(const char* otherName) {
    return [otherName](LoweringContext& ctx) {
        auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg(otherName));
        ctx.bind(0, ctx.builder().add("matmul", {{"x", x}, {"y", y}}));
    };
}

// addmm(self, mat1, mat2, beta, alpha) = beta * self + alpha * (mat1 @ mat2)
void lowerAddmm(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    auto [m1, m2] = binaryOperands(ctx, ctx.arg("mat1"), ctx.arg("mat2"));
    mil::Value* product = b.add("matmul", {{"x", m1}, {"y", m2}});
    const double alpha = ctx.getDouble("alpha");
    const double beta = ctx.getDouble("beta");
    if (alpha != 1.0) product = b.add("mul", {{"x", product}, {"y", scalarLike(b, alpha, product)}});
    if (beta == 0.0) return ctx.bind(0, product);  // torch ignores self (even NaN) when beta = 0
    mil::Value* self = castTo(b, ctx.tensor("self"), product->type().dtype);
    if (beta != 1.0) self = b.add("mul", {{"x", self}, {"y", scalarLike(b, beta, self)}});
    ctx.bind(0, b.add("add", {{"x", product}, {"y", self}}));
}

// t(x): transpose of a matrix; vectors and scalars are returned as they are.
void lowerT(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    if (rankOf(x) > 2) ctx.fail("t() expects a tensor of rank <= 2, got " + x->type().str());
    if (rankOf(x) < 2) return ctx.bind(0, x);
    ctx.bind(0, ctx.builder().add("transpose", {{"x", x}, {"perm", std::vector<int64_t>{1, 0}}}));
}

}  // namespace

void populateLinearLowerings(Registry& r) {
    r.add("aten::linear", lowerLinear);
    r.add("aten::matmul", matmulOf("other"));
    r.add("aten::mm", matmulOf("mat2"));
    r.add("aten::bmm", matmulOf("mat2"));
    r.add("aten::addmm", lowerAddmm);
    r.add("aten::t", lowerT);
}

TS2COREML_FAMILY(Registry, Linear, populateLinearLowerings)

}  // namespace ts2coreml::lowering
