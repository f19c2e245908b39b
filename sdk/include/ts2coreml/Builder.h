// Public SDK: the schema-checked MIL builder lowerings emit operations through.
#pragma once

#include <ts2coreml/OpSchema.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ts2coreml::mil {

/// What can be bound to an op input: a value, a list of values (variadic inputs), or a literal,
/// which the builder turns into a `const` op (integers as int32, reals as fp32).
class Operand {
public:
    Operand(Value* v) : values_{v}, isList_(false) {}
    Operand(std::vector<Value*> vs) : values_(std::move(vs)), isList_(true) {}
    Operand(bool b) : literal_(b) {}
    Operand(int i) : literal_(int64_t{i}) {}
    Operand(int64_t i) : literal_(i) {}
    Operand(double d) : literal_(d) {}
    Operand(float f) : literal_(double{f}) {}
    Operand(const char* s) : literal_(std::string(s)) {}
    Operand(std::string s) : literal_(std::move(s)) {}
    Operand(std::vector<int64_t> v) : literal_(std::move(v)) {}
    Operand(std::initializer_list<int64_t> v) : literal_(std::vector<int64_t>(v)) {}
    Operand(std::vector<double> v) : literal_(std::move(v)) {}
    Operand(Literal l) : literal_(std::move(l)) {}

    bool isLiteral() const { return values_.empty() && !isList_; }
    bool isList() const { return isList_; }
    const std::vector<Value*>& values() const { return values_; }
    const Literal& literal() const { return literal_; }

private:
    std::vector<Value*> values_;
    bool isList_ = false;
    Literal literal_;
};

using OperandList = std::vector<std::pair<std::string, Operand>>;

/// Emits operations into a block, checking each against its schema at construction:
/// unknown or missing inputs, wrong dtypes, non-constant constant inputs, a deployment target below
/// the op's minimum — each throws SchemaError naming the op and the input.
class Builder {
public:
    Builder(Block& block, Target target);

    /// Adds an op and returns all its outputs.
    std::vector<Value*> addOp(const std::string& type, const OperandList& inputs);
    /// Adds a single-output op and returns its output.
    Value* add(const std::string& type, const OperandList& inputs);

    /// A custom layer (NeuralNetwork `.mlmodel` only; see mil::CustomLayer) taking `inputs` and
    /// producing values of `outputTypes`. Checks the class name (a C identifier), that inputs and
    /// outputs are given, and that the weights hold data; throws SchemaError naming the class.
    std::vector<Value*> customLayer(std::shared_ptr<const CustomLayer> layer, const std::vector<Value*>& inputs,
                                    const std::vector<TensorType>& outputTypes);

    /// A `const` op holding `data`; `declared` overrides the value's dtype (e.g. fp16 storage).
    Value* constant(std::shared_ptr<const ConstData> data);
    Value* constant(const Literal& literal);
    Value* scalar(float v) { return constant(Literal(double{v})); }
    Value* intScalar(int64_t v) { return constant(Literal(v)); }
    Value* ints(std::vector<int64_t> v) { return constant(Literal(std::move(v))); }

    /// `cond`: runs `thenBranch` or `elseBranch` as `pred` (a bool scalar) is true or false. Each
    /// callback emits its ops into its own nested block (through this builder) and returns the
    /// block's results; both must return values of the same dtypes and ranks. Returns the op's
    /// outputs, whose sizes are the branches' where they agree and symbolic where they differ.
    using BranchFn = std::function<std::vector<Value*>()>;
    std::vector<Value*> cond(Value* pred, const BranchFn& thenBranch, const BranchFn& elseBranch);

    /// `while_loop` over `loopVars`: `condition` gets the current values and returns a bool
    /// scalar; `body` gets them and returns the next ones. When the body changes a size (a tensor
    /// that grows each iteration), that dim becomes symbolic and both callbacks run once more on
    /// the relaxed types — so callbacks must only emit ops, never keep the values they are given.
    /// Returns the loop variables' final values.
    using LoopFn = std::function<std::vector<Value*>(const std::vector<Value*>& vars)>;
    std::vector<Value*> whileLoop(const std::vector<Value*>& loopVars, const LoopFn& condition, const LoopFn& body);

    Target target() const { return target_; }
    Block& block() { return *block_; }
    /// Nested insertion (cond branches, loop bodies): ops go to `b` until the guard ends.
    class BlockScope {
    public:
        BlockScope(Builder& b, Block& block) : b_(b), saved_(b.block_) { b.block_ = &block; }
        ~BlockScope() { b_.block_ = saved_; }
        BlockScope(const BlockScope&) = delete;
        BlockScope& operator=(const BlockScope&) = delete;

    private:
        Builder& b_;
        Block* saved_;
    };

    /// Location attached to the ops created from now on.
    void setLocation(std::string loc) { location_ = std::move(loc); }
    const std::string& location() const { return location_; }

    /// A fresh value name with the given prefix.
    std::string freshName(const std::string& prefix = "var");

private:
    /// Ends a nested block: its results, each made an op result of the block itself (identity of
    /// block inputs, outer values and constants), become the block's outputs.
    void setBlockOutputs(Block& block, const std::vector<Value*>& results);
    const OpSchema& schemaFor(const std::string& type) const;
    /// Binds and checks `inputs`, infers the outputs (blocks already built) and appends `op`.
    std::vector<Value*> complete(std::unique_ptr<Operation> op, const OpSchema& schema, const OperandList& inputs);

    Block* block_;
    Target target_;
    std::string location_;
    size_t counter_ = 0;
};

}  // namespace ts2coreml::mil
