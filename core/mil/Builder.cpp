#include <ts2coreml/Builder.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace ts2coreml::mil {

Builder::Builder(Block& block, Target target) : block_(&block), target_(target) {}

std::string Builder::freshName(const std::string& prefix) { return prefix + "_" + std::to_string(counter_++); }

namespace {

std::shared_ptr<ConstData> literalData(const Literal& l) {
    if (std::holds_alternative<bool>(l)) return ConstData::fromBools({std::get<bool>(l)}, {});
    if (std::holds_alternative<int64_t>(l))
        return ConstData::fromInts({static_cast<int32_t>(std::get<int64_t>(l))}, {});
    if (std::holds_alternative<double>(l)) return ConstData::fromFloats({static_cast<float>(std::get<double>(l))}, {});
    if (std::holds_alternative<std::string>(l)) return ConstData::fromString(std::get<std::string>(l));
    if (std::holds_alternative<std::vector<int64_t>>(l)) {
        const auto& v = std::get<std::vector<int64_t>>(l);
        return ConstData::fromInts(std::vector<int32_t>(v.begin(), v.end()), {static_cast<int64_t>(v.size())});
    }
    if (std::holds_alternative<std::vector<double>>(l)) {
        const auto& v = std::get<std::vector<double>>(l);
        return ConstData::fromFloats(std::vector<float>(v.begin(), v.end()), {static_cast<int64_t>(v.size())});
    }
    throw SchemaError("an empty literal cannot be a constant");
}

// MIL has no int64 or fp64 arithmetic on most ops: constants narrow to int32 / fp32.
std::shared_ptr<const ConstData> narrow(std::shared_ptr<const ConstData> c) {
    if (c->dtype == DType::Int64) {
        std::vector<int32_t> v(static_cast<size_t>(c->numel()));
        for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int32_t>(c->asInt(i));
        return ConstData::fromInts(v, c->sizes);
    }
    if (c->dtype == DType::Float64) {
        std::vector<float> v(static_cast<size_t>(c->numel()));
        for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(c->asDouble(i));
        return ConstData::fromFloats(v, c->sizes);
    }
    return c;
}

std::string inputNames(const OpSchema& s) {
    std::string out;
    for (const auto& in : s.inputs) out += (out.empty() ? "" : ", ") + in.name;
    return out;
}

}  // namespace

Value* Builder::constant(std::shared_ptr<const ConstData> data) {
    data = narrow(std::move(data));
    auto op = std::make_unique<Operation>("const", block_);
    op->setLocation(location_);
    TensorType t = TensorType::of(data->dtype, data->sizes);
    op->setConstData(std::move(data));
    Value* out = op->addOutput(freshName("const"), t);
    block_->operations().push_back(std::move(op));
    return out;
}

Value* Builder::constant(const Literal& literal) { return constant(literalData(literal)); }

std::vector<Value*> Builder::addOp(const std::string& type, const OperandList& inputs) {
    const OpSchema* schema = SchemaTable::instance().find(type);
    if (!schema) throw SchemaError("unknown MIL op '" + type + "'");
    const std::string where = "MIL op '" + type + "': ";
    if (target_ < schema->minTarget)
        throw SchemaError(where + "needs " + targetName(schema->minTarget) + " or later (target is " +
                          targetName(target_) + ")");

    auto op = std::make_unique<Operation>(type, block_);
    op->setLocation(location_);
    std::map<std::string, DType> typeVars;
    for (const auto& [name, operand] : inputs) {
        const InputSpec* spec = schema->findInput(name);
        if (!spec) throw SchemaError(where + "no input named '" + name + "' (inputs: " + inputNames(*schema) + ")");
        if (op->inputList(name)) throw SchemaError(where + "input '" + name + "' given twice");
        std::vector<Value*> values;
        if (operand.isLiteral()) {
            values.push_back(constant(operand.literal()));
        } else {
            values = operand.values();
            if (operand.isList() && !spec->variadic)
                throw SchemaError(where + "input '" + name + "' takes one value, not a list");
        }
        for (Value* v : values) {
            if (!v) throw SchemaError(where + "input '" + name + "' is null");
            const DType dt = v->type().dtype;
            if (!(spec->dtypes & bit(dt)))
                throw SchemaError(where + "input '" + name + "' has type " + v->type().str() + ", expected " +
                                  dtypeSetName(spec->dtypes));
            if (spec->isConst && !v->constant())
                throw SchemaError(where + "input '" + name + "' must be a constant");
            if (!spec->typeVar.empty()) {
                auto [it, fresh] = typeVars.emplace(spec->typeVar, dt);
                if (!fresh && it->second != dt)
                    throw SchemaError(where + "input '" + name + "' has dtype " + dtypeName(dt) + " but type " +
                                      spec->typeVar + " is already " + dtypeName(it->second));
            }
        }
        op->mutableInputs().emplace_back(name, std::move(values));
    }
    for (const auto& spec : schema->inputs)
        if (!spec.optional && !op->inputList(spec.name))
            throw SchemaError(where + "required input '" + spec.name + "' is missing");

    std::vector<TensorType> outTypes = schema->infer(OpView(*op, *schema));
    std::vector<Value*> outs;
    for (auto& t : outTypes) outs.push_back(op->addOutput(freshName(type), std::move(t)));
    block_->operations().push_back(std::move(op));
    return outs;
}

std::vector<Value*> Builder::customLayer(std::shared_ptr<const CustomLayer> layer, const std::vector<Value*>& inputs,
                                         const std::vector<TensorType>& outputTypes) {
    if (!layer) throw SchemaError("custom layer: no description given");
    const std::string& cls = layer->className;
    const bool identifier = !cls.empty() && !std::isdigit(static_cast<unsigned char>(cls[0])) &&
                            std::all_of(cls.begin(), cls.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                            });
    if (!identifier) throw SchemaError("custom layer: class name '" + cls + "' is not an identifier");
    const std::string where = "custom layer '" + cls + "': ";
    if (inputs.empty()) throw SchemaError(where + "needs at least one input");
    if (outputTypes.empty()) throw SchemaError(where + "needs at least one output type");
    for (const Value* v : inputs)
        if (!v) throw SchemaError(where + "an input is null");
    for (size_t i = 0; i < layer->weights.size(); ++i)
        if (!layer->weights[i] || (layer->weights[i]->nbytes && !layer->weights[i]->data))
            throw SchemaError(where + "weight " + std::to_string(i) + " holds no data");
    auto op = std::make_unique<Operation>(kCustomLayerOp, block_);
    op->setLocation(location_);
    op->mutableInputs().emplace_back("inputs", inputs);
    op->setCustomLayer(std::move(layer));
    std::vector<Value*> outs;
    for (const TensorType& t : outputTypes) outs.push_back(op->addOutput(freshName(cls), t));
    block_->operations().push_back(std::move(op));
    return outs;
}

Value* Builder::add(const std::string& type, const OperandList& inputs) {
    auto outs = addOp(type, inputs);
    if (outs.size() != 1)
        throw SchemaError("MIL op '" + type + "' has " + std::to_string(outs.size()) + " outputs; use addOp");
    return outs.front();
}

}  // namespace ts2coreml::mil
