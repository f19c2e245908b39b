// What a NeuralNetwork layer family sees while it turns one MIL op into layers: the op's inputs
// through its schema (defaults applied), blob names for its runtime inputs (constants become
// LoadConstantND layers on first use), weight filling in the chosen precision, and the deployment
// target, which a layer that first appeared in a later specification version raises.
#pragma once

#include <ts2coreml/Mil.h>
#include <ts2coreml/OpSchema.h>

#include "NeuralNetwork.pb.h"

#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace ts2coreml::nn {

/// An op this backend cannot express; `message` names what is missing. The writer adds the op
/// type and its torch source line.
class LayerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// State shared by every op of one network: the layers written so far, constants already
/// loaded, the weight precision and the specification version the layers need. Layers go to the
/// network being written, which is a nested one (a branch, a loop's condition or body) while a
/// NestedNetwork guard lives; constants are always loaded in the top network, once, so a loop
/// body never reloads them and a branch never leaves them undefined for the other branch.
class NetworkState {
public:
    NetworkState(google::protobuf::RepeatedPtrField<spec::NeuralNetworkLayer>& layers, Target target,
                 bool targetIsExplicit, bool fp16Weights)
        : top_(&layers), layers_(&layers), target_(target), explicit_(targetIsExplicit), fp16_(fp16Weights) {}

    spec::NeuralNetworkLayer& addLayer() { return *layers_->Add(); }
    /// The blob holding `v`: its name, or the blob it is an alias of; a constant is loaded by a
    /// LoadConstantND layer first.
    std::string blob(const mil::Value& v);
    /// `v` lives in blob `name` (a loop's block inputs live in the loop's state blobs).
    void alias(const mil::Value& v, std::string name) { aliases_[&v] = std::move(name); }
    /// A layer name not given before, made from `base`.
    std::string freshLayerName(const std::string& base);
    void fillWeights(spec::WeightParams& out, const mil::ConstData& data) const;
    void fillWeights(spec::WeightParams& out, const std::vector<float>& data) const;

    Target target() const { return target_; }
    /// The layer needs `t`: raises the model's target, or fails when the user fixed a lower one.
    void require(Target t, const std::string& what);

    /// Layers go to `network` while this guard lives.
    class NestedNetwork {
    public:
        NestedNetwork(NetworkState& state, spec::NeuralNetwork& network) : state_(state), saved_(state.layers_) {
            state.layers_ = network.mutable_layers();
        }
        ~NestedNetwork() { state_.layers_ = saved_; }
        NestedNetwork(const NestedNetwork&) = delete;
        NestedNetwork& operator=(const NestedNetwork&) = delete;

    private:
        NetworkState& state_;
        google::protobuf::RepeatedPtrField<spec::NeuralNetworkLayer>* saved_;
    };

private:
    google::protobuf::RepeatedPtrField<spec::NeuralNetworkLayer>* top_;
    google::protobuf::RepeatedPtrField<spec::NeuralNetworkLayer>* layers_;
    std::set<std::string> loaded_;
    std::map<const mil::Value*, std::string> aliases_;
    std::map<std::string, int> layerNames_;
    Target target_;
    bool explicit_;
    bool fp16_;
};

class LayerWriter {
public:
    LayerWriter(NetworkState& net, const mil::Operation& op);

    const mil::Operation& op() const { return op_; }
    const mil::OpView& params() const { return view_; }
    Target target() const { return net_.target(); }
    void require(Target t, const std::string& what) { net_.require(t, what); }

    /// Blob of a runtime input (a constant is loaded as a blob).
    std::string in(const std::string& input);
    std::vector<std::string> ins(const std::string& variadicInput);
    /// Name of output i (the blob the layers must produce).
    std::string out(size_t i = 0) const { return op_.output(i)->name(); }
    std::vector<std::string> outs() const;
    /// A blob name for an intermediate result of this op.
    std::string temp(const std::string& tag) const { return out() + "__" + tag; }

    const TensorType& type(const std::string& input) const { return view_.type(input); }
    size_t rank(const std::string& input) const { return type(input).rank(); }
    const TensorType& outType(size_t i = 0) const { return op_.output(i)->type(); }
    /// The payload of a constant input; fails when the input is computed at run time.
    const mil::ConstData& constant(const std::string& input) const;
    bool isConst(const std::string& input) const;
    /// A constant int list input, or `fallback` when the op omits it.
    std::vector<int64_t> intsOr(const std::string& input, std::vector<int64_t> fallback) const {
        return view_.has(input) ? view_.getInts(input) : fallback;
    }

    /// A new layer named after `outputs.front()`.
    spec::NeuralNetworkLayer& layer(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);
    /// A layer from `inputs` to this op's outputs.
    spec::NeuralNetworkLayer& layer(const std::vector<std::string>& inputs) { return layer(inputs, outs()); }

    void weights(spec::WeightParams& w, const std::string& constInput) const {
        net_.fillWeights(w, constant(constInput));
    }
    void weights(spec::WeightParams& w, const std::vector<float>& v) const { net_.fillWeights(w, v); }

    [[noreturn]] void unsupported(const std::string& why) const { throw LayerError(why); }

private:
    NetworkState& net_;
    const mil::Operation& op_;
    mil::OpView view_;
};

using LayerFn = std::function<void(LayerWriter&)>;

class LayerReader;
using LayerReadFn = std::function<void(LayerReader&)>;

/// Both directions of the NeuralNetwork format, declared by the layer families: MIL op type -> the
/// function writing its layers, and layer kind -> the function reading such a layer back into MIL
/// ops (for the layers ts2coreml writes, and for the layers of Apple's spec read from other
/// tools). Each family file adds its own in one populate function (TS2COREML_FAMILY).
class LayerTable {
public:
    using LayerKind = spec::NeuralNetworkLayer::LayerCase;

    static const LayerTable& builtin();
    /// `opType` is written by `fn`; a second writer for the same op is a logic_error.
    void add(const std::string& opType, LayerFn fn);
    /// Layers of `kind` are read back by `fn`; a second reader for the same kind is a logic_error.
    void reads(LayerKind kind, LayerReadFn fn);
    const LayerFn* find(const std::string& opType) const;
    const LayerReadFn* findReader(LayerKind kind) const;
    /// The MIL ops with a NeuralNetwork form, sorted.
    std::vector<std::string> opTypes() const;
    /// The layer kinds read back.
    std::vector<LayerKind> layerKinds() const;

private:
    std::map<std::string, LayerFn> fns_;
    std::map<LayerKind, LayerReadFn> readers_;
};

/// The name of a layer kind as Apple's NeuralNetwork.proto spells its field ("convolution").
std::string layerKindName(LayerTable::LayerKind kind);

/// A custom_layer op (no op schema, so not in the table) -> one layer with CustomLayerParams:
/// class name, description, parameters, weights in the network's precision, and the rank and
/// sizes of its inputs and outputs (inputTensor / outputTensor; -1 for a flexible size).
void writeCustomLayer(NetworkState& net, const mil::Operation& op);

/// Writes the ops of a nested block into the network being written (NetworkState::NestedNetwork).
using BlockWriter = std::function<void(const mil::Block&)>;

/// cond -> a BranchLayer on `pred`; each branch network ends by copying its block's results into
/// the cond's output blobs, which the layers after the branch read.
void writeCond(NetworkState& net, const mil::Operation& op, const BlockWriter& writeBlock);
/// while_loop -> copies of the initial values into the loop's state blobs (named after its
/// outputs), then a LoopLayer whose condition network computes the condition block and whose body
/// network computes the body block and copies its results back into the state blobs. Both blocks
/// read their inputs from the state blobs.
void writeWhileLoop(NetworkState& net, const mil::Operation& op, const BlockWriter& writeBlock);

/// Positive axis for a possibly negative one.
inline int64_t positiveAxis(int64_t axis, size_t rank) { return axis < 0 ? axis + static_cast<int64_t>(rank) : axis; }

}  // namespace ts2coreml::nn
