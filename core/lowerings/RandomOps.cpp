// Random tensors: rand, randn, randint and their *_like forms, bernoulli and multinomial, drawn on
// the device by MIL's random ops (random_uniform, random_normal, random_bernoulli,
// random_categorical) with no seed, so each prediction draws anew, as torch does on each call.
// A converted model cannot reproduce torch's values, only their distribution.
#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

/// Core ML draws with its own generator: a torch.Generator argument cannot be carried over.
void refuseGenerator(LoweringContext& ctx) {
    if (ctx.hasArg("generator") && !ctx.isNone("generator"))
        ctx.fail("a torch.Generator argument cannot be converted (Core ML draws from its own generator)");
}

/// The shape to draw: the `size` list of rand/randn/randint, or the shape of `self` for *_like.
mil::Value* drawShape(LoweringContext& ctx) {
    refuseGenerator(ctx);
    if (ctx.hasArg("size")) return shapeTensor(ctx, listElements(ctx, ctx.arg("size")));
    mil::Value* self = ctx.tensor("self");
    return shapeSlice(ctx.builder(), self, 0, rankOf(self));
}

/// The result's dtype: the `dtype` argument, else `fallback` (fp32, or the dtype of `self`).
DType resultDType(LoweringContext& ctx, DType fallback) {
    if (!ctx.hasArg("dtype") || ctx.isNone("dtype")) return fallback;
    const std::optional<DType> d = dtypeFromTorch(ctx.getInt("dtype"));
    if (!d || *d == DType::Bool) ctx.fail("dtype " + std::to_string(ctx.getInt("dtype")) + " is not supported");
    return *d;
}

DType floatResult(LoweringContext& ctx) {
    const DType fallback = ctx.hasArg("self") ? typeOf(ctx.tensor("self")).dtype : DType::Float32;
    const DType d = resultDType(ctx, fallback == DType::Float16 ? fallback : DType::Float32);
    if (d != DType::Float32 && d != DType::Float16)
        ctx.fail(ctx.opName() + " draws reals: dtype must be a floating type, got an integer one");
    return d;
}

// rand, rand_like: U[0, 1)
void lowerRand(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    ctx.bind(0, castTo(b, b.add("random_uniform", {{"shape", drawShape(ctx)}}), floatResult(ctx)));
}

// randn, randn_like: N(0, 1)
void lowerRandn(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    ctx.bind(0, castTo(b, b.add("random_normal", {{"shape", drawShape(ctx)}}), floatResult(ctx)));
}

// randint(low=0, high): min(floor(low + u * (high - low)), high - 1) for u ~ U[0, 1): each integer
// of [low, high) equally likely (the min guards against rounding up to high in fp32). low and high
// may be computed at run time.
void lowerRandint(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* u = b.add("random_uniform", {{"shape", drawShape(ctx)}});
    auto bound = [&](const char* name, double fallback) {
        if (!ctx.hasArg(name)) return scalarConst(b, fallback, DType::Float32);
        return castTo(b, ctx.materialize(ctx.arg(name)), DType::Float32);
    };
    mil::Value* low = bound("low", 0);
    mil::Value* high = bound("high", 0);
    mil::Value* span = b.add("sub", {{"x", high}, {"y", low}});
    mil::Value* drawn =
        b.add("floor", {{"x", b.add("add", {{"x", b.add("mul", {{"x", u}, {"y", span}})}, {"y", low}})}});
    drawn = b.add("minimum", {{"x", drawn}, {"y", b.add("sub", {{"x", high}, {"y", scalarLike(b, 1, high)}})}});
    // randint's dtype defaults to int64; randint_like's to the dtype of self.
    const DType fallback = ctx.hasArg("self") ? typeOf(ctx.tensor("self")).dtype : DType::Int32;
    ctx.bind(0, castTo(b, drawn, resultDType(ctx, fallback)));
}

// bernoulli(self): 1 with probability self[i]; bernoulli(self, p): with probability p (a float, or
// a tensor broadcast to self's shape). The result has self's shape and dtype.
void lowerBernoulli(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    refuseGenerator(ctx);
    mil::Value* self = ctx.tensor("self");
    mil::Value* shape = shapeSlice(b, self, 0, rankOf(self));
    const DType dtype = typeOf(self).dtype;
    if (ctx.hasArg("p") && isNumberLiteral(ctx.arg("p"))) {
        const double p = ctx.getDouble("p");
        if (!(p >= 0 && p <= 1)) ctx.fail("p must be in [0, 1], got " + numberText(p));
        return ctx.bind(0, castTo(b, b.add("random_bernoulli", {{"shape", shape}, {"prob", p}}), dtype));
    }
    mil::Value* prob = toFloat(b, ctx.hasArg("p") ? ctx.tensor("p") : self);
    mil::Value* u = b.add("random_uniform", {{"shape", shape}});
    ctx.bind(0, castTo(b, b.add("less", {{"x", u}, {"y", castTo(b, prob, DType::Float32)}}), dtype));
}

// multinomial(self, n, replacement): n class indices per row of the (unnormalized) probabilities
// self [*, C]. With replacement (or one sample), random_categorical. Without: the Gumbel top-k
// trick — the n largest log(p) + g, g = -log(-log(u)) independent Gumbel noise, are distributed as
// n draws without replacement, in order of drawing.
void lowerMultinomial(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    refuseGenerator(ctx);
    mil::Value* p = castTo(b, toFloat(b, ctx.tensor("self")), DType::Float32);
    if (rankOf(p) < 1 || rankOf(p) > 2)
        ctx.fail("multinomial takes a 1-D or 2-D tensor of probabilities, got " + p->type().str());
    const int64_t n = ctx.getInt("num_samples");
    if (n < 1) ctx.fail("num_samples must be positive, got " + std::to_string(n));
    if (ctx.getBool("replacement") || n == 1) {
        mil::Value* drawn = b.add("random_categorical", {{"x", p}, {"mode", "probs"}, {"size", n}});
        return ctx.bind(0, castTo(b, drawn, DType::Int32));
    }
    if (auto classes = staticDim(p, rankOf(p) - 1); classes && n > *classes)
        ctx.fail("cannot draw " + std::to_string(n) + " samples without replacement from " + std::to_string(*classes) +
                 " classes");
    mil::Value* u = b.add("random_uniform", {{"shape", shapeSlice(b, p, 0, rankOf(p))}});
    mil::Value* gumbel = b.add("log", {{"x", b.add("mul", {{"x", b.add("log", {{"x", u}})}, {"y", -1.0f}})}});
    mil::Value* keys = b.add("sub", {{"x", b.add("log", {{"x", p}})}, {"y", gumbel}});
    auto top = b.addOp("topk", {{"x", keys}, {"k", n}, {"axis", int64_t{-1}}});
    ctx.bind(0, top.at(1));
}

}  // namespace

void populateRandomOpsLowerings(Registry& r) {
    r.add("aten::rand", lowerRand);
    r.add("aten::rand_like", lowerRand);
    r.add("aten::randn", lowerRandn);
    r.add("aten::randn_like", lowerRandn);
    r.add("aten::randint", lowerRandint);
    r.add("aten::randint_like", lowerRandint);
    r.add("aten::bernoulli", lowerBernoulli);
    r.add("aten::multinomial", lowerMultinomial);
}

TS2COREML_FAMILY(Registry, RandomOps, populateRandomOpsLowerings)

}  // namespace ts2coreml::lowering
