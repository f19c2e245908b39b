// What a NeuralNetwork layer family sees while it reads one layer back into MIL ops: the layer,
// its input blobs as values, the builder, and helpers for weights and casts. Each family file
// (core/backend/neuralnetwork/<Family>Layers.cpp) declares the layers it writes and, with
// LayerTable::reads, how each layer kind reads back; the reader dispatches on the layer kind.
//
// NeuralNetwork semantics: every blob is fp32 (a MIL op needing int32 or bool inputs gets a cast),
// and a blob has rank 1 to 5 (a scalar is [1]).
#pragma once

#include <ts2coreml/Builder.h>
#include <ts2coreml/Mil.h>

#include "NeuralNetwork.pb.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ts2coreml::nn {

class LayerTable;

class LayerReader {
public:
    using Layer = spec::NeuralNetworkLayer;
    using Layers = google::protobuf::RepeatedPtrField<Layer>;

    /// Reads into `fn`'s body; `path` names the file in errors.
    LayerReader(std::string path, mil::Function& fn, const LayerTable& table);

    /// Reads `layers` in order, each through the reader its family declared for its kind.
    void readLayers(const Layers& layers);

    /// Defines blob `name` as `v`, cast to fp32 when it is not; a scalar becomes [1], as it is on a
    /// device. The model's inputs keep their names (a converted input's blob is `NAME__blob`).
    void define(const std::string& name, mil::Value* v);
    /// The value of blob `name`; fails when no layer or input produced it.
    mil::Value* blob(const std::string& name) const;
    std::vector<mil::Value*> blobsNamed(const std::vector<std::string>& names) const;
    /// Every blob defined so far (control flow saves and restores them around nested networks).
    const std::map<std::string, mil::Value*>& blobs() const { return blobs_; }
    void setBlobs(std::map<std::string, mil::Value*> blobs) { blobs_ = std::move(blobs); }

    mil::Builder& builder() { return b_; }
    /// Shorthand for builder().add.
    mil::Value* add(const std::string& op, const mil::OperandList& operands) { return b_.add(op, operands); }
    size_t fp16Weights() const { return fp16Weights_; }

    // ---- The layer being read -------------------------------------------------------------------
    const Layer& layer() const { return *layer_; }
    /// The value of input blob i; fails when the layer has fewer inputs.
    mil::Value* in(size_t i = 0) const;
    size_t inputs() const { return static_cast<size_t>(layer_->input_size()); }
    /// Every input blob's value, in order.
    std::vector<mil::Value*> allInputs() const;
    /// Defines output blob i as `v`.
    void out(mil::Value* v, size_t i = 0);

    /// `op(x = input 0)` as the output; `op(x = input 0, y = input 1)` as the output.
    void unary(const std::string& op) { out(add(op, {{"x", in()}})); }
    void binary(const std::string& op) { out(add(op, {{"x", in(0)}, {"y", in(1)}})); }

    mil::Value* asInt(mil::Value* v) { return asDType(v, DType::Int32, "int32"); }
    mil::Value* asBool(mil::Value* v) { return asDType(v, DType::Bool, "bool"); }
    /// The one value of a single-element blob, as a scalar.
    mil::Value* single(mil::Value* v);
    /// A blob as a control-flow predicate: true when its (single) value's magnitude exceeds 1e-6.
    mil::Value* truth(mil::Value* v);

    /// A weight as an fp32 constant of `sizes`; its element count must match.
    mil::Value* weights(const spec::WeightParams& w, const std::vector<int64_t>& sizes, const std::string& what);
    /// A weight's values (fp32, or fp16 widened to fp32); quantized weights are refused.
    std::vector<float> floats(const spec::WeightParams& w, const std::string& what);
    /// A rank-1 bool constant.
    mil::Value* bools(const std::vector<bool>& v);

    template <typename Repeated>
    static std::vector<int64_t> ints(const Repeated& r) {
        return std::vector<int64_t>(r.begin(), r.end());
    }
    /// A repeated bool field as `n` bools (missing ones false).
    template <typename Repeated>
    static std::vector<bool> boolsOf(const Repeated& r, size_t n) {
        std::vector<bool> v(r.begin(), r.end());
        v.resize(n, false);
        return v;
    }
    /// BorderAmounts as MIL's pad: [begin, end] per spatial dim (4 values).
    static std::vector<int64_t> padding(const spec::BorderAmounts& amounts);

    /// Fails naming the file, the layer and its kind.
    [[noreturn]] void fail(const std::string& message) const;

private:
    mil::Value* asDType(mil::Value* v, DType d, const char* name) {
        return v->type().dtype == d ? v : b_.add("cast", {{"x", v}, {"dtype", name}});
    }

    std::string path_;
    mil::Builder b_;
    const LayerTable& table_;
    std::map<std::string, mil::Value*> blobs_;
    const Layer* layer_ = nullptr;
    size_t fp16Weights_ = 0;
};

}  // namespace ts2coreml::nn
