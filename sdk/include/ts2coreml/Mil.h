// Public SDK: the MIL intermediate representation ts2coreml lowers TorchScript into.
//
// Program -> functions -> blocks -> operations. Every value is produced by exactly one operation
// (or is a block input) and has a TensorType. Constants are `const` operations whose data is held
// by ConstData, which may alias memory owned elsewhere (a torch parameter) so weights are never
// copied while the program is built.
#pragma once

#include <ts2coreml/Types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace ts2coreml::mil {

class Operation;
class Block;
class IRAccess;  // core-internal: the host's passes and readers edit the IR's structure through it

/// Immutable constant payload: dtype, sizes and a pointer to contiguous row-major data.
/// `owner` keeps the memory alive (a torch tensor, a vector, a mapped file).
struct ConstData {
    DType dtype = DType::Float32;
    std::vector<int64_t> sizes;
    const void* data = nullptr;
    size_t nbytes = 0;
    std::shared_ptr<const void> owner;
    std::vector<std::string> strings;  ///< payload when dtype == String

    int64_t numel() const;
    /// Element i converted to double / int64 (any numeric dtype).
    double asDouble(size_t i = 0) const;
    int64_t asInt(size_t i = 0) const;
    std::vector<int64_t> toInts() const;
    std::vector<double> toDoubles() const;

    /// Makes a ConstData owning a copy of the given values.
    static std::shared_ptr<ConstData> fromFloats(const std::vector<float>& v, std::vector<int64_t> sizes);
    static std::shared_ptr<ConstData> fromInts(const std::vector<int32_t>& v, std::vector<int64_t> sizes);
    static std::shared_ptr<ConstData> fromBools(const std::vector<bool>& v, std::vector<int64_t> sizes);
    static std::shared_ptr<ConstData> fromString(const std::string& s);
    static std::shared_ptr<ConstData> fromBytes(DType dtype, std::vector<int64_t> sizes, std::vector<uint8_t> bytes);
};

/// Type of the operations that stand for a custom layer (see CustomLayer).
inline constexpr const char* kCustomLayerOp = "custom_layer";

/// A custom layer: an op Core ML does not have, which the app implements in Swift/Objective-C
/// (`MLCustomLayer`). Only NeuralNetwork models (`.mlmodel`) can hold one; it serializes to
/// Core ML's `CustomLayerParams`:
///
///   className    -> CustomLayerParams.className (the app's class implementing MLCustomLayer)
///   description  -> CustomLayerParams.description
///   parameters   -> CustomLayerParams.parameters (map name -> CustomLayerParamValue; the variant's
///                   alternative picks doubleValue, stringValue, intValue (int32), longValue (int64)
///                   or boolValue)
///   weights      -> CustomLayerParams.weights, in order (one WeightParams per ConstData)
///
/// In the MIL IR a custom layer is an Operation of type `custom_layer` (kCustomLayerOp) with this
/// description attached (Operation::customLayer()); its inputs are the values bound to its one
/// variadic input `inputs`, in order, and its outputs carry the types the lowering declared. It has
/// no op schema: Builder::customLayer checks it instead. The ML Program writer refuses it.
struct CustomLayer {
    using Parameter = std::variant<double, std::string, int32_t, int64_t, bool>;
    std::string className;
    std::string description;
    std::map<std::string, Parameter> parameters;
    std::vector<std::shared_ptr<const ConstData>> weights;
};

/// A typed SSA value.
class Value {
public:
    Value(std::string name, TensorType type, Operation* producer)
        : name_(std::move(name)), type_(std::move(type)), producer_(producer) {}
    const std::string& name() const { return name_; }
    void setName(std::string n) { name_ = std::move(n); }
    const TensorType& type() const { return type_; }
    void setType(TensorType t) { type_ = std::move(t); }
    Operation* producer() const { return producer_; }  ///< null for block inputs
    /// The constant payload if this value is produced by a `const` op, else null.
    const ConstData* constant() const;

private:
    std::string name_;
    TensorType type_;
    Operation* producer_;
};

/// A named operation with named (possibly variadic) inputs, typed outputs and nested blocks.
class Operation {
public:
    Operation(std::string type, Block* parent) : type_(std::move(type)), parent_(parent) {}
    const std::string& type() const { return type_; }
    Block* parent() const { return parent_; }

    using Inputs = std::vector<std::pair<std::string, std::vector<Value*>>>;
    const Inputs& inputs() const { return inputs_; }
    /// First value bound to an input, or null when absent.
    Value* input(const std::string& name) const;
    const std::vector<Value*>* inputList(const std::string& name) const;

    const std::vector<std::unique_ptr<Value>>& outputs() const { return outputs_; }
    Value* output(size_t i = 0) const { return outputs_.at(i).get(); }
    Value* addOutput(std::string name, TensorType type);

    /// Nested blocks (cond's two branches, while_loop's condition and body).
    const std::vector<std::unique_ptr<Block>>& blocks() const { return blocks_; }

    /// Payload of a `const` op.
    const std::shared_ptr<const ConstData>& constData() const { return const_; }
    void setConstData(std::shared_ptr<const ConstData> c) { const_ = std::move(c); }

    /// The custom layer this op stands for, when its type is kCustomLayerOp; else null.
    const std::shared_ptr<const CustomLayer>& customLayer() const { return custom_; }
    void setCustomLayer(std::shared_ptr<const CustomLayer> c) { custom_ = std::move(c); }

    /// Where this op came from: "model.py:12:8 (ResNet/layer1.0/conv1)", for diagnostics.
    const std::string& location() const { return location_; }
    void setLocation(std::string loc) { location_ = std::move(loc); }

private:
    friend class IRAccess;
    std::string type_;
    Block* parent_;
    Inputs inputs_;
    std::vector<std::unique_ptr<Value>> outputs_;
    std::vector<std::unique_ptr<Block>> blocks_;
    std::shared_ptr<const ConstData> const_;
    std::shared_ptr<const CustomLayer> custom_;
    std::string location_;
};

/// An ordered list of operations with inputs and outputs (function body, cond branch, loop body).
class Block {
public:
    explicit Block(Operation* parent = nullptr) : parent_(parent) {}
    Operation* parentOp() const { return parent_; }
    Value* addInput(std::string name, TensorType type);
    const std::vector<std::unique_ptr<Value>>& inputs() const { return inputs_; }
    /// The block's operations, in order. Lowerings add operations through the Builder only.
    const std::vector<std::unique_ptr<Operation>>& operations() const { return ops_; }
    std::vector<Value*>& outputs() { return outputs_; }
    const std::vector<Value*>& outputs() const { return outputs_; }

private:
    friend class IRAccess;
    Operation* parent_;
    std::vector<std::unique_ptr<Value>> inputs_;
    std::vector<std::unique_ptr<Operation>> ops_;
    std::vector<Value*> outputs_;
};

/// A function: a body block whose inputs are the function's inputs, and an opset name.
struct Function {
    std::string opset = "CoreML5";
    Block body;
};

struct Program {
    std::map<std::string, Function> functions;  ///< "main" is the entry point
    Function& main() { return functions["main"]; }
    const Function& main() const { return functions.at("main"); }
};

/// Calls fn on every operation of a block and of its nested blocks, in order (pre-order).
void walk(const Block& block, const std::function<void(const Operation&)>& fn);

}  // namespace ts2coreml::mil
