// Public SDK: helpers for writing lowerings — dimension arithmetic, torch's list arguments,
// constants of a given dtype, torch's type promotion, and shapes read statically when known, at run
// time otherwise. The built-in lowerings (core/lowerings) are written with exactly these, so a
// plugin's lowering reads like a built-in one:
//
//     using namespace ts2coreml::lowering;
//     void lowerMyNorm(ts2coreml::LoweringContext& ctx) {  // mylib::my_norm(Tensor self, int dim)
//         auto* x = toFloat(ctx.builder(), ctx.tensor("self"));
//         const int64_t dim = normalizeDim(ctx, ctx.getInt("dim"), rankOf(x), "dim");
//         ...
//     }
//
// Functions taking a LoweringContext report bad arguments with ctx.fail (a LoweringError at the
// node's source line, naming the argument). Like the rest of the SDK they are defined in the host
// (libts2coreml.so) and resolved when the plugin is loaded.
#pragma once

#include <ts2coreml/Lowering.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ts2coreml::lowering {

// ---- integers and lists -------------------------------------------------------------------------

/// `dim` in [-rank, rank) made non-negative (a rank-0 tensor counts as rank 1, as in torch).
/// Fails naming `argName` ("dim") when out of range.
int64_t normalizeDim(const LoweringContext& ctx, int64_t dim, int64_t rank, const std::string& argName);

/// A constant int-list argument. Besides what LoweringContext::getInts accepts, takes a List whose
/// elements are all constant ints (a ListConstruct of sizes that became constants while lowering).
/// Fails when an element is not a constant int.
std::vector<int64_t> intList(const LoweringContext& ctx, const std::string& argName);

/// torch's `int[N]` arguments accept a single int for all N entries: `stride=2` is `[2, 2]`.
/// Returns `n` values; fails when the list has another length.
std::vector<int64_t> expandList(const LoweringContext& ctx, const std::string& argName, size_t n);

/// An `int?[]` argument (`output_size=[None, 7]`): None entries are nullopt. Fails on dynamic entries.
std::vector<std::optional<int64_t>> optionalInts(const LoweringContext& ctx, const std::string& argName);

/// The elements of a TorchScript list argument, which the frontend passes either as a constant
/// list (int[], float[]) or as a List of Args; fails on anything else.
std::vector<Arg> listElements(const LoweringContext& ctx, const Arg& list);

/// A TorchScript list of `elements`, to bind as a list output: a constant int list when every
/// element is a constant int (so that later ops can read it with getInts), else a List.
Arg makeList(std::vector<Arg> elements);

/// True when `a` is a constant int (not a bool).
bool isIntConstant(const Arg& a);

/// `[a0, a0, a1, a1, ...]`: MIL's begin/end padding from torch's symmetric per-dim padding.
std::vector<int64_t> symmetricPad(const std::vector<int64_t>& pad);

/// A real as a user wrote it ("1.5", not "1.500000"), for messages.
std::string numberText(double v);

// ---- dtypes and constants -----------------------------------------------------------------------

/// MIL dtype for a torch ScalarType code (a `dtype` argument: 6 = float, 4 = long, ...): 64-bit
/// types narrow to 32-bit, as every integer and real in the program does. nullopt for complex,
/// bfloat16 and quantized types (fail with your own message then).
std::optional<DType> dtypeFromTorch(int64_t scalarType);

/// torch's result type for two tensor operands among MIL's dtypes: float beats int beats bool,
/// the wider float wins.
DType promote(DType a, DType b);

/// A rank-0 `const` of the given dtype (fp16, fp32, int32 or bool; int64 is stored as int32).
mil::Value* scalarConst(mil::Builder& b, double value, DType dtype);

/// A rank-0 constant with the dtype of `like` (an activation's alpha, a clip bound).
inline mil::Value* scalarLike(mil::Builder& b, double value, const mil::Value* like) {
    return scalarConst(b, value, like->type().dtype);
}

/// A 1-D bool constant (slice masks).
mil::Value* boolVector(mil::Builder& b, const std::vector<bool>& values);

/// `x` cast to `dtype` (a MIL `cast`); `x` itself when it already has it.
mil::Value* castTo(mil::Builder& b, mil::Value* x, DType dtype);

/// True when the argument is a compile-time number (int, float or bool literal).
bool isNumberLiteral(const Arg& a);
/// The value of a number literal as a double (bools are 0 and 1); 0 for anything else.
double literalNumber(const Arg& a);

/// The dtype an argument would have as a MIL value (a literal real is fp32, an int int32).
DType argDType(const Arg& a);

/// Both operands of a torch binary op (`self`, `other`) as MIL values of one dtype, with torch's
/// promotion: a Python scalar takes the tensor's dtype unless it is a real and the tensor is not.
/// Emits the constants and casts needed; fails when an operand is neither a tensor nor a number.
std::pair<mil::Value*, mil::Value*> binaryOperands(LoweringContext& ctx, const Arg& a, const Arg& b);

/// `x` as a floating tensor: ints and bools become fp32, as torch's floating ops promote them.
mil::Value* toFloat(mil::Builder& b, mil::Value* x);

/// A lowering `self -> milOp(x=self)`, for ops that map one to one: `r.add("aten::exp",
/// unaryFloatOp("exp"))`. Integer inputs are promoted to fp32 first (torch's exp of an int is float).
LoweringFn unaryFloatOp(const char* milOp);

// ---- shapes -------------------------------------------------------------------------------------

/// The type and rank of a MIL value.
const TensorType& typeOf(const mil::Value* v);
int64_t rankOf(const mil::Value* v);

/// Size of dimension `axis` (non-negative, below the rank) when static, else nullopt.
std::optional<int64_t> staticDim(const mil::Value* v, int64_t axis);

/// Dims [begin, end) of `x` as a 1-D int32 tensor: a constant when static, else sliced from `shape`.
mil::Value* shapeSlice(mil::Builder& b, mil::Value* x, int64_t begin, int64_t end);

/// Dim `axis` of `x` as a torch int (to bind for `aten::size`): a constant when static, else a
/// dynamic rank-0 int32 scalar.
Arg dimArg(mil::Builder& b, mil::Value* x, int64_t axis);

/// A shape given as per-dimension Args (constant ints or dynamic scalars) as one 1-D int32 tensor.
/// Fails when an entry is neither.
mil::Value* shapeTensor(LoweringContext& ctx, const std::vector<Arg>& dims);

/// `x` reshaped to `shape`, where each entry is a constant (possibly -1) or a dynamic scalar.
/// Uses a constant shape when at most one entry is unknown (that one becomes -1).
mil::Value* reshapeTo(LoweringContext& ctx, mil::Value* x, const std::vector<Arg>& shape);

/// Rank-0 `v` as a 1-element 1-D tensor (for concatenating shapes); a 1-D `v` is returned as is.
mil::Value* toVector(mil::Builder& b, mil::Value* v);

}  // namespace ts2coreml::lowering
