// torch's quantized packed parameters (the TorchScript custom-class objects quantized conv, linear
// and embedding modules keep their weights in) as plain values a lowering can read, and the
// quantized dtype of a tensor, which its lowered MIL value (a float tensor of the dequantized values)
// no longer carries.
#pragma once

#include <torch/csrc/jit/ir/ir.h>

#include <optional>
#include <unordered_map>

namespace ts2coreml {

/// True when `v` is one of torch's quantized packed-parameter objects.
bool isQuantizedPackedParams(const c10::IValue& v);

/// A packed-parameter object unpacked through torch's own ops (quantized::conv2d_unpack, ...) into a
/// tuple whose first element names its kind:
///   ("conv2d", weight, bias or None, stride, padding, dilation, groups)
///   ("linear", weight, bias or None)
///   ("embedding", weight)
/// Weights stay torch's quantized tensors (per tensor or per channel). Throws std::runtime_error
/// naming the class for parameters of another kind (transposed or 3-D convolutions, fp16 linear).
c10::IValue unpackQuantizedParams(const c10::IValue& packed);

/// The quantized dtype (QUInt8, QInt8, QInt32) of the tensors a torch value holds, found through
/// the ops that made it: quantize_per_tensor / quantize_per_channel name it, a quantized constant has
/// it, and any other op on quantized tensors (quantized::add, flatten, relu, ...) keeps the dtype of
/// its first quantized input; nullopt for float tensors, dequantize's result and anything unknown.
class QuantizedDtypes {
public:
    std::optional<c10::ScalarType> of(const torch::jit::Value* v);

private:
    std::unordered_map<const torch::jit::Value*, std::optional<c10::ScalarType>> known_;
};

}  // namespace ts2coreml
