// Other spellings of ops the families lower: the internal forms torch's decompositions and traces
// leave in a graph (_softmax, native_layer_norm, native_dropout, _to_copy, lift_fresh, ...), the
// tensor-to-number conversions (item), weight normalization, and the copy of one tensor onto
// another's shape. Each builds on the family's lowering through the registry.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace ts2coreml::lowering {
namespace {

/// A lowering calling `key` with the node's arguments renamed: {name in key's schema, name here}.
LoweringFn renamed(std::string key, std::vector<std::pair<std::string, std::string>> names) {
    return [key, names](LoweringContext& ctx) {
        std::vector<std::pair<std::string, Arg>> args;
        for (const auto& [theirs, ours] : names)
            if (ctx.hasArg(ours)) args.emplace_back(theirs, ctx.arg(ours));
        const std::vector<Arg> out = ctx.call(key, args);
        for (size_t i = 0; i < out.size() && i < ctx.numOutputs(); ++i) ctx.bind(i, out[i]);
    };
}

void lowerIdentity(LoweringContext& ctx) { ctx.bind(0, ctx.arg("self")); }

std::vector<int64_t> axesFrom(int64_t begin, int64_t end) {
    std::vector<int64_t> axes;
    for (int64_t i = begin; i < end; ++i) axes.push_back(i);
    return axes;
}

/// mean and 1 / sqrt(var + eps) of `x` over `axes` (kept), torch's saved statistics of a norm.
std::pair<mil::Value*, mil::Value*> statistics(mil::Builder& b, mil::Value* x, const std::vector<int64_t>& axes,
                                               double eps) {
    mil::Value* mean = b.add("reduce_mean", {{"x", x}, {"axes", axes}, {"keep_dims", true}});
    mil::Value* centered = b.add("sub", {{"x", x}, {"y", mean}});
    mil::Value* var = b.add(
        "reduce_mean", {{"x", b.add("mul", {{"x", centered}, {"y", centered}})}, {"axes", axes}, {"keep_dims", true}});
    mil::Value* rstd = b.add("rsqrt", {{"x", var}, {"epsilon", scalarLike(b, eps, var)}});
    return {mean, rstd};
}

// native_layer_norm(input, normalized_shape, weight, bias, eps) -> (out, mean, rstd); mean and
// rstd keep the normalized dims as size 1, as torch's do.
void lowerNativeLayerNorm(LoweringContext& ctx) {
    const std::vector<Arg> out = ctx.call("aten::layer_norm", {{"input", ctx.arg("input")},
                                                               {"normalized_shape", ctx.arg("normalized_shape")},
                                                               {"weight", ctx.arg("weight")},
                                                               {"bias", ctx.arg("bias")},
                                                               {"eps", ctx.arg("eps")}});
    ctx.bind(0, out.at(0));
    mil::Value* x = toFloat(ctx.builder(), ctx.tensor("input"));
    const int64_t rank = rankOf(x);
    const auto k = static_cast<int64_t>(intList(ctx, "normalized_shape").size());
    auto [mean, rstd] = statistics(ctx.builder(), x, axesFrom(rank - k, rank), ctx.getDouble("eps"));
    ctx.bind(1, mean);
    ctx.bind(2, rstd);
}

// native_group_norm(input, weight, bias, N, C, HxW, group, eps) -> (out, mean [N, group], rstd).
void lowerNativeGroupNorm(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const std::vector<Arg> out = ctx.call("aten::group_norm", {{"input", ctx.arg("input")},
                                                               {"num_groups", ctx.arg("group")},
                                                               {"weight", ctx.arg("weight")},
                                                               {"bias", ctx.arg("bias")},
                                                               {"eps", ctx.arg("eps")}});
    ctx.bind(0, out.at(0));
    mil::Value* x = toFloat(b, ctx.tensor("input"));
    mil::Value* grouped =
        reshapeTo(ctx, x, {dimArg(b, x, 0), ctx.arg("group"), Arg::constant(mil::Literal(int64_t{-1}))});
    auto [mean, rstd] = statistics(b, grouped, {2}, ctx.getDouble("eps"));
    ctx.bind(1, b.add("squeeze", {{"x", mean}, {"axes", std::vector<int64_t>{2}}}));
    ctx.bind(2, b.add("squeeze", {{"x", rstd}, {"axes", std::vector<int64_t>{2}}}));
}

// native_dropout(input, p, train) -> (output, mask): the identity and an all-true mask in eval.
void lowerNativeDropout(LoweringContext& ctx) {
    if (!ctx.isNone("train") && ctx.getBool("train"))
        ctx.fail(
            "native_dropout with train=True drops elements at random; convert the model in eval mode "
            "(model.eval())");
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("input");
    ctx.bind(0, x);
    const auto& shape = x->type().shape;
    if (std::all_of(shape.begin(), shape.end(), [](const Dim& d) { return d.isStatic(); })) {
        std::vector<int64_t> sizes;
        for (const Dim& d : shape) sizes.push_back(d.size);
        const auto n =
            static_cast<size_t>(std::accumulate(sizes.begin(), sizes.end(), int64_t{1}, std::multiplies<>()));
        return ctx.bind(1, b.constant(mil::ConstData::fromBools(std::vector<bool>(n, true), sizes)));
    }
    ctx.bind(1, b.add("fill", {{"shape", shapeSlice(b, x, 0, rankOf(x))}, {"value", true}}));
}

// _to_copy(self, dtype, layout, device, pin_memory, non_blocking, memory_format): a cast, or the
// tensor itself (layout, device and memory format mean nothing to Core ML).
void lowerToCopy(LoweringContext& ctx) {
    if (ctx.isNone("dtype")) return ctx.bind(0, ctx.arg("self"));
    const auto dtype = dtypeFromTorch(ctx.getInt("dtype"));
    if (!dtype) ctx.fail("_to_copy to dtype " + std::to_string(ctx.getInt("dtype")) + " is not supported");
    ctx.bind(0, castTo(ctx.builder(), ctx.tensor("self"), *dtype));
}

void lowerIsFloatingPoint(LoweringContext& ctx) {
    ctx.bind(0, Arg::constant(mil::Literal(isFloat(ctx.tensor("self")->type().dtype))));
}

// item(self) / _local_scalar_dense(self): the one element as a number of the tensor's kind.
void lowerItem(LoweringContext& ctx) {
    const DType dtype = ctx.tensor("self")->type().dtype;
    const char* key = isFloat(dtype) ? "aten::Float" : dtype == DType::Bool ? "aten::Bool" : "aten::Int";
    ctx.bind(0, ctx.call(key, {{"a", ctx.arg("self")}}).at(0));
}

// logcumsumexp(self, dim): y[i] = log(sum over j <= i of exp(x[j])) along dim. Shifting by one max
// of the whole dim underflows the early terms (exp(x[0] - max) is 0 when they are far apart), so
// each y[i] is a stable reduce_log_sum_exp of x with the later entries masked to -inf: an n x n
// constant mask, for a dim of static size n.
void lowerLogcumsumexp(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, ctx.tensor("self"));
    if (rankOf(x) == 0) return ctx.bind(0, x);
    const int64_t rank = rankOf(x);
    const int64_t axis = normalizeDim(ctx, ctx.getInt("dim"), rank, "dim");
    const auto n = staticDim(x, axis);
    if (!n)
        ctx.fail(ctx.opName() + " needs a static size along dim " + std::to_string(axis) + ", got " + x->type().str());
    std::vector<int64_t> toLast = axesFrom(0, rank);
    std::swap(toLast[static_cast<size_t>(axis)], toLast.back());
    mil::Value* last = permuted(b, x, toLast);
    std::vector<float> mask(static_cast<size_t>(*n * *n), 0.0f);
    for (int64_t i = 0; i < *n; ++i)
        for (int64_t j = i + 1; j < *n; ++j) mask[static_cast<size_t>(i * *n + j)] = -INFINITY;
    mil::Value* rows =
        b.add("add", {{"x", b.add("expand_dims", {{"x", last}, {"axes", std::vector<int64_t>{-2}}})},
                      {"y", castTo(b, b.constant(mil::ConstData::fromFloats(mask, {*n, *n})), x->type().dtype)}});
    mil::Value* y =
        b.add("reduce_log_sum_exp", {{"x", rows}, {"axes", std::vector<int64_t>{-1}}, {"keep_dims", false}});
    ctx.bind(0, permuted(b, y, toLast));
}

// _weight_norm(v, g, dim) = v * g / ||v||, the norm over every dim but `dim` (over all when dim is
// -1); _weight_norm_interface also returns that norm, shaped like g.
void weightNorm(LoweringContext& ctx, bool withNorms) {
    mil::Builder& b = ctx.builder();
    mil::Value* v = toFloat(b, ctx.tensor("v"));
    mil::Value* g = toFloat(b, ctx.tensor("g"));
    const int64_t rank = rankOf(v);
    const int64_t dim = ctx.getInt("dim");
    std::vector<int64_t> axes;
    if (dim == -1) {
        axes = axesFrom(0, rank);
    } else {
        const int64_t keep = normalizeDim(ctx, dim, rank, "dim");
        for (int64_t i = 0; i < rank; ++i)
            if (i != keep) axes.push_back(i);
    }
    mil::Value* norm = axes.empty() ? b.add("abs", {{"x", v}})
                                    : b.add("reduce_l2_norm", {{"x", v}, {"axes", axes}, {"keep_dims", true}});
    ctx.bind(0, b.add("mul", {{"x", v}, {"y", b.add("real_div", {{"x", g}, {"y", norm}})}}));
    if (withNorms) ctx.bind(1, b.add("reshape", {{"x", norm}, {"shape", shapeSlice(b, g, 0, rankOf(g))}}));
}

// copy(self, src, non_blocking): src in self's dtype, broadcast to self's shape.
void lowerCopy(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* self = ctx.tensor("self");
    mil::Value* src = castTo(b, ctx.materialize(ctx.arg("src")), self->type().dtype);
    ctx.bind(0, callTensor(ctx, "aten::expand_as", {{"self", Arg::tensor(src)}, {"other", Arg::tensor(self)}}));
}

}  // namespace

void populateVariantLowerings(Registry& r) {
    r.add("aten::_softmax", renamed("aten::softmax", {{"self", "self"}, {"dim", "dim"}}));
    r.add("aten::_log_softmax", renamed("aten::log_softmax", {{"self", "self"}, {"dim", "dim"}}));
    r.add("aten::native_layer_norm", lowerNativeLayerNorm);
    r.add("aten::native_group_norm", lowerNativeGroupNorm);
    r.add("aten::native_dropout", lowerNativeDropout);
    r.add("aten::_to_copy", lowerToCopy);
    r.add("aten::lift_fresh", lowerIdentity);
    r.add("aten::lift_fresh_copy", lowerIdentity);
    r.add("aten::is_floating_point", lowerIsFloatingPoint);
    r.add("aten::item", lowerItem);
    r.add("aten::_local_scalar_dense", lowerItem);
    r.add("aten::sym_size", renamed("aten::size", {{"self", "self"}, {"dim", "dim"}}));
    r.add("aten::logcumsumexp", lowerLogcumsumexp);
    r.add("aten::_logcumsumexp", lowerLogcumsumexp);
    r.add("aten::_weight_norm", [](LoweringContext& ctx) { weightNorm(ctx, false); });
    r.add("aten::_weight_norm_interface", [](LoweringContext& ctx) { weightNorm(ctx, true); });
    r.add("aten::copy", lowerCopy);
    // x.zero_(): zeros of x's shape and dtype (the frontend writes them back into what x views).
    r.add("aten::zero_", [](LoweringContext& ctx) {
        ctx.bind(0, callTensor(ctx, "aten::zeros_like", {{"self", ctx.arg("self")}}));
    });
    // A check of sizes and dtype torch's export inserts; the converted program's types are checked
    // by construction.
    r.add("aten::_assert_tensor_metadata", [](LoweringContext&) {});
}

TS2COREML_FAMILY(Registry, Variants, populateVariantLowerings)

}  // namespace ts2coreml::lowering
