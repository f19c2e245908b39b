// Small helpers of the lowerings that build on other torch ops through the registry (ctx.call),
// and on layout moves every family needs.
#pragma once

#include <ts2coreml/LoweringSupport.h>

#include <string>
#include <utility>
#include <vector>

namespace ts2coreml::lowering {

inline Arg intArg(int64_t v) { return Arg::constant(mil::Literal(v)); }

/// Output 0 of the torch op `key` lowered through the registry, as a MIL value.
inline mil::Value* callTensor(LoweringContext& ctx, const std::string& key,
                              const std::vector<std::pair<std::string, Arg>>& args) {
    return ctx.materialize(ctx.call(key, args).at(0));
}

/// x[..., start:end:step, ...] along `dim`, as aten::slice lowers it.
inline mil::Value* sliced(LoweringContext& ctx, mil::Value* x, int64_t dim, int64_t start, int64_t end,
                          int64_t step = 1) {
    return callTensor(ctx, "aten::slice",
                      {{"self", Arg::tensor(x)},
                       {"dim", intArg(dim)},
                       {"start", intArg(start)},
                       {"end", intArg(end)},
                       {"step", intArg(step)}});
}

/// The values of a tensor argument known at conversion time (a weight, a folded constant), else null.
inline const mil::ConstData* constantData(const Arg& a) {
    if (!a.isTensor()) return nullptr;
    if (a.constData()) return a.constData().get();
    return a.value() ? a.value()->constant() : nullptr;
}

/// `x` transposed by `perm`; `x` itself when `perm` is the identity.
inline mil::Value* permuted(mil::Builder& b, mil::Value* x, const std::vector<int64_t>& perm) {
    for (size_t i = 0; i < perm.size(); ++i)
        if (perm[i] != static_cast<int64_t>(i)) return b.add("transpose", {{"x", x}, {"perm", perm}});
    return x;
}

/// The sizes of dims [begin, end) of `x` as shape entries (constants, or dynamic scalars).
inline std::vector<Arg> dimArgs(mil::Builder& b, mil::Value* x, int64_t begin, int64_t end) {
    std::vector<Arg> out;
    for (int64_t i = begin; i < end; ++i) out.push_back(dimArg(b, x, i));
    return out;
}

/// 0, 1, ..., n - 1 as int32, n a constant (then so is the result) or a dynamic scalar.
inline mil::Value* countTo(LoweringContext& ctx, const Arg& n) {
    mil::Builder& b = ctx.builder();
    if (isIntConstant(n)) {
        std::vector<int64_t> v;
        for (int64_t i = 0; i < std::get<int64_t>(n.literal()); ++i) v.push_back(i);
        return b.ints(v);
    }
    return b.add("range_1d", {{"end", castTo(b, ctx.materialize(n), DType::Int32)},
                              {"start", scalarConst(b, 0, DType::Int32)},
                              {"step", scalarConst(b, 1, DType::Int32)}});
}

/// torch's ScalarType code of a MIL dtype, to pass as a `dtype` argument to ctx.call.
inline int64_t torchCode(DType dtype) {
    switch (dtype) {
        case DType::Float16: return 5;
        case DType::Bool: return 11;
        case DType::Int32: return 3;
        default: return 6;
    }
}

}  // namespace ts2coreml::lowering
