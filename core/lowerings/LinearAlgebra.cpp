// Linear algebra: cdist, and the inverse and determinant of small matrices. Core ML has no matrix
// decompositions, so det and inverse of an n x n matrix (n <= 4, static) are the Leibniz formula:
// every product of n entries (one per row and column) is gathered from the flattened matrix at
// once, multiplied out, and summed with the permutation's sign by a constant `linear`; the inverse
// is the adjugate (the cofactors, each such a sum over a minor) divided by the determinant.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace ts2coreml::lowering {
namespace {

constexpr int64_t kMaxClosedForm = 4;

/// sign(p) * prod_r m[rows[r]][cols[p[r]]] for every permutation p of cols: the terms of the
/// determinant of the submatrix, as flat indices into the n x n matrix and signs.
struct Terms {
    std::vector<int32_t> indices;  ///< per term, rows.size() flat indices
    std::vector<float> signs;
};

void leibnizTerms(const std::vector<int64_t>& rows, const std::vector<int64_t>& cols, int64_t n, Terms& out) {
    std::vector<size_t> p(cols.size());
    std::iota(p.begin(), p.end(), 0);
    do {
        int inversions = 0;
        for (size_t i = 0; i < p.size(); ++i)
            for (size_t j = i + 1; j < p.size(); ++j) inversions += p[i] > p[j];
        for (size_t r = 0; r < rows.size(); ++r) out.indices.push_back(static_cast<int32_t>(rows[r] * n + cols[p[r]]));
        out.signs.push_back(inversions % 2 ? -1.0f : 1.0f);
    } while (std::next_permutation(p.begin(), p.end()));
}

/// The static size n of the square matrices in `a` [..., n, n]; fails naming the size otherwise.
int64_t squareSize(const LoweringContext& ctx, mil::Value* a) {
    const int64_t rank = rankOf(a);
    if (rank < 2) ctx.fail("expected matrices [..., n, n], got " + a->type().str());
    const auto rows = staticDim(a, rank - 2), cols = staticDim(a, rank - 1);
    if (!rows || !cols) ctx.fail("the matrix size of " + a->type().str() + " must be static");
    if (*rows != *cols) ctx.fail("expected square matrices, got " + a->type().str());
    if (*rows > kMaxClosedForm)
        ctx.fail("matrices of size " + std::to_string(*rows) + " x " + std::to_string(*rows) +
                 " are not supported: Core ML has no matrix decomposition, and the closed form is built for n <= " +
                 std::to_string(kMaxClosedForm));
    return *rows;
}

/// For each group of terms (group g = terms [g * perGroup, (g + 1) * perGroup)), the signed sum of
/// the products: `a` [..., n, n] -> [..., groups].
mil::Value* sumsOfProducts(LoweringContext& ctx, mil::Value* a, int64_t n, const Terms& terms, int64_t groups) {
    mil::Builder& b = ctx.builder();
    const int64_t rank = rankOf(a);
    const auto count = static_cast<int64_t>(terms.signs.size());
    const int64_t factors = static_cast<int64_t>(terms.indices.size()) / count;
    std::vector<Arg> flat = dimArgs(b, a, 0, rank - 2);
    flat.push_back(intArg(n * n));
    mil::Value* entries = reshapeTo(ctx, a, flat);
    mil::Value* indices = b.constant(mil::ConstData::fromInts(terms.indices, {count, factors}));
    // [..., n * n] -> [..., count, factors] -> [..., count]
    mil::Value* gathered = b.add("gather", {{"x", entries}, {"indices", indices}, {"axis", rank - 2}});
    mil::Value* products =
        b.add("reduce_prod", {{"x", gathered}, {"axes", std::vector<int64_t>{rank - 1}}, {"keep_dims", false}});
    std::vector<float> weight(static_cast<size_t>(groups * count), 0.0f);
    const int64_t perGroup = count / groups;
    for (int64_t t = 0; t < count; ++t) weight[static_cast<size_t>((t / perGroup) * count + t)] = terms.signs[t];
    return b.add("linear",
                 {{"x", products}, {"weight", b.constant(mil::ConstData::fromFloats(weight, {groups, count}))}});
}

std::vector<int64_t> allBut(int64_t n, int64_t skip) {
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i)
        if (i != skip) out.push_back(i);
    return out;
}

/// det of `a` [..., n, n] as [..., 1].
mil::Value* determinant(LoweringContext& ctx, mil::Value* a, int64_t n) {
    Terms terms;
    leibnizTerms(allBut(n, -1), allBut(n, -1), n, terms);
    return sumsOfProducts(ctx, a, n, terms, 1);
}

mil::Value* matrixArg(LoweringContext& ctx, const std::string& name) {
    mil::Value* a = ctx.tensor(name);
    if (!isFloat(a->type().dtype)) ctx.fail("'" + name + "' must be a floating tensor, got " + a->type().str());
    return a;
}

// linalg_det(A) / det(self): [..., n, n] -> [...]
void lowerDet(LoweringContext& ctx) {
    mil::Value* a = matrixArg(ctx, ctx.hasArg("A") ? "A" : "self");
    const int64_t n = squareSize(ctx, a);
    ctx.bind(0, reshapeTo(ctx, determinant(ctx, a, n), dimArgs(ctx.builder(), a, 0, rankOf(a) - 2)));
}

// linalg_inv(A) / inverse(self) = adj(A) / det(A), adj(A)[j][i] = (-1)^(i+j) det(A without row i, col j).
void lowerInverse(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* a = matrixArg(ctx, ctx.hasArg("A") ? "A" : "self");
    const int64_t n = squareSize(ctx, a);
    const int64_t rank = rankOf(a);
    if (n == 1) return ctx.bind(0, b.add("real_div", {{"x", scalarLike(b, 1.0, a)}, {"y", a}}));
    Terms cofactors;
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < n; ++i) {
            const size_t first = cofactors.signs.size();
            leibnizTerms(allBut(n, i), allBut(n, j), n, cofactors);
            if ((i + j) % 2)
                for (size_t t = first; t < cofactors.signs.size(); ++t) cofactors.signs[t] = -cofactors.signs[t];
        }
    mil::Value* adjugate = sumsOfProducts(ctx, a, n, cofactors, n * n);  // [..., n * n], row-major adj
    std::vector<Arg> square = dimArgs(b, a, 0, rank - 2);
    square.insert(square.end(), {intArg(n), intArg(n)});
    std::vector<Arg> one = dimArgs(b, a, 0, rank - 2);
    one.insert(one.end(), {intArg(1), intArg(1)});
    mil::Value* det = reshapeTo(ctx, determinant(ctx, a, n), one);
    ctx.bind(0, b.add("real_div", {{"x", reshapeTo(ctx, adjugate, square)}, {"y", det}}));
}

// cdist(x1 [..., P, M], x2 [..., R, M], p, compute_mode) -> [..., P, R]. p = 2 uses torch's
// expanded form |a|^2 + |b|^2 - 2 a.b (clamped at 0) where torch does: compute_mode 1, or
// None / 0 with P or R above 25; otherwise the differences are formed by broadcasting.
void lowerCdist(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x1 = toFloat(b, ctx.tensor("x1"));
    mil::Value* x2 = toFloat(b, ctx.tensor("x2"));
    if (rankOf(x1) < 2 || rankOf(x2) < 2)
        ctx.fail("cdist takes [..., P, M] and [..., R, M], got " + x1->type().str() + " and " + x2->type().str());
    const double p = ctx.getDouble("p");
    if (p < 0) ctx.fail("cdist needs p >= 0, got " + numberText(p));
    const int64_t mode = ctx.optInt("compute_mode").value_or(0);
    if (mode < 0 || mode > 2) ctx.fail("compute_mode must be None, 0, 1 or 2, got " + std::to_string(mode));
    const auto rows1 = staticDim(x1, rankOf(x1) - 2), rows2 = staticDim(x2, rankOf(x2) - 2);
    const bool large = !rows1 || !rows2 || *rows1 > 25 || *rows2 > 25;
    const int64_t last1 = rankOf(x1) - 1, last2 = rankOf(x2) - 1;
    auto sumLast = [&](mil::Value* v, int64_t axis, bool keep) {
        return b.add("reduce_sum", {{"x", v}, {"axes", std::vector<int64_t>{axis}}, {"keep_dims", keep}});
    };
    if (p == 2.0 && (mode == 1 || (mode == 0 && large))) {
        mil::Value* a2 = sumLast(b.add("mul", {{"x", x1}, {"y", x1}}), last1, true);  // [..., P, 1]
        mil::Value* b2 = b.add("expand_dims", {{"x", sumLast(b.add("mul", {{"x", x2}, {"y", x2}}), last2, false)},
                                               {"axes", std::vector<int64_t>{last2 - 1}}});  // [..., 1, R]
        mil::Value* ab = b.add("matmul", {{"x", x1}, {"y", x2}, {"transpose_y", true}});
        mil::Value* d2 = b.add("sub", {{"x", b.add("add", {{"x", a2}, {"y", b2}})},
                                       {"y", b.add("mul", {{"x", ab}, {"y", scalarLike(b, 2.0, ab)}})}});
        d2 = b.add("maximum", {{"x", d2}, {"y", scalarLike(b, 0.0, d2)}});
        return ctx.bind(0, b.add("sqrt", {{"x", d2}}));
    }
    mil::Value* d = b.add("sub", {{"x", b.add("expand_dims", {{"x", x1}, {"axes", std::vector<int64_t>{last1}}})},
                                  {"y", b.add("expand_dims", {{"x", x2}, {"axes", std::vector<int64_t>{last2 - 1}}})}});
    const int64_t axis = rankOf(d) - 1;
    mil::Value* magnitude = b.add("abs", {{"x", d}});
    mil::Value* out;
    if (p == 0.0) {
        mil::Value* nonzero = b.add("not_equal", {{"x", d}, {"y", scalarLike(b, 0.0, d)}});
        out = sumLast(castTo(b, nonzero, d->type().dtype), axis, false);
    } else if (std::isinf(p)) {
        out = b.add("reduce_max", {{"x", magnitude}, {"axes", std::vector<int64_t>{axis}}, {"keep_dims", false}});
    } else if (p == 1.0) {
        out = sumLast(magnitude, axis, false);
    } else if (p == 2.0) {
        out = b.add("sqrt", {{"x", sumLast(b.add("mul", {{"x", d}, {"y", d}}), axis, false)}});
    } else {
        mil::Value* powered = b.add("pow", {{"x", magnitude}, {"y", scalarLike(b, p, d)}});
        out = b.add("pow", {{"x", sumLast(powered, axis, false)}, {"y", scalarLike(b, 1.0 / p, d)}});
    }
    ctx.bind(0, out);
}

}  // namespace

void populateLinearAlgebraLowerings(Registry& r) {
    r.add("aten::cdist", lowerCdist);
    r.add("aten::linalg_det", lowerDet);
    r.add("aten::det", lowerDet);
    r.add("aten::linalg_inv", lowerInverse);
    r.add("aten::inverse", lowerInverse);
}

TS2COREML_FAMILY(Registry, LinearAlgebra, populateLinearAlgebraLowerings)

}  // namespace ts2coreml::lowering
