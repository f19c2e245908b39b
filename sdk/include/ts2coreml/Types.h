// Public SDK: element types, dimensions, tensor types and deployment targets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// Marks an SDK class whose type identity must be shared between the host and plugins (exceptions
/// a plugin throws and the host catches by type). Plugins build with -fvisibility=hidden; without
/// this their copy of the type info would be private and the host's `catch` would not match.
#define TS2COREML_API __attribute__((visibility("default")))

namespace ts2coreml {

/// Element type of a MIL value. Scalars are rank-0 tensors.
enum class DType : uint8_t { Bool, Int8, UInt8, Int16, Int32, Int64, Float16, Float32, Float64, String };

const char* dtypeName(DType dtype);  ///< "fp32", "int32", ...
size_t dtypeSize(DType dtype);       ///< bytes per element; 0 for String
bool isFloat(DType dtype);

/// Bit set of dtypes, used by op schemas to say what an input accepts.
using DTypeSet = uint32_t;
constexpr DTypeSet bit(DType d) { return 1u << static_cast<unsigned>(d); }
constexpr DTypeSet kFloats = bit(DType::Float16) | bit(DType::Float32);
constexpr DTypeSet kInts = bit(DType::Int32);
constexpr DTypeSet kNumbers = kFloats | kInts;
constexpr DTypeSet kAnyDType = 0xffffffffu;
std::string dtypeSetName(DTypeSet set);  ///< "fp16|fp32"

/// One dimension of a shape: static (size >= 0) or symbolic, optionally bounded.
struct Dim {
    int64_t size = -1;   ///< >= 0 when static
    std::string symbol;  ///< name of a symbolic dimension ("s0"), empty when static
    int64_t lower = 1;   ///< inclusive lower bound of a symbolic dimension
    int64_t upper = -1;  ///< inclusive upper bound, -1 = unbounded

    static Dim fixed(int64_t n) { return Dim{n, {}, n, n}; }
    static Dim symbolic(std::string name, int64_t lo = 1, int64_t hi = -1) { return Dim{-1, std::move(name), lo, hi}; }
    bool isStatic() const { return size >= 0; }
    bool operator==(const Dim& o) const { return size == o.size && symbol == o.symbol; }
    bool operator!=(const Dim& o) const { return !(*this == o); }
};

using Shape = std::vector<Dim>;

/// Type of a MIL value: a tensor of known rank (rank 0 is a scalar).
struct TensorType {
    DType dtype = DType::Float32;
    Shape shape;

    size_t rank() const { return shape.size(); }
    bool isStatic() const;
    /// Static sizes; throws if any dim is symbolic.
    std::vector<int64_t> sizes() const;
    int64_t numel() const;    ///< -1 when not static
    std::string str() const;  ///< "fp32[1,3,224,224]"
    static TensorType of(DType dtype, const std::vector<int64_t>& sizes);
};

/// Minimum deployment target. ML Program needs iOS15 or later.
enum class Target : uint8_t { iOS13, iOS14, iOS15, iOS16, iOS17, iOS18 };

const char* targetName(Target t);                         ///< "iOS15"
std::optional<Target> parseTarget(const std::string& s);  ///< accepts iOS13..iOS18, macOS10_15..macOS15
int specificationVersion(Target t);                       ///< iOS13 -> 4 ... iOS18 -> 9
const char* milOpset(Target t);                           ///< "CoreML5" (iOS15) ... "CoreML8" (iOS18)

}  // namespace ts2coreml
