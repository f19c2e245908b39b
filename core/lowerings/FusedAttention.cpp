// torch's fused transformer kernels, which nn.MultiheadAttention and nn.TransformerEncoderLayer call
// when traced in eval mode under no_grad (batch_first): _native_multi_head_attention and
// _transformer_encoder_layer_fwd, decomposed into projections, per-head scaled dot products,
// softmax, layer norms and the feed-forward block.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <cmath>
#include <limits>
#include <memory>

namespace ts2coreml::lowering {
namespace {

/// Rows [begin, begin + count) of a weight or bias: a constant when its values are known (so
/// `linear` keeps a constant weight; a weight's payload is viewed in place, not copied), else a
/// slice computed in the program.
Arg rowsOf(LoweringContext& ctx, const Arg& w, int64_t begin, int64_t count) {
    const mil::ConstData* whole = constantData(w);
    if (!whole || whole->sizes.empty() || whole->sizes[0] <= 0 || whole->dtype == DType::String)
        return Arg::tensor(sliced(ctx, ctx.materialize(w), 0, begin, begin + count));
    const size_t rowBytes = whole->nbytes / static_cast<size_t>(whole->sizes[0]);
    const auto* first = static_cast<const uint8_t*>(whole->data) + static_cast<size_t>(begin) * rowBytes;
    std::vector<int64_t> sizes = whole->sizes;
    sizes[0] = count;
    if (!w.constData())  // an emitted const: its op owns the payload, so take a copy
        return Arg::constTensor(mil::ConstData::fromBytes(
            whole->dtype, sizes, std::vector<uint8_t>(first, first + static_cast<size_t>(count) * rowBytes)));
    auto part = std::make_shared<mil::ConstData>();
    part->dtype = whole->dtype;
    part->sizes = sizes;
    part->data = first;
    part->nbytes = static_cast<size_t>(count) * rowBytes;
    part->owner = w.constData();  // keeps the whole payload (and what it aliases) alive
    return Arg::constTensor(part);
}

mil::Value* linear(LoweringContext& ctx, mil::Value* x, const Arg& weight, const Arg& bias) {
    return callTensor(ctx, "aten::linear", {{"input", Arg::tensor(x)}, {"weight", weight}, {"bias", bias}});
}

/// [B, T, E] -> [B, H, T, E / H]
mil::Value* splitHeads(LoweringContext& ctx, mil::Value* x, int64_t heads, int64_t headDim) {
    mil::Builder& b = ctx.builder();
    mil::Value* r = reshapeTo(ctx, x, {dimArg(b, x, 0), dimArg(b, x, 1), intArg(heads), intArg(headDim)});
    return permuted(b, r, {0, 2, 1, 3});
}

/// The parameters shared by both fused ops, read by their schema names.
struct AttentionWeights {
    int64_t embedDim = 0;
    int64_t heads = 0;
    Arg qkvWeight, qkvBias, projWeight, projBias;
};

AttentionWeights attentionWeights(LoweringContext& ctx, const char* headsName) {
    AttentionWeights w{ctx.getInt("embed_dim"), ctx.getInt(headsName),  ctx.arg("qkv_weight"),
                       ctx.arg("qkv_bias"),     ctx.arg("proj_weight"), ctx.arg("proj_bias")};
    if (w.heads <= 0 || w.embedDim % w.heads != 0)
        ctx.fail("embed_dim " + std::to_string(w.embedDim) + " is not a multiple of the number of heads " +
                 std::to_string(w.heads));
    return w;
}

/// torch's masked softmax takes any nonzero entry as "masked out": [B, S] masks keys per batch
/// (mask_type 1, a key padding mask, or 2), a rank-4 mask broadcasts over [B, H, L, S] (mask_type 2).
mil::Value* maskFor(LoweringContext& ctx) {
    if (ctx.isNone("mask")) return nullptr;
    mil::Builder& b = ctx.builder();
    mil::Value* m = ctx.tensor("mask");
    if (typeOf(m).dtype != DType::Bool) m = b.add("not_equal", {{"x", m}, {"y", scalarLike(b, 0, m)}});
    const std::optional<int64_t> maskType = ctx.optInt("mask_type");
    if (maskType == 0)
        ctx.fail(
            "mask_type 0 (an attention mask [L, S]) is not supported by torch's CPU kernel either; pass a key "
            "padding mask, or call the module with attn_mask outside the fused path");
    if (rankOf(m) == 2) return b.add("expand_dims", {{"x", m}, {"axes", std::vector<int64_t>{1, 2}}});
    if (rankOf(m) == 4) return m;
    ctx.fail("mask " + m->type().str() + " must be [batch, source length] or [batch, heads, target, source]");
}

struct AttentionResult {
    mil::Value* output = nullptr;   ///< [B, L, E]
    mil::Value* weights = nullptr;  ///< [B, H, L, S], softmax of the scores
};

// softmax(q k^T / sqrt(D), masked) v per head, then the output projection. q, k and v are [B, T, E].
AttentionResult multiHeadAttention(LoweringContext& ctx, const AttentionWeights& w, mil::Value* query, mil::Value* key,
                                   mil::Value* value, mil::Value* mask) {
    mil::Builder& b = ctx.builder();
    const int64_t e = w.embedDim, headDim = e / w.heads;
    mil::Value *q, *k, *v;
    if (query == key && key == value) {  // self-attention: one projection to [B, T, 3E], cut in three
        auto parts = b.addOp(
            "split",
            {{"x", linear(ctx, query, w.qkvWeight, w.qkvBias)}, {"num_splits", int64_t{3}}, {"axis", int64_t{-1}}});
        q = parts[0], k = parts[1], v = parts[2];
    } else {
        auto project = [&](mil::Value* x, int64_t i) {
            const Arg bias = w.qkvBias.isNone() ? Arg::none() : rowsOf(ctx, w.qkvBias, i * e, e);
            return linear(ctx, x, rowsOf(ctx, w.qkvWeight, i * e, e), bias);
        };
        q = project(query, 0), k = project(key, 1), v = project(value, 2);
    }
    q = splitHeads(ctx, q, w.heads, headDim);
    k = splitHeads(ctx, k, w.heads, headDim);
    v = splitHeads(ctx, v, w.heads, headDim);
    q = b.add("mul", {{"x", q}, {"y", scalarLike(b, 1.0 / std::sqrt(static_cast<double>(headDim)), q)}});
    mil::Value* scores = b.add("matmul", {{"x", q}, {"y", k}, {"transpose_x", false}, {"transpose_y", true}});
    if (mask)
        scores = b.add(
            "select",
            {{"cond", mask}, {"a", scalarLike(b, -std::numeric_limits<double>::infinity(), scores)}, {"b", scores}});
    AttentionResult r;
    r.weights = b.add("softmax", {{"x", scores}, {"axis", int64_t{-1}}});
    mil::Value* context = permuted(b, b.add("matmul", {{"x", r.weights}, {"y", v}}), {0, 2, 1, 3});
    context = reshapeTo(ctx, context, {dimArg(b, context, 0), dimArg(b, context, 1), intArg(e)});
    r.output = linear(ctx, context, w.projWeight, w.projBias);
    return r;
}

// _native_multi_head_attention(query, key, value, ...) -> (output, weights): the weights averaged
// over heads ([B, L, S]) when average_attn_weights, per head otherwise, undefined (None) when not
// need_weights.
void lowerNativeMultiHeadAttention(LoweringContext& ctx) {
    const AttentionWeights w = attentionWeights(ctx, "num_head");
    mil::Value* query = ctx.tensor("query");
    for (const char* name : {"query", "key", "value"})
        if (rankOf(ctx.tensor(name)) != 3)
            ctx.fail(std::string(name) + " must be [batch, sequence, embed_dim], got " +
                     ctx.tensor(name)->type().str());
    AttentionResult r = multiHeadAttention(ctx, w, query, ctx.tensor("key"), ctx.tensor("value"), maskFor(ctx));
    ctx.bind(0, r.output);
    if (!ctx.getBool("need_weights")) return ctx.bind(1, Arg::none());
    if (!ctx.getBool("average_attn_weights")) return ctx.bind(1, r.weights);
    ctx.bind(1, ctx.builder().add("reduce_mean",
                                  {{"x", r.weights}, {"axes", std::vector<int64_t>{1}}, {"keep_dims", false}}));
}

mil::Value* layerNorm(LoweringContext& ctx, mil::Value* x, int64_t embedDim, const char* weight, const char* bias) {
    return callTensor(ctx, "aten::layer_norm",
                      {{"input", Arg::tensor(x)},
                       {"normalized_shape", Arg::constant(mil::Literal(std::vector<int64_t>{embedDim}))},
                       {"weight", ctx.arg(weight)},
                       {"bias", ctx.arg(bias)},
                       {"eps", ctx.arg("eps")},
                       {"cudnn_enable", Arg::constant(mil::Literal(false))}});
}

mil::Value* add(mil::Builder& b, mil::Value* x, mil::Value* y) { return b.add("add", {{"x", x}, {"y", y}}); }

// _transformer_encoder_layer_fwd: one nn.TransformerEncoderLayer,
//   post-norm: x = norm1(x + sa(x)); x = norm2(x + ff(x))
//   pre-norm:  x = x + sa(norm1(x)); x = x + ff(norm2(x))
// with sa the self-attention above and ff(x) = linear2(act(linear1(x))), act relu or exact gelu.
void lowerTransformerEncoderLayer(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const AttentionWeights w = attentionWeights(ctx, "num_heads");
    mil::Value* src = ctx.tensor("src");
    if (rankOf(src) != 3) ctx.fail("src must be [batch, sequence, embed_dim], got " + src->type().str());
    const bool normFirst = ctx.getBool("norm_first");
    mil::Value* mask = maskFor(ctx);

    mil::Value* x = normFirst ? layerNorm(ctx, src, w.embedDim, "norm_weight_1", "norm_bias_1") : src;
    x = add(b, multiHeadAttention(ctx, w, x, x, x, mask).output, src);
    if (!normFirst) x = layerNorm(ctx, x, w.embedDim, "norm_weight_1", "norm_bias_1");
    mil::Value* residual = x;
    if (normFirst) x = layerNorm(ctx, x, w.embedDim, "norm_weight_2", "norm_bias_2");
    x = linear(ctx, x, ctx.arg("ffn_weight_1"), ctx.arg("ffn_bias_1"));
    x = ctx.getBool("use_gelu") ? b.add("gelu", {{"x", x}, {"mode", "EXACT"}}) : b.add("relu", {{"x", x}});
    x = add(b, linear(ctx, x, ctx.arg("ffn_weight_2"), ctx.arg("ffn_bias_2")), residual);
    if (!normFirst) x = layerNorm(ctx, x, w.embedDim, "norm_weight_2", "norm_bias_2");
    ctx.bind(0, x);
}

}  // namespace

void populateFusedAttentionLowerings(Registry& r) {
    r.add("aten::_native_multi_head_attention", lowerNativeMultiHeadAttention);
    r.add("aten::_transformer_encoder_layer_fwd", lowerTransformerEncoderLayer);
}

TS2COREML_FAMILY(Registry, FusedAttention, populateFusedAttentionLowerings)

}  // namespace ts2coreml::lowering
