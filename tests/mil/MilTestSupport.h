// Helpers for the MIL schema tests: a block with a builder, typed inputs, and error capture.
#pragma once

#include <doctest/doctest.h>
#include <ts2coreml/Builder.h>

#include <functional>
#include <string>
#include <vector>

namespace ts2coreml::mil::test {

/// A dimension for `typeOf`: a size, or a symbol name.
struct D {
    D(int64_t n) : dim(Dim::fixed(n)) {}
    D(int n) : dim(Dim::fixed(n)) {}
    D(const char* symbol) : dim(Dim::symbolic(symbol)) {}
    Dim dim;
};

inline TensorType typeOf(DType dtype, std::initializer_list<D> dims) {
    TensorType t;
    t.dtype = dtype;
    for (const D& d : dims) t.shape.push_back(d.dim);
    return t;
}

/// A main block and a builder for one target (iOS15 unless told).
struct MilFixture {
    explicit MilFixture(Target target = Target::iOS15) : b(block, target) {}
    Block block;
    Builder b;
    int inputs = 0;

    Value* input(DType dtype, std::initializer_list<D> dims) {
        return block.addInput("in" + std::to_string(inputs++), typeOf(dtype, dims));
    }
    Value* fp32(std::initializer_list<D> dims) { return input(DType::Float32, dims); }
    Value* fp32Const(const std::vector<int64_t>& sizes) {
        int64_t n = 1;
        for (int64_t s : sizes) n *= s;
        return b.constant(ConstData::fromFloats(std::vector<float>(static_cast<size_t>(n), 1.0f), sizes));
    }
    Value* bools(const std::vector<bool>& v) {
        return b.constant(ConstData::fromBools(v, {static_cast<int64_t>(v.size())}));
    }
};

/// Static sizes of a value's type.
inline std::vector<int64_t> sizes(const Value* v) { return v->type().sizes(); }

/// The message of the SchemaError `f` throws, or "" when it throws none.
inline std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const SchemaError& e) {
        return e.what();
    }
    return "";
}

/// True when `text` contains every one of `parts`.
inline bool mentions(const std::string& text, std::initializer_list<const char*> parts) {
    for (const char* p : parts)
        if (text.find(p) == std::string::npos) return false;
    return true;
}

}  // namespace ts2coreml::mil::test
