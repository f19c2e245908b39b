#include "lowerings/ReductionSupport.h"

namespace ts2coreml::lowering {

mil::Value* reductionInput(LoweringContext& ctx) {
    mil::Value* x = ctx.tensor("self");
    if (ctx.hasArg("dtype") && !ctx.isNone("dtype")) {
        auto dtype = dtypeFromTorch(ctx.getInt("dtype"));
        if (!dtype) ctx.fail("reduction dtype " + std::to_string(ctx.getInt("dtype")) + " is not supported");
        x = castTo(ctx.builder(), x, *dtype);
    }
    return x;
}

std::vector<int64_t> reductionAxes(LoweringContext& ctx, mil::Value* x, const std::string& argName) {
    std::vector<int64_t> dims;
    if (ctx.hasArg(argName) && !ctx.isNone(argName)) dims = intList(ctx, argName);
    std::vector<int64_t> axes;
    if (dims.empty()) {
        for (int64_t i = 0; i < rankOf(x); ++i) axes.push_back(i);
    } else {
        for (int64_t d : dims) axes.push_back(normalizeDim(ctx, d, rankOf(x), argName));
    }
    return axes;
}

std::optional<int64_t> staticCount(const mil::Value* x, const std::vector<int64_t>& axes) {
    int64_t count = 1;
    for (int64_t a : axes) {
        auto d = staticDim(x, a);
        if (!d) return std::nullopt;
        count *= *d;
    }
    return count;
}

mil::Value* elementCount(mil::Builder& b, mil::Value* x, const std::vector<int64_t>& axes, DType dtype) {
    if (auto n = staticCount(x, axes)) return scalarConst(b, static_cast<double>(*n), dtype);
    mil::Value* sizes = b.add("gather", {{"x", b.add("shape", {{"x", x}})}, {"indices", axes}, {"axis", int64_t{0}}});
    return castTo(b, b.add("reduce_prod", {{"x", sizes}, {"keep_dims", false}}), dtype);
}

mil::Value* nonZeroAsInt(mil::Builder& b, mil::Value* x) { return castTo(b, castTo(b, x, DType::Bool), DType::Int32); }

}  // namespace ts2coreml::lowering
