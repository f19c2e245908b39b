// Packed variable-length sequences: aten::_pack_padded_sequence and aten::_pad_packed_sequence
// (torch.nn.utils.rnn.pack_padded_sequence / pad_packed_sequence), and the padded form the
// recurrent lowerings run packed sequences in (PackedSequence.h).
//
//   pack:   data = x[t, b] for every t < length[b], time-major    batch_sizes[t] = #{b : length[b] > t}
//   unpack: padded[t, b] = data[offset[t] + b] if b < batch_sizes[t] else padding_value,
//           offset = the exclusive running sum of batch_sizes
// Core ML indices are int32; torch's batch_sizes and lengths are int64.
#include "lowerings/PackedSequence.h"

#include "lowerings/Builtins.h"
#include "lowerings/Composing.h"

#include <algorithm>
#include <numeric>

namespace ts2coreml::lowering {
namespace {

mil::Value* axis0(mil::Builder& b, mil::Value* v) {
    return b.add("expand_dims", {{"x", v}, {"axes", std::vector<int64_t>{0}}});
}
mil::Value* axis1(mil::Builder& b, mil::Value* v) {
    return b.add("expand_dims", {{"x", v}, {"axes", std::vector<int64_t>{1}}});
}
mil::Value* op2(mil::Builder& b, const char* op, mil::Value* x, mil::Value* y) {
    return b.add(op, {{"x", x}, {"y", y}});
}
mil::Value* intsConst(mil::Builder& b, const std::vector<int64_t>& v, std::vector<int64_t> sizes) {
    return b.constant(mil::ConstData::fromInts(std::vector<int32_t>(v.begin(), v.end()), std::move(sizes)));
}

/// The static trailing dims of `x` (dims 1..), failing naming `what` when one is flexible.
std::vector<int64_t> featureDims(LoweringContext& ctx, mil::Value* x, int64_t from, const std::string& what) {
    std::vector<int64_t> dims;
    for (int64_t d = from; d < rankOf(x); ++d) {
        const auto size = staticDim(x, d);
        if (!size) ctx.fail(ctx.opName() + ": " + what + " needs static feature sizes, got " + x->type().str());
        dims.push_back(*size);
    }
    return dims;
}

/// A constant mask [T, B] of t < lengths[b].
mil::Value* maskOf(mil::Builder& b, const std::vector<int64_t>& lengths, int64_t steps) {
    std::vector<bool> valid;
    for (int64_t t = 0; t < steps; ++t)
        for (int64_t len : lengths) valid.push_back(t < len);
    return b.constant(mil::ConstData::fromBools(valid, {steps, static_cast<int64_t>(lengths.size())}));
}

}  // namespace

PaddedLayout layoutOfLengths(LoweringContext& ctx, const Arg& lengthsArg, mil::Value* padded) {
    mil::Builder& b = ctx.builder();
    PaddedLayout layout;
    if (const mil::ConstData* data = constantData(lengthsArg)) {
        const std::vector<int64_t> lengths = data->toInts();
        if (lengths.empty()) ctx.fail(ctx.opName() + ": lengths is empty");
        for (size_t i = 0; i < lengths.size(); ++i)
            if (lengths[i] <= 0 || (i > 0 && lengths[i] > lengths[i - 1]))
                ctx.fail(ctx.opName() +
                         ": lengths must be positive and sorted in decreasing order (pack_padded_sequence sorts them "
                         "with enforce_sorted=False)");
        layout.constLengths = lengths;
        layout.steps = lengths[0];
        layout.lengths = intsConst(b, lengths, {static_cast<int64_t>(lengths.size())});
        layout.mask = maskOf(b, lengths, lengths[0]);
        return layout;
    }
    layout.lengths = castTo(b, ctx.materialize(lengthsArg), DType::Int32);
    if (rankOf(layout.lengths) != 1)
        ctx.fail(ctx.opName() + ": lengths must be 1-D, got " + layout.lengths->type().str());
    mil::Value* rows = countTo(ctx, dimArg(b, padded, 0));
    layout.steps = staticDim(padded, 0);
    layout.mask = op2(b, "less", axis1(b, rows), axis0(b, layout.lengths));
    return layout;
}

mil::Value* unpackSequence(LoweringContext& ctx, mil::Value* data, const Arg& batchSizes, std::optional<int64_t> batch,
                           double padValue, const Arg* totalLength, PaddedLayout& layout) {
    mil::Builder& b = ctx.builder();
    if (rankOf(data) < 2) ctx.fail(ctx.opName() + ": packed data must be [N, *], got " + data->type().str());
    std::vector<int64_t> rowSizes = featureDims(ctx, data, 1, "packed data");
    rowSizes.insert(rowSizes.begin(), 1);
    const int64_t rowCount = std::accumulate(rowSizes.begin(), rowSizes.end(), int64_t{1}, std::multiplies<int64_t>());
    mil::Value* padRow =
        castTo(b,
               b.constant(mil::ConstData::fromFloats(
                   std::vector<float>(static_cast<size_t>(rowCount), static_cast<float>(padValue)), rowSizes)),
               typeOf(data).dtype);
    mil::Value* rows = b.add("concat", {{"values", std::vector<mil::Value*>{data, padRow}}, {"axis", int64_t{0}}});

    mil::Value* where = nullptr;  // [T', B]: the row of `rows` each padded step takes
    if (const mil::ConstData* constSizes = constantData(batchSizes)) {
        const std::vector<int64_t> sizes = constSizes->toInts();
        if (sizes.empty()) ctx.fail(ctx.opName() + ": batch_sizes is empty");
        const int64_t steps = static_cast<int64_t>(sizes.size()), width = sizes[0];
        if (batch && *batch != width)
            ctx.fail(ctx.opName() + ": batch_sizes[0] = " + std::to_string(width) + " but the states hold " +
                     std::to_string(*batch) + " sequences");
        int64_t total = steps;
        if (totalLength) {
            if (!isIntConstant(*totalLength))
                ctx.fail(ctx.opName() + ": total_length must be a constant when batch_sizes is, got " +
                         totalLength->describe());
            total = std::get<int64_t>(totalLength->literal());
            if (total < steps)
                ctx.fail(ctx.opName() + ": total_length = " + std::to_string(total) +
                         " is shorter than the longest sequence (" + std::to_string(steps) + ")");
        }
        const int64_t n = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
        std::vector<int64_t> index, lengths(static_cast<size_t>(width), 0);
        int64_t offset = 0;
        for (int64_t t = 0; t < total; ++t) {
            const int64_t here = t < steps ? sizes[static_cast<size_t>(t)] : 0;
            for (int64_t col = 0; col < width; ++col) {
                index.push_back(col < here ? offset + col : n);
                if (col < here) ++lengths[static_cast<size_t>(col)];
            }
            offset += here;
        }
        where = intsConst(b, index, {total, width});
        layout.constLengths = lengths;
        layout.steps = total;
        layout.lengths = intsConst(b, lengths, {width});
        layout.mask = maskOf(b, lengths, total);
    } else {
        mil::Value* sizes = castTo(b, ctx.materialize(batchSizes), DType::Int32);
        if (rankOf(sizes) != 1) ctx.fail(ctx.opName() + ": batch_sizes must be 1-D, got " + sizes->type().str());
        const Arg stepsArg = dimArg(b, sizes, 0);
        mil::Value* steps = ctx.materialize(stepsArg);
        mil::Value* t = countTo(ctx, totalLength ? *totalLength : stepsArg);
        // Steps beyond batch_sizes (up to total_length) hold no sequence.
        mil::Value* inRange = op2(b, "less", t, steps);
        mil::Value* clamped = op2(b, "minimum", t, op2(b, "sub", steps, b.intScalar(1)));
        mil::Value* here = b.add("select", {{"cond", inRange},
                                            {"a", b.add("gather", {{"x", sizes}, {"indices", clamped}})},
                                            {"b", op2(b, "mul", t, b.intScalar(0))}});
        mil::Value* offsets = b.add(
            "gather",
            {{"x", b.add("cumsum", {{"x", sizes}, {"axis", int64_t{0}}, {"exclusive", true}})}, {"indices", clamped}});
        mil::Value* cols =
            batch ? countTo(ctx, Arg::constant(mil::Literal(*batch)))
                  : countTo(ctx, Arg::dynamicScalar(b.add("gather", {{"x", sizes}, {"indices", b.intScalar(0)}})));
        layout.mask = op2(b, "less", axis0(b, cols), axis1(b, here));
        mil::Value* position = op2(b, "add", axis1(b, offsets), axis0(b, cols));
        mil::Value* n = b.add("gather", {{"x", b.add("shape", {{"x", data}})}, {"indices", b.intScalar(0)}});
        where = b.add(
            "select",
            {{"cond", layout.mask}, {"a", position}, {"b", op2(b, "add", op2(b, "mul", position, b.intScalar(0)), n)}});
        layout.lengths = b.add(
            "reduce_sum",
            {{"x", castTo(b, layout.mask, DType::Int32)}, {"axes", std::vector<int64_t>{0}}, {"keep_dims", false}});
        layout.steps = totalLength && isIntConstant(*totalLength)
                           ? std::optional<int64_t>(std::get<int64_t>(totalLength->literal()))
                           : staticDim(sizes, 0);
    }
    return b.add("gather", {{"x", rows}, {"indices", where}, {"axis", int64_t{0}}});
}

mil::Value* packSequence(LoweringContext& ctx, mil::Value* padded, const PaddedLayout& layout) {
    mil::Builder& b = ctx.builder();
    std::vector<int64_t> flatShape = featureDims(ctx, padded, 2, "the padded sequence");
    flatShape.insert(flatShape.begin(), -1);
    mil::Value* flat = b.add("reshape", {{"x", padded}, {"shape", flatShape}});
    mil::Value* positions = nullptr;
    if (const mil::ConstData* mask = layout.mask->constant()) {
        std::vector<int64_t> valid;
        for (int64_t i = 0; i < mask->numel(); ++i)
            if (mask->asInt(static_cast<size_t>(i)) != 0) valid.push_back(i);
        positions = intsConst(b, valid, {static_cast<int64_t>(valid.size())});
    } else {
        mil::Value* flatMask = b.add("reshape", {{"x", layout.mask}, {"shape", b.ints({-1})}});
        positions = b.add("reshape", {{"x", b.add("non_zero", {{"x", flatMask}})}, {"shape", b.ints({-1})}});
    }
    return b.add("gather", {{"x", flat}, {"indices", positions}, {"axis", int64_t{0}}});
}

mil::Value* reverseWithinLengths(LoweringContext& ctx, mil::Value* padded, const PaddedLayout& layout) {
    mil::Builder& b = ctx.builder();
    const auto steps = staticDim(padded, 0);
    const auto width = staticDim(padded, 1);
    if (!width) ctx.fail(ctx.opName() + ": a packed sequence needs a static batch size, got " + padded->type().str());
    mil::Value* index = nullptr;
    if (layout.constLengths && steps) {
        std::vector<int64_t> v;
        for (int64_t t = 0; t < *steps; ++t)
            for (int64_t col = 0; col < *width; ++col) {
                const int64_t len = (*layout.constLengths)[static_cast<size_t>(col)];
                v.push_back(t < len ? len - 1 - t : t);
                v.push_back(col);
            }
        index = intsConst(b, v, {*steps, *width, 2});
    } else {
        mil::Value* t = axis1(b, countTo(ctx, dimArg(b, padded, 0)));                  // [T, 1]
        mil::Value* lengths = axis0(b, layout.lengths);                                // [1, B]
        mil::Value* zeros = op2(b, "mul", op2(b, "add", t, lengths), b.intScalar(0));  // [T, B]
        mil::Value* mirrored = op2(b, "sub", op2(b, "sub", lengths, b.intScalar(1)), t);
        mil::Value* time = b.add("select", {{"cond", op2(b, "less", t, lengths)},
                                            {"a", op2(b, "add", mirrored, zeros)},
                                            {"b", op2(b, "add", t, zeros)}});
        mil::Value* cols = op2(b, "add", zeros, axis0(b, countTo(ctx, Arg::constant(mil::Literal(*width)))));
        index = b.add("stack", {{"values", std::vector<mil::Value*>{time, cols}}, {"axis", int64_t{-1}}});
    }
    return b.add("gather_nd", {{"x", padded}, {"indices", index}});
}

namespace {

// _pack_padded_sequence(input, lengths, batch_first) -> (data, batch_sizes)
void lowerPackPaddedSequence(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("input");
    if (rankOf(x) < 2) ctx.fail("_pack_padded_sequence needs an input [T, B, *] or [B, T, *], got " + x->type().str());
    if (ctx.getBool("batch_first")) {
        std::vector<int64_t> perm(static_cast<size_t>(rankOf(x)));
        std::iota(perm.begin(), perm.end(), 0);
        std::swap(perm[0], perm[1]);
        x = permuted(b, x, perm);
    }
    const PaddedLayout layout = layoutOfLengths(ctx, ctx.arg("lengths"), x);
    ctx.bind(0, packSequence(ctx, x, layout));
    if (layout.constLengths) {
        const std::vector<int64_t>& lengths = *layout.constLengths;
        std::vector<int64_t> sizes;
        for (int64_t t = 0; t < lengths[0]; ++t)
            sizes.push_back(std::count_if(lengths.begin(), lengths.end(), [t](int64_t len) { return len > t; }));
        ctx.bind(1, intsConst(b, sizes, {lengths[0]}));
        return;
    }
    // batch_sizes has one entry per step of the longest sequence.
    mil::Value* sizes =
        b.add("reduce_sum",
              {{"x", castTo(b, layout.mask, DType::Int32)}, {"axes", std::vector<int64_t>{1}}, {"keep_dims", false}});
    mil::Value* longest =
        b.add("reduce_max", {{"x", layout.lengths}, {"axes", std::vector<int64_t>{0}}, {"keep_dims", true}});
    ctx.bind(1, b.add("slice_by_index", {{"x", sizes}, {"begin", b.ints({0})}, {"end", longest}}));
}

// _pad_packed_sequence(data, batch_sizes, batch_first, padding_value, total_length) -> (padded, lengths)
void lowerPadPackedSequence(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    PaddedLayout layout;
    const Arg& total = ctx.arg("total_length");
    mil::Value* padded = unpackSequence(ctx, ctx.tensor("data"), ctx.arg("batch_sizes"), std::nullopt,
                                        ctx.getDouble("padding_value"), &total, layout);
    if (ctx.getBool("batch_first")) {
        std::vector<int64_t> perm(static_cast<size_t>(rankOf(padded)));
        std::iota(perm.begin(), perm.end(), 0);
        std::swap(perm[0], perm[1]);
        padded = permuted(b, padded, perm);
    }
    ctx.bind(0, padded);
    ctx.bind(1, layout.lengths);
}

}  // namespace

void populatePackedSequenceLowerings(Registry& r) {
    r.add("aten::_pack_padded_sequence", lowerPackPaddedSequence);
    r.add("aten::_pad_packed_sequence", lowerPadPackedSequence);
}

TS2COREML_FAMILY(Registry, PackedSequence, populatePackedSequenceLowerings)

}  // namespace ts2coreml::lowering
