// Public SDK: what a lowering sees (its node's arguments, by schema name) and what it does
// (emit MIL through the builder, bind the node's outputs), and the Registry lowerings are added to.
//
// A lowering is a free function of a dozen lines:
//
//     // softsign(x) = x / (1 + |x|)
//     void lowerSoftsign(ts2coreml::LoweringContext& ctx) {
//         auto& b = ctx.builder();
//         mil::Value* x = ctx.tensor("self");                       // argument by schema name
//         mil::Value* den = b.add("add", {{"x", b.add("abs", {{"x", x}})}, {"y", 1.0f}});
//         ctx.bind(0, b.add("real_div", {{"x", x}, {"y", den}}));    // output 0 of the node
//     }
//
//     registry.add("aten::softsign", lowerSoftsign);                 // any overload
//     registry.add("aten::add.Scalar", lowerAddScalar);              // one overload
//     registry.add("aten::gelu", lowerGeluTanh, {ts2coreml::Target::iOS17});        // iOS17 and later
//     registry.add("aten::relu", myRelu, {ts2coreml::Target::iOS13, /*replaces=*/true}); // override
//
// Errors: `ctx.fail("why")` (or throwing LoweringError) reports "FILE:LINE:COL: error: while
// lowering 'OP': why" at the node's TorchScript source line; the host adds the plugin's name.
// Anything else a lowering throws is caught and reported the same way; conversion then fails with
// exit code 1 and writes nothing.
#pragma once

#include <ts2coreml/Builder.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ts2coreml {

/// A TorchScript value as a lowering sees it.
///  - None
///  - a constant: bool, int, float, string, int list, float list (a Literal)
///  - a tensor: a MIL value, or constant data (a weight) not yet emitted as a `const` op
///  - a dynamic scalar (an int computed at run time): a rank-0 MIL value with `isScalar`
///  - a list whose elements are not all constants (a list of tensors for `aten::cat`)
///  - a complex tensor: a real MIL value whose last dim of 2 holds (real, imaginary) pairs, the
///    layout of torch.view_as_real. Core ML has no complex type, so only lowerings written for
///    complex inputs read one (`isComplex()`, `value()`); `tensor()` and `materialize()` refuse it.
class Arg {
public:
    enum class Kind { None, Constant, Tensor, List, Complex };

    Arg() = default;
    static Arg none() { return Arg(); }
    static Arg constant(mil::Literal l);
    static Arg tensor(mil::Value* v);
    static Arg constTensor(std::shared_ptr<const mil::ConstData> data);
    static Arg dynamicScalar(mil::Value* v);
    static Arg list(std::vector<Arg> elements);
    static Arg complex(mil::Value* pairs);  ///< `pairs`: real, [..., 2] (see above)

    Kind kind() const { return kind_; }
    bool isNone() const { return kind_ == Kind::None; }
    bool isConstant() const { return kind_ == Kind::Constant; }
    bool isTensor() const { return kind_ == Kind::Tensor; }
    bool isList() const { return kind_ == Kind::List; }
    bool isComplex() const { return kind_ == Kind::Complex; }
    bool isScalar() const { return isScalar_; }  ///< a dynamic int/float/bool held in a rank-0 value

    const mil::Literal& literal() const { return literal_; }
    mil::Value* value() const {
        return value_;
    }  ///< null for a not-yet-emitted constant tensor; a complex
       ///< tensor's (real, imaginary) pairs
    const std::shared_ptr<const mil::ConstData>& constData() const { return data_; }
    const std::vector<Arg>& elements() const { return elements_; }

    std::string describe() const;  ///< "int 3", "tensor fp32[1,3]", "None", ...

private:
    Kind kind_ = Kind::None;
    mil::Literal literal_;
    mil::Value* value_ = nullptr;
    std::shared_ptr<const mil::ConstData> data_;
    std::vector<Arg> elements_;
    bool isScalar_ = false;
};

/// Error raised by a lowering; the host adds the node's source location and provider.
class TS2COREML_API LoweringError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The context one lowering runs in: one TorchScript node.
class LoweringContext {
public:
    virtual ~LoweringContext() = default;

    /// Registry key of the node: "aten::add" (the overload, if any, is in `overload()`).
    virtual const std::string& opName() const = 0;
    virtual const std::string& overload() const = 0;
    /// "model.py:12:8 (Net/layer1/conv)" or the module scope when the node has no source line.
    virtual std::string location() const = 0;
    /// The deployment target of this conversion (the registry already picked the lowering by it).
    virtual Target target() const = 0;
    /// The schema-checked builder: `builder().add("relu", {{"x", v}})` emits one MIL op (see
    /// Builder.h); `builder().customLayer(...)` emits a custom-layer stub (NeuralNetwork only).
    virtual mil::Builder& builder() = 0;

    /// Argument by schema name ("self", "dim", "alpha"); fails naming the known arguments.
    virtual const Arg& arg(const std::string& name) const = 0;
    virtual bool hasArg(const std::string& name) const = 0;
    virtual size_t numOutputs() const = 0;
    /// Binds output `index` of the node.
    virtual void bind(size_t index, Arg value) = 0;

    /// Re-enters the registry with another torch op ("aten::sigmoid"), arguments by schema name.
    /// Returns its outputs. This is how composites build on built-ins, plugins and each other.
    virtual std::vector<Arg> call(const std::string& opKey, const std::vector<std::pair<std::string, Arg>>& args) = 0;

    // Convenience accessors. Each fails with a clear message when the argument is not of that form.
    mil::Value* tensor(const std::string& name);  ///< tensor (constants are emitted)
    mil::Value* materialize(const Arg& a);        ///< tensor or constant as a MIL value
    bool isNone(const std::string& name) const;
    bool isConstant(const std::string& name) const;  ///< a compile-time constant (not None)
    int64_t getInt(const std::string& name) const;
    double getDouble(const std::string& name) const;  ///< int constants convert
    bool getBool(const std::string& name) const;
    std::string getString(const std::string& name) const;
    std::vector<int64_t> getInts(const std::string& name) const;  ///< also accepts a single int
    std::optional<int64_t> optInt(const std::string& name) const;
    std::optional<double> optDouble(const std::string& name) const;
    std::vector<mil::Value*> tensors(const std::string& name);  ///< a list of tensors
    void bind(size_t index, mil::Value* v) { bind(index, Arg::tensor(v)); }

    /// Throws LoweringError(message); the host prefixes the node's source location.
    [[noreturn]] void fail(const std::string& message) const;
};

using LoweringFn = std::function<void(LoweringContext&)>;

/// How a lowering is registered.
struct LoweringOptions {
    Target minTarget = Target::iOS13;  ///< the registry picks the newest lowering the target allows
    bool replaces = false;             ///< `override`: replace an earlier registration of the key
};

/// Where lowerings are registered. Built-ins, YAML composites and plugins all go through this.
///
/// A plugin's register function runs against a staging registry: if it throws, or one of its keys
/// is already registered (by the built-ins or an earlier plugin) without `replaces`, the plugin is
/// rejected as a whole and nothing it added stays.
class Registry {
public:
    virtual ~Registry() = default;
    /// Registers `fn` for `key`: "ns::op" ("aten::glu") covers every overload; "ns::op.overload"
    /// ("aten::add.Scalar") one overload and wins over the plain key. In-place keys ("aten::relu_")
    /// reach the functional lowering once mutation is removed. `options.minTarget`: the registry picks,
    /// per conversion, the entry with the highest minimum target the conversion's target allows.
    /// A second registration of the same key and minimum target is an error unless
    /// `options.replaces` is set; `ts2coreml ops` then shows what it overrode.
    /// Throws std::invalid_argument for an unqualified key or an empty function.
    virtual void add(const std::string& key, LoweringFn fn, LoweringOptions options = {}) = 0;
    /// Declares the schema of a custom torch op ("mylib::fancy(Tensor x, float alpha=1.) -> Tensor")
    /// so that models calling it load without the op's kernel library (the host registers the
    /// schema with LibTorch, with no kernel, before it loads the model). Declaring an op torch
    /// already knows with the same schema is a no-op; a different schema, or a syntax error, throws
    /// std::invalid_argument.
    virtual void declareTorchOp(const std::string& schema) = 0;
};

}  // namespace ts2coreml
