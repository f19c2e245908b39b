#include <ts2coreml/Builder.h>

#include "mil/IRAccess.h"
#include "mil/ops/SchemaSupport.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace ts2coreml::mil {

Builder::Builder(Block& block, Target target) : block_(&block), target_(target) {}

std::string Builder::freshName(const std::string& prefix) { return prefix + "_" + std::to_string(counter_++); }

namespace {

/// An int64 as int32, clamped: Core ML has no int64, and torch's "to the end" sentinel
/// (INT64_MAX, a slice's default end) must stay the largest int rather than wrap to -1.
int32_t saturated(int64_t v) {
    return static_cast<int32_t>(
        std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

std::shared_ptr<ConstData> literalData(const Literal& l) {
    if (std::holds_alternative<bool>(l)) return ConstData::fromBools({std::get<bool>(l)}, {});
    if (std::holds_alternative<int64_t>(l)) return ConstData::fromInts({saturated(std::get<int64_t>(l))}, {});
    if (std::holds_alternative<double>(l)) return ConstData::fromFloats({static_cast<float>(std::get<double>(l))}, {});
    if (std::holds_alternative<std::string>(l)) return ConstData::fromString(std::get<std::string>(l));
    if (std::holds_alternative<std::vector<int64_t>>(l)) {
        const auto& v = std::get<std::vector<int64_t>>(l);
        std::vector<int32_t> narrow(v.size());
        std::transform(v.begin(), v.end(), narrow.begin(), saturated);
        return ConstData::fromInts(narrow, {static_cast<int64_t>(v.size())});
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
        for (size_t i = 0; i < v.size(); ++i) v[i] = saturated(c->asInt(i));
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
    IRAccess::operations(*block_).push_back(std::move(op));
    return out;
}

Value* Builder::constant(const Literal& literal) { return constant(literalData(literal)); }

const OpSchema& Builder::schemaFor(const std::string& type) const {
    const OpSchema* schema = SchemaTable::instance().find(type);
    if (!schema) throw SchemaError("unknown MIL op '" + type + "'");
    if (target_ < schema->minTarget)
        throw SchemaError("MIL op '" + type + "': needs " + targetName(schema->minTarget) + " or later (target is " +
                          targetName(target_) + ")");
    return *schema;
}

std::vector<Value*> Builder::addOp(const std::string& type, const OperandList& inputs) {
    const OpSchema& schema = schemaFor(type);
    auto op = std::make_unique<Operation>(type, block_);
    op->setLocation(location_);
    return complete(std::move(op), schema, inputs);
}

std::vector<Value*> Builder::complete(std::unique_ptr<Operation> op, const OpSchema& schema,
                                      const OperandList& inputs) {
    const std::string where = "MIL op '" + schema.name + "': ";
    std::map<std::string, DType> typeVars;
    for (const auto& [name, operand] : inputs) {
        const InputSpec* spec = schema.findInput(name);
        if (!spec) throw SchemaError(where + "no input named '" + name + "' (inputs: " + inputNames(schema) + ")");
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
            if (spec->isConst && !v->constant()) throw SchemaError(where + "input '" + name + "' must be a constant");
            if (!spec->typeVar.empty()) {
                auto [it, fresh] = typeVars.emplace(spec->typeVar, dt);
                if (!fresh && it->second != dt)
                    throw SchemaError(where + "input '" + name + "' has dtype " + dtypeName(dt) + " but type " +
                                      spec->typeVar + " is already " + dtypeName(it->second));
            }
        }
        IRAccess::inputs(*op).emplace_back(name, std::move(values));
    }
    for (const auto& spec : schema.inputs)
        if (!spec.optional && !op->inputList(spec.name))
            throw SchemaError(where + "required input '" + spec.name + "' is missing");

    std::vector<TensorType> outTypes = schema.infer(OpView(*op, schema));
    std::vector<Value*> outs;
    for (auto& t : outTypes) outs.push_back(op->addOutput(freshName(schema.name), std::move(t)));
    IRAccess::operations(*block_).push_back(std::move(op));
    return outs;
}

void Builder::setBlockOutputs(Block& block, const std::vector<Value*>& results) {
    BlockScope scope(*this, block);
    std::set<const Value*> seen;
    for (Value* v : results) {
        if (!v) throw SchemaError("a nested block returns a null value");
        const bool own = v->producer() && v->producer()->parent() == &block && !v->constant();
        if (!own || !seen.insert(v).second) v = add("identity", {{"x", v}});
        block.outputs().push_back(v);
    }
}

std::vector<Value*> Builder::cond(Value* pred, const BranchFn& thenBranch, const BranchFn& elseBranch) {
    const OpSchema& schema = schemaFor("cond");
    auto op = std::make_unique<Operation>("cond", block_);
    op->setLocation(location_);
    for (const BranchFn* branch : {&thenBranch, &elseBranch}) {
        IRAccess::blocks(*op).push_back(std::make_unique<Block>(op.get()));
        Block& b = *op->blocks().back();
        std::vector<Value*> results;
        {
            BlockScope scope(*this, b);
            results = (*branch)();
        }
        setBlockOutputs(b, results);
    }
    return complete(std::move(op), schema, {{"pred", pred}});
}

std::vector<Value*> Builder::whileLoop(const std::vector<Value*>& loopVars, const LoopFn& condition,
                                       const LoopFn& body) {
    const OpSchema& schema = schemaFor("while_loop");
    std::vector<TensorType> types;
    for (Value* v : loopVars) {
        if (!v) throw SchemaError("MIL op 'while_loop': a loop variable is null");
        types.push_back(v->type());
    }
    // Sizes the body changes (static ones, and symbolic ones it turns into other symbols) are
    // relaxed to unbounded symbols and the blocks built again; each size is relaxed at most once,
    // so this ends.
    std::set<std::pair<size_t, size_t>> relaxed;
    for (;;) {
        auto op = std::make_unique<Operation>("while_loop", block_);
        op->setLocation(location_);
        std::vector<Value*> bodyResults;
        for (int which = 0; which < 2; ++which) {
            IRAccess::blocks(*op).push_back(std::make_unique<Block>(op.get()));
            Block& b = *op->blocks().back();
            std::vector<Value*> vars;
            for (size_t i = 0; i < types.size(); ++i) vars.push_back(b.addInput(freshName("loop_var"), types[i]));
            std::vector<Value*> results;
            {
                BlockScope scope(*this, b);
                results = which == 0 ? condition(vars) : body(vars);
            }
            if (which == 1) bodyResults = results;
            setBlockOutputs(b, results);
        }
        if (bodyResults.size() != types.size())
            throw SchemaError("MIL op 'while_loop': the body returns " + std::to_string(bodyResults.size()) +
                              " values for " + std::to_string(types.size()) + " loop variables");
        bool changed = false;
        for (size_t i = 0; i < types.size(); ++i) {
            TensorType joined;
            try {
                joined = joinTypes(types[i], bodyResults[i]->type(), "loop variable " + std::to_string(i));
            } catch (const std::exception& e) {
                throw SchemaError(std::string("MIL op 'while_loop': ") + e.what());
            }
            for (size_t d = 0; d < joined.rank(); ++d) {
                if (!shapes::sameDim(joined.shape[d], types[i].shape[d]) && relaxed.insert({i, d}).second) {
                    // A growing size: from the smaller of the sizes up, unbounded.
                    Dim grown = joined.shape[d];
                    grown.upper = -1;
                    types[i].shape[d] = grown;
                    changed = true;
                }
            }
        }
        if (!changed) {
            OperandList inputs = {{"loop_vars", loopVars}};
            return complete(std::move(op), schema, inputs);
        }
    }
}

std::vector<Value*> Builder::customLayer(std::shared_ptr<const CustomLayer> layer, const std::vector<Value*>& inputs,
                                         const std::vector<TensorType>& outputTypes) {
    if (!layer) throw SchemaError("custom layer: no description given");
    const std::string& cls = layer->className;
    const bool identifier = !cls.empty() && !std::isdigit(static_cast<unsigned char>(cls[0])) &&
                            std::all_of(cls.begin(), cls.end(),
                                        [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
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
    IRAccess::inputs(*op).emplace_back("inputs", inputs);
    op->setCustomLayer(std::move(layer));
    std::vector<Value*> outs;
    for (const TensorType& t : outputTypes) outs.push_back(op->addOutput(freshName(cls), t));
    IRAccess::operations(*block_).push_back(std::move(op));
    return outs;
}

Value* Builder::add(const std::string& type, const OperandList& inputs) {
    auto outs = addOp(type, inputs);
    if (outs.size() != 1)
        throw SchemaError("MIL op '" + type + "' has " + std::to_string(outs.size()) + " outputs; use addOp");
    return outs.front();
}

}  // namespace ts2coreml::mil
