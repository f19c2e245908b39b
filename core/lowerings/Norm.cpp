// Norms: norm (every p, over dims or everything), frobenius_norm, linalg_vector_norm,
// linalg_matrix_norm ('fro', 1, -1, inf, -inf) and linalg_norm, which picks one of the two.
// The spectral norms ('nuc', 2, -2) need singular values, which Core ML has no op for: refused.
#include "lowerings/Builtins.h"
#include "lowerings/ReductionSupport.h"

#include <ts2coreml/LoweringSupport.h>

#include <cmath>
#include <limits>

namespace ts2coreml::lowering {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// The vector p-norm (sum |x|^p)^(1/p) over axes: max |x| for inf, min |x| for -inf, the count of
/// non-zeros for 0.
mil::Value* vectorNorm(mil::Builder& b, mil::Value* x, double p, const std::vector<int64_t>& axes, bool keep) {
    auto reduce = [&](const char* op, mil::Value* v) {
        return b.add(op, {{"x", v}, {"axes", axes}, {"keep_dims", keep}});
    };
    if (p == 2.0) return reduce("reduce_l2_norm", x);
    if (p == 1.0) return reduce("reduce_l1_norm", x);
    mil::Value* magnitude = b.add("abs", {{"x", x}});
    if (p == kInf) return reduce("reduce_max", magnitude);
    if (p == -kInf) return reduce("reduce_min", magnitude);
    if (p == 0.0) return castTo(b, reduce("reduce_sum", nonZeroAsInt(b, x)), x->type().dtype);
    mil::Value* powers = b.add("pow", {{"x", magnitude}, {"y", scalarLike(b, p, x)}});
    return b.add("pow", {{"x", reduce("reduce_sum", powers)}, {"y", scalarLike(b, 1.0 / p, x)}});
}

/// The matrix norm over the two axes (rows, columns) for a numeric ord: the largest (1) or smallest
/// (-1) column sum of |x|, the largest (inf) or smallest (-inf) row sum.
mil::Value* matrixNorm(LoweringContext& ctx, mil::Value* x, double ord, int64_t rows, int64_t cols, bool keep) {
    mil::Builder& b = ctx.builder();
    if (std::abs(ord) != 1.0 && std::abs(ord) != kInf)
        ctx.fail("matrix norm ord=" + numberText(ord) +
                 " is not supported: ord 2 and -2 are singular values, which Core ML cannot compute "
                 "(supported: 'fro', 1, -1, inf, -inf)");
    const int64_t summed = std::abs(ord) == 1.0 ? rows : cols;
    mil::Value* sums = b.add(
        "reduce_sum", {{"x", b.add("abs", {{"x", x}})}, {"axes", std::vector<int64_t>{summed}}, {"keep_dims", true}});
    // The summed axis has size 1 now: reducing both keeps or drops the two together.
    return b.add(ord > 0 ? "reduce_max" : "reduce_min",
                 {{"x", sums}, {"axes", std::vector<int64_t>{rows, cols}}, {"keep_dims", keep}});
}

mil::Value* stringNorm(LoweringContext& ctx, mil::Value* x, const std::string& ord, const std::vector<int64_t>& axes,
                       bool keep) {
    if (ord == "fro") return vectorNorm(ctx.builder(), x, 2.0, axes, keep);
    if (ord == "nuc")
        ctx.fail("the nuclear norm (ord='nuc') is the sum of the singular values, which Core ML cannot compute");
    ctx.fail("norm ord='" + ord + "' is not a matrix norm (expected 'fro' or 'nuc')");
}

/// A constant norm order: p / ord, None meaning `whenNone`.
double order(LoweringContext& ctx, const std::string& name, double whenNone) {
    if (!ctx.hasArg(name) || ctx.isNone(name)) return whenNone;
    if (!isNumberLiteral(ctx.arg(name))) ctx.fail(name + " must be a constant number, got " + ctx.arg(name).describe());
    return literalNumber(ctx.arg(name));
}

/// `self` as a float tensor, in the `dtype` argument when one is given.
mil::Value* normInput(LoweringContext& ctx) { return toFloat(ctx.builder(), reductionInput(ctx)); }

bool keepDim(const LoweringContext& ctx) { return ctx.hasArg("keepdim") && ctx.getBool("keepdim"); }

// norm(self, p=2) / norm(self, p, dim, keepdim[, dtype]); frobenius_norm(self[, dim, keepdim]);
// linalg_vector_norm(self, ord=2, dim=None, keepdim, dtype). No dims (or empty dims): every element.
LoweringFn lowerVectorNorm(const char* orderArg) {
    return [orderArg](LoweringContext& ctx) {
        mil::Value* x = normInput(ctx);
        const double p = order(ctx, orderArg, 2.0);
        if (rankOf(x) == 0) x = ctx.builder().add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
        ctx.bind(0, vectorNorm(ctx.builder(), x, p, reductionAxes(ctx, x), keepDim(ctx)));
    };
}

/// The two axes of a matrix norm, normalized; fails unless there are two distinct ones.
std::pair<int64_t, int64_t> matrixAxes(LoweringContext& ctx, mil::Value* x, const std::vector<int64_t>& dims) {
    if (dims.size() != 2) ctx.fail("a matrix norm needs two dims, got " + std::to_string(dims.size()));
    const int64_t rows = normalizeDim(ctx, dims[0], rankOf(x), "dim");
    const int64_t cols = normalizeDim(ctx, dims[1], rankOf(x), "dim");
    if (rows == cols) ctx.fail("a matrix norm needs two different dims, got " + std::to_string(dims[0]) + " twice");
    return {rows, cols};
}

// linalg_matrix_norm(self, ord, dim=[-2, -1], keepdim, dtype), ord a number or a string.
void lowerMatrixNorm(LoweringContext& ctx) {
    mil::Value* x = normInput(ctx);
    const auto [rows, cols] = matrixAxes(ctx, x, intList(ctx, "dim"));
    if (ctx.arg("ord").isConstant() && !isNumberLiteral(ctx.arg("ord")))
        return ctx.bind(0, stringNorm(ctx, x, ctx.getString("ord"), {rows, cols}, keepDim(ctx)));
    ctx.bind(0, matrixNorm(ctx, x, order(ctx, "ord", 2.0), rows, cols, keepDim(ctx)));
}

// linalg_norm(self, ord=None, dim=None, keepdim, dtype): a vector norm over one dim, a matrix norm
// over two; with dim None, the 2-norm of every element (ord None) or the input's own rank (1 or 2)
// decides.
void lowerLinalgNorm(LoweringContext& ctx) {
    mil::Value* x = normInput(ctx);
    const bool keep = keepDim(ctx);
    const bool stringOrd = ctx.arg("ord").isConstant() && !isNumberLiteral(ctx.arg("ord"));
    const bool noDims = ctx.isNone("dim");
    if (ctx.isNone("ord") && noDims) {
        if (rankOf(x) == 0) x = ctx.builder().add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0}}});
        return ctx.bind(0, vectorNorm(ctx.builder(), x, 2.0, reductionAxes(ctx, x), keep));
    }
    std::vector<int64_t> dims;
    if (noDims) {
        if (rankOf(x) != 1 && rankOf(x) != 2)
            ctx.fail("linalg_norm with an ord and no dim needs a 1-D or 2-D input, got " + x->type().str());
        dims = rankOf(x) == 1 ? std::vector<int64_t>{0} : std::vector<int64_t>{0, 1};
    } else {
        dims = intList(ctx, "dim");
    }
    if (dims.size() == 1 && !stringOrd) {
        const int64_t axis = normalizeDim(ctx, dims[0], rankOf(x), "dim");
        return ctx.bind(0, vectorNorm(ctx.builder(), x, order(ctx, "ord", 2.0), {axis}, keep));
    }
    const auto [rows, cols] = matrixAxes(ctx, x, dims);
    if (stringOrd) return ctx.bind(0, stringNorm(ctx, x, ctx.getString("ord"), {rows, cols}, keep));
    if (ctx.isNone("ord")) return ctx.bind(0, vectorNorm(ctx.builder(), x, 2.0, {rows, cols}, keep));
    ctx.bind(0, matrixNorm(ctx, x, order(ctx, "ord", 2.0), rows, cols, keep));
}

}  // namespace

void populateNormLowerings(Registry& r) {
    r.add("aten::norm", lowerVectorNorm("p"));
    r.add("aten::frobenius_norm", lowerVectorNorm("p"));
    r.add("aten::linalg_vector_norm", lowerVectorNorm("ord"));
    r.add("aten::linalg_matrix_norm", lowerMatrixNorm);
    r.add("aten::linalg_norm", lowerLinalgNorm);
}

TS2COREML_FAMILY(Registry, Norm, populateNormLowerings)

}  // namespace ts2coreml::lowering
