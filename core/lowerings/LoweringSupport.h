// Helpers shared by the built-in lowerings: dimension arithmetic, constants of a given dtype,
// torch's type promotion, and shapes read statically when known, at run time otherwise.
// Only SDK headers here: the built-ins are written exactly as a plugin would write them.
#pragma once

#include <ts2coreml/Lowering.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ts2coreml::lowering {

// ---- integers and lists -------------------------------------------------------------------------

/// `dim` in [-rank, rank) made non-negative; fails naming `argName` when out of range.
int64_t normalizeDim(const LoweringContext& ctx, int64_t dim, int64_t rank, const std::string& argName);

/// A constant int-list argument. Besides what LoweringContext::getInts accepts, takes a List whose
/// elements are all constant ints (a ListConstruct of sizes that became constants while lowering).
std::vector<int64_t> intList(const LoweringContext& ctx, const std::string& argName);

/// torch's `int[N]` arguments accept a single int for all N entries: `stride=2` is `[2, 2]`.
/// Returns `n` values; fails when the list has another length.
std::vector<int64_t> expandList(const LoweringContext& ctx, const std::string& argName, size_t n);

/// An `int?[]` argument (`output_size=[None, 7]`): None entries are nullopt. Fails on dynamic entries.
std::vector<std::optional<int64_t>> optionalInts(const LoweringContext& ctx, const std::string& argName);

/// The elements of a TorchScript list argument, which the frontend passes either as a constant
/// list (int[], float[]) or as a List of Args; fails on anything else.
std::vector<Arg> listElements(const LoweringContext& ctx, const Arg& list);

/// A TorchScript list of `elements`: a constant int list when every element is a constant int
/// (so that later ops can read it with getInts), else a List.
Arg makeList(std::vector<Arg> elements);

/// True when `a` is a constant int (not a bool).
bool isIntConstant(const Arg& a);

/// `[a0, a0, a1, a1, ...]`: MIL's begin/end padding from torch's symmetric per-dim padding.
std::vector<int64_t> symmetricPad(const std::vector<int64_t>& pad);

/// A real as a user wrote it ("1.5", not "1.500000"), for messages.
std::string numberText(double v);

// ---- dtypes and constants -----------------------------------------------------------------------

/// MIL dtype for a torch ScalarType code (6 = float, 4 = long, ...): 64-bit types narrow to
/// 32-bit, as every integer and real in the program does. nullopt for complex, bfloat16, quantized.
std::optional<DType> dtypeFromTorch(int64_t scalarType);

/// torch's result type for two tensor operands among MIL's dtypes: float beats int beats bool,
/// the wider float wins.
DType promote(DType a, DType b);

/// A rank-0 constant of the given dtype (fp16, fp32, int32 or bool).
mil::Value* scalarConst(mil::Builder& b, double value, DType dtype);

/// A rank-0 constant with the dtype of `like` (an activation's alpha, a clip bound).
inline mil::Value* scalarLike(mil::Builder& b, double value, const mil::Value* like) {
    return scalarConst(b, value, like->type().dtype);
}

/// A 1-D bool constant (slice masks).
mil::Value* boolVector(mil::Builder& b, const std::vector<bool>& values);

/// `x` cast to `dtype`; `x` itself when it already has it.
mil::Value* castTo(mil::Builder& b, mil::Value* x, DType dtype);

/// True when the argument is a compile-time number (int, float or bool literal).
bool isNumberLiteral(const Arg& a);
double literalNumber(const Arg& a);

/// The dtype an argument would have as a MIL value (a literal real is fp32, an int int32).
DType argDType(const Arg& a);

/// Both operands of a torch binary op as MIL values of one dtype, with torch's promotion:
/// a Python scalar takes the tensor's dtype unless it is a real and the tensor is not.
std::pair<mil::Value*, mil::Value*> binaryOperands(LoweringContext& ctx, const Arg& a, const Arg& b);

/// `x` as a floating tensor: ints and bools become fp32, as torch's floating ops promote them.
mil::Value* toFloat(mil::Builder& b, mil::Value* x);

/// A lowering `self -> milOp(x=self)`, for ops that map one to one. Integer inputs are promoted to
/// fp32 first (torch's sigmoid, exp, ... of an int tensor are float).
LoweringFn unaryFloatOp(const char* milOp);

// ---- shapes -------------------------------------------------------------------------------------

const TensorType& typeOf(const mil::Value* v);
int64_t rankOf(const mil::Value* v);

/// Size of dimension `axis` (non-negative) when static, else nullopt.
std::optional<int64_t> staticDim(const mil::Value* v, int64_t axis);

/// Dims [begin, end) of `x` as a 1-D int32 tensor: a constant when static, else sliced from `shape`.
mil::Value* shapeSlice(mil::Builder& b, mil::Value* x, int64_t begin, int64_t end);

/// Dim `axis` of `x` as a torch int: a constant when static, else a dynamic rank-0 int32 scalar.
Arg dimArg(mil::Builder& b, mil::Value* x, int64_t axis);

/// A shape given as per-dimension Args (constants or dynamic scalars) as one 1-D int32 tensor.
mil::Value* shapeTensor(LoweringContext& ctx, const std::vector<Arg>& dims);

/// `x` reshaped to `shape`, where each entry is a constant (possibly -1) or a dynamic scalar.
/// Uses a constant shape when at most one entry is unknown (that one becomes -1).
mil::Value* reshapeTo(LoweringContext& ctx, mil::Value* x, const std::vector<Arg>& shape);

/// Rank-0 `v` as a 1-element 1-D tensor (for concatenating shapes).
mil::Value* toVector(mil::Builder& b, mil::Value* v);

}  // namespace ts2coreml::lowering
