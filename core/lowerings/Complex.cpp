// Complex plumbing: building complex tensors (complex, polar) and making them real again
// (view_as_real, real, imag; abs of a complex tensor is in Elementwise.cpp's abs). See Complex.h
// for the representation.
#include "lowerings/Complex.h"

#include "lowerings/Builtins.h"

#include <vector>

namespace ts2coreml::lowering {

mil::Value* complexPart(mil::Builder& b, mil::Value* pairs, int64_t part) {
    const size_t rank = pairs->type().rank();
    std::vector<int64_t> begin(rank, 0), end(rank, 0);
    begin.back() = part;
    end.back() = part + 1;
    std::vector<bool> all(rank, true), squeeze(rank, false);
    all.back() = false;
    squeeze.back() = true;
    return b.add("slice_by_index", {{"x", pairs},
                                    {"begin", b.ints(begin)},
                                    {"end", b.ints(end)},
                                    {"begin_mask", boolVector(b, all)},
                                    {"end_mask", boolVector(b, all)},
                                    {"squeeze_mask", boolVector(b, squeeze)}});
}

mil::Value* complexPairs(mil::Builder& b, mil::Value* re, mil::Value* im) {
    return b.add("stack", {{"values", std::vector<mil::Value*>{re, im}}, {"axis", rankOf(re)}});
}

mil::Value* complexMagnitude(mil::Builder& b, mil::Value* pairs) {
    mil::Value* squares = b.add("mul", {{"x", pairs}, {"y", pairs}});
    const int64_t last = rankOf(pairs) - 1;
    return b.add(
        "sqrt",
        {{"x", b.add("reduce_sum", {{"x", squares}, {"axes", std::vector<int64_t>{last}}, {"keep_dims", false}})}});
}

namespace {

/// The complex argument `name`; fails naming the op when it is real.
mil::Value* complexArg(const LoweringContext& ctx, const std::string& name) {
    const Arg& a = ctx.arg(name);
    if (!a.isComplex()) ctx.fail("argument '" + name + "' must be a complex tensor, got " + a.describe());
    return a.value();
}

void lowerViewAsReal(LoweringContext& ctx) { ctx.bind(0, complexArg(ctx, "self")); }

// real(z): a real tensor is its own real part.
void lowerReal(LoweringContext& ctx) {
    const Arg& self = ctx.arg("self");
    ctx.bind(0, self.isComplex() ? complexPart(ctx.builder(), self.value(), 0) : ctx.tensor("self"));
}

void lowerImag(LoweringContext& ctx) { ctx.bind(0, complexPart(ctx.builder(), complexArg(ctx, "self"), 1)); }

/// Two real tensors broadcast against each other (torch.complex and torch.polar broadcast).
std::pair<mil::Value*, mil::Value*> broadcastPair(LoweringContext& ctx, const std::string& a, const std::string& c) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor(a);
    mil::Value* y = ctx.tensor(c);
    if (!isFloat(x->type().dtype) || !isFloat(y->type().dtype) || x->type().dtype != y->type().dtype)
        ctx.fail("'" + a + "' and '" + c + "' must be floating tensors of one dtype, got " + x->type().str() + " and " +
                 y->type().str());
    if (x->type().shape == y->type().shape) return {x, y};
    // x + 0 * y has the broadcast shape of both, and so has y + 0 * x.
    mil::Value* zero = scalarLike(b, 0.0, x);
    return {b.add("add", {{"x", x}, {"y", b.add("mul", {{"x", y}, {"y", zero}})}}),
            b.add("add", {{"x", y}, {"y", b.add("mul", {{"x", x}, {"y", zero}})}})};
}

void lowerComplex(LoweringContext& ctx) {
    auto [re, im] = broadcastPair(ctx, "real", "imag");
    ctx.bind(0, Arg::complex(complexPairs(ctx.builder(), re, im)));
}

// polar(abs, angle) = abs * cos(angle) + i abs * sin(angle)
void lowerPolar(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    auto [r, theta] = broadcastPair(ctx, "abs", "angle");
    mil::Value* re = b.add("mul", {{"x", r}, {"y", b.add("cos", {{"x", theta}})}});
    mil::Value* im = b.add("mul", {{"x", r}, {"y", b.add("sin", {{"x", theta}})}});
    ctx.bind(0, Arg::complex(complexPairs(b, re, im)));
}

}  // namespace

void populateComplexLowerings(Registry& r) {
    r.add("aten::view_as_real", lowerViewAsReal);
    r.add("aten::real", lowerReal);
    r.add("aten::imag", lowerImag);
    r.add("aten::complex", lowerComplex);
    r.add("aten::polar", lowerPolar);
}

TS2COREML_FAMILY(Registry, Complex, populateComplexLowerings)

}  // namespace ts2coreml::lowering
