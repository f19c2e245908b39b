// Packed variable-length sequences (torch.nn.utils.rnn.PackedSequence) as padded tensors.
//
// A packed sequence is `data` [N, *] (the valid steps of all sequences, time-major: every
// sequence's step 0, then step 1, ...; sequences sorted by decreasing length) and `batch_sizes`
// [T] (how many sequences have step t). Its padded form is x [T, B, *] with a mask [T, B] of the
// valid steps (t < length[b]). When batch_sizes is a constant, every index below is a constant
// and the shapes are static; otherwise they are computed at run time (non_zero, cumsum).
#pragma once

#include <ts2coreml/LoweringSupport.h>

#include <optional>
#include <vector>

namespace ts2coreml::lowering {

struct PaddedLayout {
    mil::Value* mask = nullptr;                        ///< [T, B] bool: t < length[b]
    mil::Value* lengths = nullptr;                     ///< [B] int32
    std::optional<std::vector<int64_t>> constLengths;  ///< the lengths when known at conversion time
    std::optional<int64_t> steps;                      ///< T when static
};

/// The layout of sequences of `lengths` (sorted decreasing when constant) padded to `steps` rows
/// (`steps`: the padded tensor's time dim, static or read from `padded`).
PaddedLayout layoutOfLengths(LoweringContext& ctx, const Arg& lengths, mil::Value* padded);

/// data [N, *] with `batchSizes` as a padded tensor [T', B, *] (T' = `totalLength` when given,
/// else T), steps beyond each length filled with `padValue`. `batch`: B when the caller knows it
/// statically (else it is batch_sizes[0]). Sets `layout` for the T steps.
mil::Value* unpackSequence(LoweringContext& ctx, mil::Value* data, const Arg& batchSizes, std::optional<int64_t> batch,
                           double padValue, const Arg* totalLength, PaddedLayout& layout);

/// The valid steps of padded [T, B, *] in packed order: [N, *].
mil::Value* packSequence(LoweringContext& ctx, mil::Value* padded, const PaddedLayout& layout);

/// Each sequence of padded [T, B, *] reversed within its own length (steps at and beyond the
/// length stay where they are); applying it twice restores the input.
mil::Value* reverseWithinLengths(LoweringContext& ctx, mil::Value* padded, const PaddedLayout& layout);

}  // namespace ts2coreml::lowering
