// What the op-family files use to declare MIL op schemas: dtype domains, input declarations,
// typed access to constant parameters, and `declare`, which registers a schema with its type
// inference wrapped so that every error names the op.
#pragma once

#include <ts2coreml/OpSchema.h>

#include <optional>
#include <string>
#include <vector>

#include "mil/ops/ShapeInference.h"

namespace ts2coreml::mil {

/// The type covering both `a` and `b` (cond branches, loop iterations): dims that may differ
/// become fresh symbols spanning both bounds. Throws ShapeError naming `what` when dtype or rank
/// differ.
TensorType joinTypes(const TensorType& a, const TensorType& b, const std::string& what);

namespace schema {

/// Apple registers the ops of its iOS15 op set (coremltools `ops/defs/iOS15`) at opset iOS13: they
/// are MIL's base op set, shared by the NeuralNetwork backend. Ops and op versions added later
/// carry the target they first appear in.
constexpr Target kBaseTarget = Target::iOS13;

// Dtype domains, as Apple's type_domains spell them.
constexpr DTypeSet kBool = bit(DType::Bool);
constexpr DTypeSet kInt32 = bit(DType::Int32);
constexpr DTypeSet kStr = bit(DType::String);
constexpr DTypeSet kFloatsInt32 = kFloats | kInt32;              // fp16, fp32, int32
constexpr DTypeSet kFloatsInt32Bool = kFloats | kInt32 | kBool;  // fp16, fp32, int32, bool

/// A required input whose value may be computed at run time.
InputSpec input(std::string name, DTypeSet dtypes, std::string typeVar = {});
/// A required compile-time constant.
InputSpec constInput(std::string name, DTypeSet dtypes, std::string typeVar = {});
/// An optional compile-time constant; `defaultValue` is Core ML's value when omitted (monostate
/// when it depends on other inputs: the inference rule then computes it).
InputSpec optionalConst(std::string name, DTypeSet dtypes, Literal defaultValue = {}, std::string typeVar = {});
/// An optional input whose value may be computed at run time.
InputSpec optionalInput(std::string name, DTypeSet dtypes, std::string typeVar = {});
/// A list of values (concat's `values`).
InputSpec variadic(std::string name, DTypeSet dtypes, std::string typeVar = {});

using InferFn = std::function<std::vector<TensorType>(const OpView&)>;

/// Registers the schema with its inference wrapped: ShapeError and errors reading constants become
/// SchemaError "MIL op '<name>': <message>".
void declare(SchemaTable& table, std::string name, std::vector<InputSpec> inputs, InferFn infer, std::string doc,
             Target minTarget = kBaseTarget);

// ---- Constant parameters, checked for rank ----------------------------------------------------
// Each reads the bound constant, or the schema default when the input is omitted; `fallback` is
// used when the default depends on other inputs. Failing any of these names the op and input.

int64_t intParam(const OpView& view, const std::string& name);
double floatParam(const OpView& view, const std::string& name);
bool boolParam(const OpView& view, const std::string& name);
std::string stringParam(const OpView& view, const std::string& name);
std::vector<int64_t> intsParam(const OpView& view, const std::string& name,
                               std::optional<std::vector<int64_t>> fallback = std::nullopt);
/// A rank-1 bool constant, or all `false` of length n when omitted.
std::vector<bool> boolsParam(const OpView& view, const std::string& name, size_t n);

/// Values of an int input that the schema allows to be computed at run time, when it happens to
/// be a constant; nullopt otherwise.
std::optional<std::vector<int64_t>> constInts(const OpView& view, const std::string& name);

/// Fails unless the bound input has rank `rank` (or rank within [lo, hi]).
void requireRank(const OpView& view, const std::string& name, size_t rank);
void requireRank(const OpView& view, const std::string& name, size_t lo, size_t hi);

/// Fails unless `value` is one of `allowed`.
void requireOneOf(const OpView& view, const std::string& name, const std::string& value,
                  const std::vector<std::string>& allowed);

/// Sliding-window parameters of conv and pooling: strides, dilations (when the op has them),
/// pad_type and pad, with Apple's defaults (all ones, "valid", all zeros). A non-zero `pad` with a
/// pad_type other than "custom" is an error: Core ML would ignore it.
shapes::Window windowParams(const OpView& view, std::vector<int64_t> kernel, bool hasDilations);

/// True when v is a constant or computed from constants only (Apple's "descendant of const").
bool isConstDerived(const Value* v);

/// The shape a rank-1 int `shape` input asks for (fill, random_*): its sizes when it is a
/// constant (none negative), else one fresh dim per element; its length must be static.
Shape shapeFromInput(const OpView& view, const std::string& name);

/// The output type: `dtype` with `shape`.
inline TensorType tensor(DType dtype, Shape shape) { return TensorType{dtype, std::move(shape)}; }

}  // namespace schema
}  // namespace ts2coreml::mil
