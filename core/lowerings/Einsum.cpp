// Contractions: einsum of any equation and number of operands, and the products beside it (dot,
// linalg_vecdot, trace, addbmm, cross). einsum becomes ops both formats have: transpose, reshape,
// reduce_sum, mul, and one matmul per pair of operands that shares a summed subscript; a subscript
// repeated within an operand first takes that diagonal (aten::diagonal).
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ts2coreml::lowering {
namespace {

// A subscript: a letter's character code, or kEllipsis + i for the i-th of the dims ellipses
// cover, numbered so that the ellipses of all operands align on the right (they broadcast).
using Label = int;
constexpr Label kEllipsis = 256;
using Labels = std::vector<Label>;

/// A tensor and the subscript of each of its dims.
struct Term {
    mil::Value* value;
    Labels labels;
};

bool contains(const Labels& labels, Label l) { return std::find(labels.begin(), labels.end(), l) != labels.end(); }

int64_t indexOf(const Term& t, Label l) {
    return static_cast<int64_t>(std::find(t.labels.begin(), t.labels.end(), l) - t.labels.begin());
}

Labels joined(std::initializer_list<const Labels*> parts) {
    Labels out;
    for (const Labels* p : parts) out.insert(out.end(), p->begin(), p->end());
    return out;
}

/// One operand's subscripts as written: the letters before and after its "..." (if any).
struct Subscripts {
    Labels before, after;
    bool ellipsis = false;
    int64_t letters() const { return static_cast<int64_t>(before.size() + after.size()); }
};

Subscripts parseSubscripts(const LoweringContext& ctx, const std::string& text) {
    Subscripts s;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ') continue;
        if (c == '.') {
            if (s.ellipsis || text.compare(i, 3, "...") != 0)
                ctx.fail("einsum subscripts '" + text + "': dots must form a single '...'");
            s.ellipsis = true;
            i += 2;
            continue;
        }
        if (!std::isalpha(static_cast<unsigned char>(c)))
            ctx.fail("einsum subscripts '" + text + "': '" + std::string(1, c) + "' is not a letter");
        (s.ellipsis ? s.after : s.before).push_back(c);
    }
    return s;
}

/// The labels of `s`, its ellipsis covering the last `covered` of the `total` ellipsis dims.
Labels expandEllipsis(const Subscripts& s, int64_t covered, int64_t total) {
    Labels labels = s.before;
    for (int64_t i = total - covered; i < total; ++i) labels.push_back(kEllipsis + static_cast<Label>(i));
    labels.insert(labels.end(), s.after.begin(), s.after.end());
    return labels;
}

std::vector<std::string> splitAt(const std::string& text, char separator) {
    std::vector<std::string> parts{""};
    for (char c : text) {
        if (c == separator)
            parts.emplace_back();
        else
            parts.back() += c;
    }
    return parts;
}

struct Equation {
    std::vector<Term> operands;
    Labels output;
};

Equation parseEquation(const LoweringContext& ctx, const std::string& equation,
                       const std::vector<mil::Value*>& values) {
    const auto arrow = equation.find("->");
    const std::vector<std::string> inputs = splitAt(equation.substr(0, arrow), ',');
    if (inputs.size() != values.size())
        ctx.fail("einsum equation '" + equation + "' has subscripts for " + std::to_string(inputs.size()) +
                 " operands, given " + std::to_string(values.size()) + " tensors");
    std::vector<Subscripts> parsed;
    int64_t total = 0;  // dims the widest ellipsis covers
    for (size_t i = 0; i < inputs.size(); ++i) {
        parsed.push_back(parseSubscripts(ctx, inputs[i]));
        const int64_t rank = rankOf(values[i]);
        const int64_t letters = parsed.back().letters();
        if (parsed.back().ellipsis ? letters > rank : letters != rank)
            ctx.fail("einsum subscripts '" + inputs[i] + "' do not fit operand " + std::to_string(i) + " " +
                     values[i]->type().str());
        total = std::max(total, rank - letters);
    }
    Equation eq;
    std::map<Label, int> uses;
    for (size_t i = 0; i < inputs.size(); ++i) {
        eq.operands.push_back({values[i], expandEllipsis(parsed[i], rankOf(values[i]) - parsed[i].letters(), total)});
        for (Label l : eq.operands.back().labels) ++uses[l];
    }
    if (arrow == std::string::npos) {
        // torch's implicit output: the ellipsis dims, then the letters used once, in alphabetical order.
        for (int64_t i = 0; i < total; ++i) eq.output.push_back(kEllipsis + static_cast<Label>(i));
        for (const auto& [label, count] : uses)
            if (label < kEllipsis && count == 1) eq.output.push_back(label);
        return eq;
    }
    const std::string outputText = equation.substr(arrow + 2);
    const Subscripts output = parseSubscripts(ctx, outputText);
    eq.output = expandEllipsis(output, output.ellipsis ? total : 0, total);
    for (size_t i = 0; i < eq.output.size(); ++i) {
        const Label l = eq.output[i];
        if (!uses.count(l))
            ctx.fail("einsum output subscript '" + std::string(1, static_cast<char>(l)) +
                     "' appears in no operand of '" + equation + "'");
        if (std::count(eq.output.begin(), eq.output.end(), l) > 1)
            ctx.fail("einsum output subscripts '" + outputText + "' repeat '" + std::string(1, static_cast<char>(l)) +
                     "'");
    }
    return eq;
}

/// `t` with each subscript it repeats replaced by that diagonal (as the last dim, aten::diagonal's).
Term withDistinctLabels(LoweringContext& ctx, Term t) {
    for (size_t i = 0; i < t.labels.size(); ++i) {
        for (size_t j = i + 1; j < t.labels.size(); ++j) {
            if (t.labels[i] != t.labels[j]) continue;
            const Label l = t.labels[i];
            t.value = callTensor(ctx, "aten::diagonal",
                                 {{"self", Arg::tensor(t.value)},
                                  {"offset", intArg(0)},
                                  {"dim1", intArg(static_cast<int64_t>(i))},
                                  {"dim2", intArg(static_cast<int64_t>(j))}});
            t.labels.erase(t.labels.begin() + static_cast<std::ptrdiff_t>(j));
            t.labels.erase(t.labels.begin() + static_cast<std::ptrdiff_t>(i));
            t.labels.push_back(l);
            return withDistinctLabels(ctx, std::move(t));
        }
    }
    return t;
}

/// `t` summed over the dims whose label `drop` selects.
Term sumOut(mil::Builder& b, Term t, const std::function<bool(Label)>& drop) {
    std::vector<int64_t> axes;
    Labels kept;
    for (size_t i = 0; i < t.labels.size(); ++i) {
        if (drop(t.labels[i]))
            axes.push_back(static_cast<int64_t>(i));
        else
            kept.push_back(t.labels[i]);
    }
    if (axes.empty()) return t;
    return {b.add("reduce_sum", {{"x", t.value}, {"axes", axes}, {"keep_dims", false}}), kept};
}

mil::Value* sumKeepingDim(mil::Builder& b, mil::Value* x, int64_t axis) {
    return b.add("reduce_sum", {{"x", x}, {"axes", std::vector<int64_t>{axis}}, {"keep_dims", true}});
}

/// `t` laid out as `order`: transposed, with unit dims where `order` has a label `t` lacks.
mil::Value* alignedTo(mil::Builder& b, const Term& t, const Labels& order) {
    std::vector<int64_t> perm, missing;
    for (size_t i = 0; i < order.size(); ++i) {
        if (contains(t.labels, order[i]))
            perm.push_back(indexOf(t, order[i]));
        else
            missing.push_back(static_cast<int64_t>(i));
    }
    mil::Value* v = permuted(b, t.value, perm);
    return missing.empty() ? v : b.add("expand_dims", {{"x", v}, {"axes", missing}});
}

/// The product of dims [begin, end) of `x`: a constant when they are static.
Arg productOf(LoweringContext& ctx, mil::Value* x, int64_t begin, int64_t end) {
    mil::Builder& b = ctx.builder();
    int64_t known = 1;
    bool isStatic = true;
    for (int64_t i = begin; i < end; ++i) {
        auto d = staticDim(x, i);
        isStatic = isStatic && d.has_value();
        known *= d.value_or(1);
    }
    if (isStatic) return intArg(known);
    if (end - begin == 1) return dimArg(b, x, begin);
    return Arg::dynamicScalar(b.add(
        "reduce_prod", {{"x", shapeSlice(b, x, begin, end)}, {"axes", std::vector<int64_t>{0}}, {"keep_dims", false}}));
}

/// `t` as [batch..., prod(first), prod(second)]: transposed into that order, the groups merged.
mil::Value* grouped(LoweringContext& ctx, const Term& t, const Labels& batch, const Labels& first,
                    const Labels& second) {
    mil::Builder& b = ctx.builder();
    std::vector<int64_t> perm;
    for (Label l : joined({&batch, &first, &second})) perm.push_back(indexOf(t, l));
    mil::Value* v = permuted(b, t.value, perm);
    if (first.size() == 1 && second.size() == 1) return v;
    const auto nb = static_cast<int64_t>(batch.size());
    const int64_t split = nb + static_cast<int64_t>(first.size());
    std::vector<Arg> shape = dimArgs(b, v, 0, nb);
    shape.push_back(productOf(ctx, v, nb, split));
    shape.push_back(productOf(ctx, v, split, rankOf(v)));
    return reshapeTo(ctx, v, shape);
}

/// The product of `a` and `c`, summed over the subscripts they share that `keep` (the output's and
/// the later operands') lacks. Shared kept subscripts are batch dims of one matmul.
Term contract(LoweringContext& ctx, Term a, Term c, const std::set<Label>& keep) {
    mil::Builder& b = ctx.builder();
    auto unused = [&](const Term& other) {
        return [&keep, &other](Label l) { return !keep.count(l) && !contains(other.labels, l); };
    };
    a = sumOut(b, a, unused(c));
    c = sumOut(b, c, unused(a));
    Labels batch, aOnly, summed, cOnly;
    for (Label l : a.labels) (contains(c.labels, l) ? (keep.count(l) ? batch : summed) : aOnly).push_back(l);
    for (Label l : c.labels)
        if (!contains(a.labels, l)) cOnly.push_back(l);
    // A summed dim of size 1 on one side broadcasts: sum the other side over it first (torch's
    // einsum('ij,jk', a[2, 1], c[3, 4]) is a[:, 0] times the column sums of c).
    const auto one = std::optional<int64_t>(1);
    for (Label l : summed) {
        const int64_t ia = indexOf(a, l), ic = indexOf(c, l);
        const bool aOne = staticDim(a.value, ia) == one, cOne = staticDim(c.value, ic) == one;
        if (aOne && !cOne) c.value = sumKeepingDim(b, c.value, ic);
        if (cOne && !aOne) a.value = sumKeepingDim(b, a.value, ia);
    }
    const Labels result = joined({&batch, &aOnly, &cOnly});
    if (summed.empty()) return {b.add("mul", {{"x", alignedTo(b, a, result)}, {"y", alignedTo(b, c, result)}}), result};

    // a as [batch..., M, K] and c as [batch..., K, N], or as their transposes when that is how they
    // are laid out already.
    const bool tx = a.labels == joined({&batch, &summed, &aOnly});
    const bool ty = c.labels == joined({&batch, &cOnly, &summed});
    mil::Value* x = tx ? grouped(ctx, a, batch, summed, aOnly) : grouped(ctx, a, batch, aOnly, summed);
    mil::Value* y = ty ? grouped(ctx, c, batch, cOnly, summed) : grouped(ctx, c, batch, summed, cOnly);
    mil::Value* product = b.add("matmul", {{"x", x}, {"y", y}, {"transpose_x", tx}, {"transpose_y", ty}});
    if (aOnly.size() == 1 && cOnly.size() == 1) return {product, result};
    std::vector<Arg> shape = dimArgs(b, product, 0, static_cast<int64_t>(batch.size()));
    for (Label l : aOnly) shape.push_back(dimArg(b, a.value, indexOf(a, l)));
    for (Label l : cOnly) shape.push_back(dimArg(b, c.value, indexOf(c, l)));
    return {reshapeTo(ctx, product, shape), result};
}

// einsum(equation, tensors): the operands contracted left to right, then summed over the subscripts
// the output lacks and transposed into its order.
void lowerEinsum(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    std::vector<mil::Value*> values = ctx.tensors("tensors");
    if (values.empty()) ctx.fail("einsum needs at least one operand");
    DType common = values.front()->type().dtype;
    for (mil::Value* v : values) common = promote(common, v->type().dtype);
    if (common == DType::Bool) ctx.fail("einsum of bool tensors is not supported; cast them to int or float");
    for (mil::Value*& v : values) v = castTo(b, v, common);
    const Equation eq = parseEquation(ctx, ctx.getString("equation"), values);

    Term acc = withDistinctLabels(ctx, eq.operands.front());
    for (size_t i = 1; i < eq.operands.size(); ++i) {
        std::set<Label> keep(eq.output.begin(), eq.output.end());
        for (size_t j = i + 1; j < eq.operands.size(); ++j)
            keep.insert(eq.operands[j].labels.begin(), eq.operands[j].labels.end());
        acc = contract(ctx, acc, withDistinctLabels(ctx, eq.operands[i]), keep);
    }
    acc = sumOut(b, acc, [&](Label l) { return !contains(eq.output, l); });
    ctx.bind(0, alignedTo(b, acc, eq.output));
}

/// sum(x * y) along `dim` (of the broadcast product), for dot products of real tensors.
mil::Value* sumOfProducts(LoweringContext& ctx, mil::Value* x, mil::Value* y, int64_t dim) {
    mil::Builder& b = ctx.builder();
    mil::Value* product = b.add("mul", {{"x", x}, {"y", y}});
    const int64_t axis = normalizeDim(ctx, dim, rankOf(product), "dim");
    return b.add("reduce_sum", {{"x", product}, {"axes", std::vector<int64_t>{axis}}, {"keep_dims", false}});
}

void lowerDot(LoweringContext& ctx) {
    auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("tensor"));
    if (rankOf(x) != 1 || rankOf(y) != 1)
        ctx.fail("dot expects two 1-D tensors, got " + x->type().str() + " and " + y->type().str());
    ctx.bind(0, sumOfProducts(ctx, x, y, 0));
}

// linalg_vecdot(x, y, dim): x and y broadcast together; real inputs need no conjugate.
void lowerVecdot(LoweringContext& ctx) {
    auto [x, y] = binaryOperands(ctx, ctx.arg("x"), ctx.arg("y"));
    ctx.bind(0, sumOfProducts(ctx, x, y, ctx.getInt("dim")));
}

// trace(self) = sum of the main diagonal of a matrix (of min(rows, cols) elements).
void lowerTrace(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    if (rankOf(x) != 2) ctx.fail("trace expects a matrix, got " + x->type().str());
    mil::Value* diagonal = callTensor(ctx, "aten::diagonal", {{"self", Arg::tensor(x)}});
    ctx.bind(
        0, ctx.builder().add("reduce_sum", {{"x", diagonal}, {"axes", std::vector<int64_t>{0}}, {"keep_dims", false}}));
}

// addbmm(self, batch1, batch2, beta, alpha) = beta * self + alpha * sum_i batch1[i] @ batch2[i].
// The sum of B products [n, m] @ [m, p] is one product [n, B*m] @ [B*m, p]: batch1's matrices side
// by side, batch2's stacked.
void lowerAddbmm(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* batch1 = ctx.tensor("batch1");
    mil::Value* batch2 = ctx.tensor("batch2");
    if (rankOf(batch1) != 3 || rankOf(batch2) != 3)
        ctx.fail("addbmm expects 3-D batches, got " + batch1->type().str() + " and " + batch2->type().str());
    mil::Value* side = b.add("transpose", {{"x", batch1}, {"perm", std::vector<int64_t>{1, 0, 2}}});
    side = reshapeTo(ctx, side, {dimArg(b, batch1, 1), intArg(-1)});
    mil::Value* stacked = reshapeTo(ctx, batch2, {intArg(-1), dimArg(b, batch2, 2)});
    ctx.bind(0, callTensor(ctx, "aten::addmm",
                           {{"self", ctx.arg("self")},
                            {"mat1", Arg::tensor(side)},
                            {"mat2", Arg::tensor(stacked)},
                            {"beta", ctx.arg("beta")},
                            {"alpha", ctx.arg("alpha")}}));
}

// cross(self, other, dim) along a dim of size 3: with a1 = [a_1, a_2, a_0] and a2 = [a_2, a_0, a_1]
// (the components rotated), a x b = a1 * b2 - a2 * b1. cross's dim=None is the first dim of size 3.
void lowerCross(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    auto [x, y] = binaryOperands(ctx, ctx.arg("self"), ctx.arg("other"));
    mil::Value* wider = rankOf(x) >= rankOf(y) ? x : y;
    const int64_t rank = rankOf(wider);
    int64_t dim = -1;
    if (ctx.isNone("dim")) {
        for (int64_t i = rank - 1; i >= 0; --i)
            if (staticDim(wider, i) == std::optional<int64_t>(3)) dim = i;
        if (dim < 0) ctx.fail("cross without dim needs a dimension of size 3, got " + wider->type().str());
    } else {
        dim = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
    }
    auto rotated = [&](mil::Value* v, std::vector<int64_t> order) {
        const int64_t axis = dim - (rank - rankOf(v));
        if (axis < 0 || staticDim(v, axis) != std::optional<int64_t>(3))
            ctx.fail("cross needs size 3 along dim " + std::to_string(dim) + " of both operands, got " +
                     v->type().str());
        return b.add("gather", {{"x", v}, {"indices", b.ints(std::move(order))}, {"axis", axis}});
    };
    mil::Value* first = b.add("mul", {{"x", rotated(x, {1, 2, 0})}, {"y", rotated(y, {2, 0, 1})}});
    mil::Value* second = b.add("mul", {{"x", rotated(x, {2, 0, 1})}, {"y", rotated(y, {1, 2, 0})}});
    ctx.bind(0, b.add("sub", {{"x", first}, {"y", second}}));
}

}  // namespace

void populateEinsumLowerings(Registry& r) {
    r.add("aten::einsum", lowerEinsum);
    r.add("aten::dot", lowerDot);
    r.add("aten::linalg_vecdot", lowerVecdot);
    r.add("aten::trace", lowerTrace);
    r.add("aten::addbmm", lowerAddbmm);
    r.add("aten::cross", lowerCross);
    r.add("aten::linalg_cross", lowerCross);
}

TS2COREML_FAMILY(Registry, Einsum, populateEinsumLowerings)

}  // namespace ts2coreml::lowering
