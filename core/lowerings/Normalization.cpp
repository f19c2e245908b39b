// Normalizations: batch_norm with running statistics, layer_norm, instance_norm, group_norm.
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

/// An optional per-channel parameter that MIL requires to be a constant; null when None.
mil::Value* constantParam(LoweringContext& ctx, const std::string& name, const char* op) {
    if (ctx.isNone(name)) return nullptr;
    mil::Value* v = ctx.tensor(name);
    if (!v->constant())
        ctx.fail(std::string(op) + " '" + name + "' must be a constant tensor (MIL " + op + " requires it)");
    return v;
}

/// Runs `emit` on `x` given a trailing unit dimension when its rank is below `minRank`
/// ([N, C] -> [N, C, 1, 1] for BatchNorm1d), and removes those dimensions again.
template <typename Emit>
mil::Value* withMinRank(mil::Builder& b, mil::Value* x, int64_t minRank, Emit emit) {
    if (rankOf(x) >= minRank) return emit(x);
    const int64_t added = minRank - rankOf(x);
    std::vector<int64_t> axes;
    for (int64_t i = 0; i < added; ++i) axes.push_back(rankOf(x) + i);
    mil::Value* y = emit(b.add("expand_dims", {{"x", x}, {"axes", axes}}));
    return b.add("squeeze", {{"x", y}, {"axes", axes}});
}

// y = (x - running_mean) / sqrt(running_var + eps) * weight + bias, per channel (dim 1).
void emitBatchNorm(LoweringContext& ctx, const char* torchOp) {
    mil::Builder& b = ctx.builder();
    if (ctx.isNone("running_mean") || ctx.isNone("running_var"))
        ctx.fail(std::string(torchOp) + " without running statistics normalizes by batch statistics; only " +
                 "inference with running statistics is supported");
    mil::Value* x = ctx.tensor("input");
    if (rankOf(x) < 2 || rankOf(x) > 5) ctx.fail("batch_norm input must have rank 2 to 5, got " + x->type().str());
    mil::OperandList params{{"mean", constantParam(ctx, "running_mean", "batch_norm")},
                            {"variance", constantParam(ctx, "running_var", "batch_norm")},
                            {"epsilon", scalarLike(b, ctx.getDouble("eps"), x)}};
    if (mil::Value* gamma = constantParam(ctx, "weight", "batch_norm")) params.emplace_back("gamma", gamma);
    if (mil::Value* beta = constantParam(ctx, "bias", "batch_norm")) params.emplace_back("beta", beta);
    // Always rank 4 ([N, C, H, W]), where the channel axis 1 is also axis -3, the one a NeuralNetwork
    // batchnorm layer normalizes: [N, C] and [N, C, L] gain trailing unit dims, [N, C, D, H, W] is
    // viewed as [N, C, D, H * W].
    auto norm = [&](mil::Value* in) {
        mil::OperandList all{{"x", in}};
        all.insert(all.end(), params.begin(), params.end());
        return b.add("batch_norm", all);
    };
    if (rankOf(x) == 5) {
        mil::Value* flat = reshapeTo(
            ctx, x, {dimArg(b, x, 0), dimArg(b, x, 1), dimArg(b, x, 2), Arg::constant(mil::Literal(int64_t{-1}))});
        return ctx.bind(0, b.add("reshape", {{"x", norm(flat)}, {"shape", shapeSlice(b, x, 0, 5)}}));
    }
    ctx.bind(0, withMinRank(b, x, 4, norm));
}

void lowerBatchNorm(LoweringContext& ctx) {
    if (ctx.getBool("training"))
        ctx.fail("batch_norm with training=True uses batch statistics; convert the model in eval mode (model.eval())");
    emitBatchNorm(ctx, "batch_norm");
}

void lowerInstanceNorm(LoweringContext& ctx) {
    // With use_input_stats=False instance_norm is batch_norm over the running statistics.
    if (!ctx.getBool("use_input_stats")) return emitBatchNorm(ctx, "instance_norm");
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("input");
    if (rankOf(x) < 3 || rankOf(x) > 4) ctx.fail("instance_norm input must have rank 3 or 4, got " + x->type().str());
    mil::OperandList params{{"epsilon", scalarLike(b, ctx.getDouble("eps"), x)}};
    if (mil::Value* gamma = constantParam(ctx, "weight", "instance_norm")) params.emplace_back("gamma", gamma);
    if (mil::Value* beta = constantParam(ctx, "bias", "instance_norm")) params.emplace_back("beta", beta);
    params.insert(params.begin(), {"x", x});
    ctx.bind(0, b.add("instance_norm", params));
}

// Normalizes over the last len(normalized_shape) dims; weight and bias have normalized_shape.
void lowerLayerNorm(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("input");
    const auto normalized = intList(ctx, "normalized_shape");
    const int64_t rank = rankOf(x);
    const int64_t k = static_cast<int64_t>(normalized.size());
    if (k == 0 || k > rank)
        ctx.fail("normalized_shape has " + std::to_string(k) + " dims for an input of rank " + std::to_string(rank));
    for (int64_t i = 0; i < k; ++i) {
        auto d = staticDim(x, rank - k + i);
        if (d && *d != normalized[static_cast<size_t>(i)])
            ctx.fail("normalized_shape does not match the trailing dims of input " + x->type().str());
    }
    std::vector<int64_t> axes;
    for (int64_t i = rank - k; i < rank; ++i) axes.push_back(i);
    mil::OperandList in{{"x", x}, {"axes", axes}, {"epsilon", scalarLike(b, ctx.getDouble("eps"), x)}};
    if (mil::Value* gamma = constantParam(ctx, "weight", "layer_norm")) in.emplace_back("gamma", gamma);
    if (mil::Value* beta = constantParam(ctx, "bias", "layer_norm")) in.emplace_back("beta", beta);
    ctx.bind(0, b.add("layer_norm", in));
}

// group_norm: x [N, C, *D] viewed as [N, G, C/G * prod(D)], normalized over the last axis, viewed
// back, then scaled and shifted per channel.
void lowerGroupNorm(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("input");
    const int64_t groups = ctx.getInt("num_groups");
    if (rankOf(x) < 2) ctx.fail("group_norm input must have rank >= 2, got " + x->type().str());
    auto channels = staticDim(x, 1);
    if (!channels) ctx.fail("group_norm needs a static channel dimension, got " + x->type().str());
    if (groups <= 0 || *channels % groups != 0)
        ctx.fail("num_groups = " + std::to_string(groups) + " does not divide " + std::to_string(*channels) +
                 " channels");

    mil::Value* grouped = reshapeTo(
        ctx, x, {dimArg(b, x, 0), Arg::constant(mil::Literal(groups)), Arg::constant(mil::Literal(int64_t{-1}))});
    mil::Value* normalized =
        b.add("layer_norm",
              {{"x", grouped}, {"axes", std::vector<int64_t>{2}}, {"epsilon", scalarLike(b, ctx.getDouble("eps"), x)}});
    mil::Value* y = b.add("reshape", {{"x", normalized}, {"shape", shapeSlice(b, x, 0, rankOf(x))}});
    std::vector<int64_t> perChannel{*channels};
    for (int64_t i = 2; i < rankOf(x); ++i) perChannel.push_back(1);
    if (!ctx.isNone("weight"))
        y = b.add("mul", {{"x", y}, {"y", b.add("reshape", {{"x", ctx.tensor("weight")}, {"shape", perChannel}})}});
    if (!ctx.isNone("bias"))
        y = b.add("add", {{"x", y}, {"y", b.add("reshape", {{"x", ctx.tensor("bias")}, {"shape", perChannel}})}});
    ctx.bind(0, y);
}

}  // namespace

void populateNormalizationLowerings(Registry& r) {
    r.add("aten::batch_norm", lowerBatchNorm);
    r.add("aten::instance_norm", lowerInstanceNorm);
    r.add("aten::layer_norm", lowerLayerNorm);
    r.add("aten::group_norm", lowerGroupNorm);
}

TS2COREML_FAMILY(Registry, Normalization, populateNormalizationLowerings)

}  // namespace ts2coreml::lowering
