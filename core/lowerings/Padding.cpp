// Padding: constant_pad_nd, pad and the reflection / replication pads.
//
// torch lists padding from the last dim backwards, (left, right) of the last dim first:
// [w_before, w_after, h_before, h_after, ...]. MIL's pad lists the padded trailing dims forwards:
// [h_before, h_after, w_before, w_after].
#include "lowerings/Builtins.h"

#include <ts2coreml/LoweringSupport.h>

namespace ts2coreml::lowering {
namespace {

std::vector<int64_t> milPad(const LoweringContext& ctx, const std::vector<int64_t>& torchPad, int64_t rank) {
    if (torchPad.size() % 2 != 0) ctx.fail("padding must have an even number of values");
    if (static_cast<int64_t>(torchPad.size() / 2) > rank)
        ctx.fail("padding has " + std::to_string(torchPad.size() / 2) + " dims for an input of rank " +
                 std::to_string(rank));
    std::vector<int64_t> out;
    for (size_t pair = torchPad.size() / 2; pair-- > 0;) {
        const int64_t before = torchPad[2 * pair], after = torchPad[2 * pair + 1];
        if (before < 0 || after < 0) ctx.fail("negative padding (cropping) is not supported");
        out.push_back(before);
        out.push_back(after);
    }
    return out;
}

mil::Value* emitPad(LoweringContext& ctx, const std::string& padName, const std::string& mode, double value) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = toFloat(b, ctx.tensor("self"));
    const std::vector<int64_t> pad = milPad(ctx, intList(ctx, padName), rankOf(x));
    mil::OperandList in{{"x", x}, {"pad", pad}, {"mode", mode}};
    if (mode == "constant") in.emplace_back("constant_val", scalarLike(b, value, x));
    return b.add("pad", in);
}

// constant_pad_nd(self, pad, value)
void lowerConstantPad(LoweringContext& ctx) { ctx.bind(0, emitPad(ctx, "pad", "constant", ctx.getDouble("value"))); }

// pad(self, pad, mode, value): mode is 'constant', 'reflect', 'replicate' (MIL's names too) or 'circular'.
void lowerPad(LoweringContext& ctx) {
    const std::string mode = ctx.getString("mode");
    if (mode != "constant" && mode != "reflect" && mode != "replicate")
        ctx.fail("pad mode '" + mode + "' is not supported (Core ML pads 'constant', 'reflect' and 'replicate')");
    ctx.bind(0, emitPad(ctx, "pad", mode, ctx.optDouble("value").value_or(0.0)));
}

LoweringFn padMode(const char* mode) {
    return [mode](LoweringContext& ctx) { ctx.bind(0, emitPad(ctx, "padding", mode, 0.0)); };
}

}  // namespace

void populatePaddingLowerings(Registry& r) {
    r.add("aten::constant_pad_nd", lowerConstantPad);
    r.add("aten::pad", lowerPad);
    r.add("aten::reflection_pad1d", padMode("reflect"));
    r.add("aten::reflection_pad2d", padMode("reflect"));
    r.add("aten::replication_pad1d", padMode("replicate"));
    r.add("aten::replication_pad2d", padMode("replicate"));
    r.add("aten::replication_pad3d", padMode("replicate"));
}

TS2COREML_FAMILY(Registry, Padding, populatePaddingLowerings)

}  // namespace ts2coreml::lowering
