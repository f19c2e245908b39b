#include "verify/Verification.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <limits>

namespace ts2coreml::verify {

Tolerance fp32Tolerance() { return {1e-4, 1e-4}; }
Tolerance fp16Tolerance() { return {1e-3, 3e-2}; }

bool usesFloat16(const mil::Program& program) {
    const mil::Block& body = program.main().body;
    bool fp16 = false;
    for (const auto& in : body.inputs()) fp16 = fp16 || in->type().dtype == DType::Float16;
    mil::walk(body, [&](const mil::Operation& op) {
        for (const auto& out : op.outputs()) fp16 = fp16 || out->type().dtype == DType::Float16;
    });
    return fp16;
}

std::vector<int64_t> concreteSizes(const mil::Value& input, const std::vector<int64_t>* override) {
    const TensorType& type = input.type();
    if (override) {
        if (override->size() != type.rank())
            throw std::invalid_argument("--input " + input.name() + ": " + std::to_string(override->size()) +
                                        " sizes given, the model's input is " + type.str());
        for (size_t i = 0; i < type.rank(); ++i) {
            const Dim& d = type.shape[i];
            const int64_t n = (*override)[i];
            const bool ok = d.isStatic() ? n == d.size : n >= d.lower && (d.upper < 0 || n <= d.upper);
            if (!ok)
                throw std::invalid_argument("--input " + input.name() + ": size " + std::to_string(n) +
                                            " of dimension " + std::to_string(i) + " does not fit the model's input " +
                                            type.str());
        }
        return *override;
    }
    std::vector<int64_t> sizes;
    for (const Dim& d : type.shape) sizes.push_back(d.isStatic() ? d.size : std::max<int64_t>(d.lower, 1));
    return sizes;
}

namespace {
std::string sizesText(const std::vector<int64_t>& sizes) {
    std::string s;
    for (size_t i = 0; i < sizes.size(); ++i) s += (i ? "," : "") + std::to_string(sizes[i]);
    return s;
}
}  // namespace

const std::vector<int64_t>& enumeratedShape(const backend::FeatureInfo& input, const std::vector<int64_t>* requested) {
    if (!requested) return input.enumeratedShapes.front();
    for (const auto& shape : input.enumeratedShapes)
        if (shape == *requested) return shape;
    std::string known;
    for (const auto& shape : input.enumeratedShapes) known += (known.empty() ? "" : " | ") + sizesText(shape);
    throw std::invalid_argument("--input " + input.name + ": " + sizesText(*requested) +
                                " is not one of the model's enumerated shapes (" + known + ")");
}

at::Tensor randomInput(const TensorType& type, const std::vector<int64_t>& sizes, at::Generator& gen) {
    switch (type.dtype) {
        case DType::Bool: return at::bernoulli(at::full(sizes, 0.5), gen).to(at::kBool);
        case DType::Int8:
        case DType::UInt8:
        case DType::Int16:
        case DType::Int32:
        case DType::Int64: return at::randint(0, 10, sizes, gen, at::TensorOptions().dtype(at::kInt));
        case DType::Float16: return at::randn(sizes, gen).to(at::kHalf).to(at::kFloat);
        default: return at::randn(sizes, gen);
    }
}

std::vector<at::Tensor> flattenOutputs(const c10::IValue& value) {
    std::vector<at::Tensor> out;
    if (value.isTensor()) {
        out.push_back(value.toTensor());
    } else if (value.isTuple()) {
        for (const auto& e : value.toTupleRef().elements()) {
            auto sub = flattenOutputs(e);
            out.insert(out.end(), sub.begin(), sub.end());
        }
    } else if (value.isList()) {
        for (const auto& e : value.toListRef()) {
            auto sub = flattenOutputs(e);
            out.insert(out.end(), sub.begin(), sub.end());
        }
    } else if (value.isGenericDict()) {
        for (const auto& entry : value.toGenericDict()) {
            auto sub = flattenOutputs(entry.value());
            out.insert(out.end(), sub.begin(), sub.end());
        }
    } else if (value.isInt()) {
        out.push_back(at::scalar_tensor(value.toInt(), at::kLong));
    } else if (value.isDouble()) {
        out.push_back(at::scalar_tensor(value.toDouble(), at::kDouble));
    } else if (value.isBool()) {
        out.push_back(at::scalar_tensor(value.toBool(), at::kBool));
    } else if (!value.isNone()) {
        throw std::invalid_argument("the model returns a " + value.tagKind() + ", which cannot be compared");
    }
    return out;
}

std::vector<at::Tensor> runReference(torch::jit::Module& module, const std::vector<at::Tensor>& inputs) {
    module.eval();
    std::vector<c10::IValue> args;
    for (const at::Tensor& t : inputs) {
        // Integer model inputs are int64 in torch (indices, token ids); the program narrows them.
        const bool integer = !t.is_floating_point() && t.scalar_type() != at::kBool;
        args.emplace_back(integer ? t.to(at::kLong) : t);
    }
    c10::InferenceMode guard;
    return flattenOutputs(module.forward(args));
}

OutputComparison compareOutput(const std::string& name, const at::Tensor& reference, const at::Tensor& actual,
                               const Tolerance& tolerance) {
    OutputComparison c;
    c.name = name;
    c.shape.assign(actual.sizes().begin(), actual.sizes().end());
    c.referenceShape.assign(reference.sizes().begin(), reference.sizes().end());
    c.exact = !reference.is_floating_point() && !reference.is_complex();
    // A NeuralNetwork has no rank 0: its scalar outputs are [1], and compare with LibTorch's scalar.
    const bool scalarAsBlob = reference.dim() == 0 && c.shape == std::vector<int64_t>{1};
    if (c.shape != c.referenceShape && !scalarAsBlob) {
        c.problem = "shape differs from LibTorch's";
        c.maxAbsError = c.maxRelError = std::numeric_limits<double>::infinity();
        return c;
    }
    const at::Tensor ref = reference.to(at::kDouble).reshape(actual.sizes()), got = actual.to(at::kDouble);
    if (ref.numel() == 0) {
        c.pass = true;
        return c;
    }
    const at::Tensor refNan = at::isnan(ref), gotNan = at::isnan(got);
    if (!at::equal(refNan, gotNan)) {
        c.problem = "NaN where LibTorch has none (or the reverse)";
        c.maxAbsError = c.maxRelError = std::numeric_limits<double>::quiet_NaN();
        return c;
    }
    const at::Tensor diff = at::where(refNan, at::zeros_like(ref), at::abs(ref - got));
    // Matching infinities give NaN differences; they agree.
    c.maxAbsError = at::nan_to_num(diff, 0.0).max().item<double>();
    c.scale = at::where(at::isfinite(ref), at::abs(ref), at::zeros_like(ref)).max().item<double>();
    c.maxRelError = c.scale > 0 ? c.maxAbsError / c.scale : c.maxAbsError;
    if (c.exact) {
        c.pass = c.maxAbsError == 0;
        if (!c.pass) {
            const int64_t differ = at::ne(ref, got).sum().item<int64_t>();
            c.problem = std::to_string(differ) + " of " + std::to_string(ref.numel()) + " integers differ";
        }
        return c;
    }
    c.pass = c.maxAbsError <= tolerance.atol + tolerance.rtol * c.scale;
    return c;
}

}  // namespace ts2coreml::verify
