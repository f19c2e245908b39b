// Public SDK: declared MIL op schemas. Every MIL op ts2coreml can emit is declared once — inputs,
// accepted dtypes, Core ML's defaults, minimum deployment target and output type inference — and
// the Builder checks each op against its schema when the op is created.
#pragma once

#include <ts2coreml/Mil.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace ts2coreml::mil {

/// A literal attribute value: what a `const` input holds when written by hand.
using Literal =
    std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

/// One input of a MIL op.
struct InputSpec {
    std::string name;
    DTypeSet dtypes = kAnyDType;
    bool optional = false;  ///< may be omitted (Core ML then uses `defaultValue`)
    bool isConst = false;   ///< must be a compile-time constant
    bool variadic = false;  ///< takes a list of values (concat's `values`)
    Literal defaultValue;   ///< Core ML's default when omitted
    std::string typeVar;    ///< inputs naming the same variable ("T") must share a dtype
};

class OpView;

/// A MIL op as Core ML defines it.
struct OpSchema {
    std::string name;
    std::vector<InputSpec> inputs;
    Target minTarget = Target::iOS15;
    /// Output types from the inputs; throws SchemaError (via OpView::fail) when the inputs are invalid.
    std::function<std::vector<TensorType>(const OpView&)> infer;
    std::string doc;

    const InputSpec* findInput(const std::string& name) const;
};

/// Error raised when an op does not match its schema.
class TS2COREML_API SchemaError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Read-only view of an operation's inputs through its schema (defaults applied).
class OpView {
public:
    OpView(const Operation& op, const OpSchema& schema) : op_(op), schema_(schema) {}
    const Operation& op() const { return op_; }
    const OpSchema& schema() const { return schema_; }

    bool has(const std::string& name) const;                    ///< bound explicitly
    Value* value(const std::string& name) const;                ///< null when omitted
    const TensorType& type(const std::string& name) const;      ///< fails when omitted
    std::vector<Value*> values(const std::string& name) const;  ///< variadic inputs

    /// Constant inputs, or the schema default when omitted; fail when neither exists.
    int64_t getInt(const std::string& name) const;
    double getDouble(const std::string& name) const;
    bool getBool(const std::string& name) const;
    std::string getString(const std::string& name) const;
    std::vector<int64_t> getInts(const std::string& name) const;
    std::vector<double> getDoubles(const std::string& name) const;
    bool isConst(const std::string& name) const;

    [[noreturn]] void fail(const std::string& message) const;

private:
    const Literal* defaultOf(const std::string& name) const;
    const Operation& op_;
    const OpSchema& schema_;
};

/// The table of known MIL op schemas, read-only for plugins: every op declared here has a kernel
/// in the reference runtime and a NeuralNetwork layer in the host, so a plugin emits only these.
class SchemaTable {
public:
    static SchemaTable& instance();
    /// The schema of MIL op `name` ("conv"), or null when ts2coreml has no such op.
    const OpSchema* find(const std::string& name) const;
    /// Every schema, in declaration order.
    std::vector<const OpSchema*> all() const;

private:
    friend class IRAccess;
    void add(OpSchema schema);
    std::vector<std::unique_ptr<OpSchema>> schemas_;
};

}  // namespace ts2coreml::mil
