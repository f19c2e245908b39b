#include "frontend/QuantizedParams.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <set>
#include <stdexcept>
#include <string>

namespace ts2coreml {

namespace {

const std::string kClassPrefix = "__torch__.torch.classes.quantized.";

std::string className(const c10::IValue& v) {
    if (!v.isObject()) return {};
    const auto name = v.toObjectRef().type()->name();
    return name ? name->qualifiedName() : std::string();
}

/// Calls torch's op `name` (one argument, the packed object) through the dispatcher.
torch::jit::Stack callOnPacked(const char* name, const c10::IValue& packed) {
    const c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
    torch::jit::Stack stack{packed};
    op.callBoxed(&stack);
    return stack;
}

c10::IValue single(const char* name, const c10::IValue& packed) {
    torch::jit::Stack out = callOnPacked(name, packed);
    if (out.size() != 1)
        throw std::runtime_error(std::string(name) + " returned " + std::to_string(out.size()) + " values");
    return out[0];
}

/// (weight, bias) from an unpack op returning them as two values.
std::pair<c10::IValue, c10::IValue> weightAndBias(const char* name, const c10::IValue& packed) {
    torch::jit::Stack out = callOnPacked(name, packed);
    if (out.size() == 1 && out[0].isTuple() && out[0].toTupleRef().elements().size() == 2)
        return {out[0].toTupleRef().elements()[0], out[0].toTupleRef().elements()[1]};
    if (out.size() != 2)
        throw std::runtime_error(std::string(name) + " returned " + std::to_string(out.size()) + " values");
    return {out[0], out[1]};
}

}  // namespace

bool isQuantizedPackedParams(const c10::IValue& v) { return className(v).rfind(kClassPrefix, 0) == 0; }

c10::IValue unpackQuantizedParams(const c10::IValue& packed) {
    const std::string name = className(packed).substr(kClassPrefix.size());
    if (name == "Conv2dPackedParamsBase") {
        if (single("quantized::conv2d_transpose", packed).toInt() != 0)
            throw std::runtime_error("quantized transposed convolutions are not supported (packed " + name + ")");
        auto [weight, bias] = weightAndBias("quantized::conv2d_unpack", packed);
        return c10::ivalue::Tuple::create(
            {c10::IValue(std::string("conv2d")), weight, bias, single("quantized::conv2d_stride", packed),
             single("quantized::conv2d_padding", packed), single("quantized::conv2d_dilation", packed),
             single("quantized::conv2d_groups", packed)});
    }
    if (name == "LinearPackedParamsBase") {
        auto [weight, bias] = weightAndBias("quantized::linear_unpack", packed);
        return c10::ivalue::Tuple::create({c10::IValue(std::string("linear")), weight, bias});
    }
    if (name == "EmbeddingPackedParamsBase")
        return c10::ivalue::Tuple::create(
            {c10::IValue(std::string("embedding")), single("quantized::embedding_bag_unpack", packed)});
    throw std::runtime_error("quantized parameters of class " + name + " are not supported");
}

namespace {

/// Ops that take quantized tensors and return something else: the integers, the parameters, floats.
bool endsQuantization(const std::string& kind) {
    static const std::set<std::string> kinds = {
        "aten::dequantize",
        "aten::int_repr",
        "aten::q_scale",
        "aten::q_zero_point",
        "aten::q_per_channel_scales",
        "aten::q_per_channel_zero_points",
        "aten::q_per_channel_axis",
    };
    return kinds.count(kind) || kind.rfind("quantized::embedding", 0) == 0;
}

}  // namespace

std::optional<c10::ScalarType> QuantizedDtypes::of(const torch::jit::Value* v) {
    if (auto it = known_.find(v); it != known_.end()) return it->second;
    std::optional<c10::ScalarType> dtype;
    const auto tensorType = v->type()->cast<c10::TensorType>();
    const torch::jit::Node* node = v->node();
    const std::string kind = node->kind().toQualString();
    if (!tensorType || endsQuantization(kind) || node->kind() == c10::prim::Param || !node->blocks().empty()) {
        // not a tensor, a float result, or made by control flow (whose branches may differ)
    } else if (auto recorded = tensorType->scalarType(); recorded && c10::isQIntType(*recorded)) {
        dtype = *recorded;
    } else if (node->kind() == c10::prim::Constant) {
        const auto value = torch::jit::toIValue(v);
        if (value && value->isTensor() && value->toTensor().is_quantized()) dtype = value->toTensor().scalar_type();
    } else if (kind == "aten::quantize_per_tensor" || kind == "aten::quantize_per_channel") {
        const auto* schema = node->maybeSchema();
        const auto index = schema ? schema->argumentIndexWithName("dtype") : c10::nullopt;
        const auto code = index ? torch::jit::toIValue(node->input(*index)) : c10::nullopt;
        if (code && code->isInt()) dtype = static_cast<c10::ScalarType>(code->toInt());
    } else {
        for (const torch::jit::Value* input : node->inputs())
            if ((dtype = of(input))) break;
    }
    known_[v] = dtype;
    return dtype;
}

}  // namespace ts2coreml
