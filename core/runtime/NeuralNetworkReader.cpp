#include "runtime/NeuralNetworkReader.h"

#include <ts2coreml/Builder.h>

#include <c10/util/Half.h>

#include <cstring>
#include <functional>
#include <set>

namespace ts2coreml::runtime {

namespace {

using Layer = spec::NeuralNetworkLayer;
using mil::Value;

/// Translates layers one by one, keeping the blob name -> value map. Every blob is fp32.
class LayerReader {
public:
    LayerReader(const std::string& path, mil::Function& fn) : path_(path), b_(fn.body, Target::iOS18) {}

    void readLayers(const google::protobuf::RepeatedPtrField<Layer>& layers) {
        const Layer* outer = layer_;
        for (const Layer& l : layers) {
            layer_ = &l;
            b_.setLocation(l.name());
            try {
                read(l);
            } catch (const ModelReadError&) {
                throw;
            } catch (const std::exception& e) {
                fail(e.what());
            }
        }
        layer_ = outer;
        if (outer) b_.setLocation(outer->name());
    }

    /// Defines blob `name` as `v`, cast to fp32 when it is not. A NeuralNetwork blob has rank 1
    /// to 5: a scalar becomes [1], as it is on a device, so that the layers reading it see the
    /// rank they see there.
    /// The model's inputs keep their names (the values verify feeds); a converted input's blob is
    /// then named `NAME__blob`.
    void define(const std::string& name, Value* v) {
        const bool input = v->producer() == nullptr;
        if (v->type().rank() == 0) {
            if (!input) v->setName(name + "__scalar");
            v = b_.add("expand_dims", {{"x", v}, {"axes", std::vector<int64_t>{0}}});
        }
        if (v->type().dtype != DType::Float32) {
            if (v->producer()) v->setName(name + "__" + dtypeName(v->type().dtype));
            v = b_.add("cast", {{"x", v}, {"dtype", "fp32"}});
        }
        if (v->producer()) v->setName(input ? name + "__blob" : name);
        blobs_[name] = v;
    }

    Value* blob(const std::string& name) const {
        auto it = blobs_.find(name);
        if (it == blobs_.end()) fail("blob '" + name + "' is used before any layer or input produces it");
        return it->second;
    }

    mil::Builder& builder() { return b_; }
    size_t fp16Weights() const { return fp16Weights_; }

    [[noreturn]] void fail(const std::string& message) const {
        if (layer_) {
            const std::string kind = layer_->layer_case() == Layer::LAYER_NOT_SET
                                         ? "no parameters"
                                         : Layer::descriptor()->FindFieldByNumber(layer_->layer_case())->name();
            throw ModelReadError(path_, "layer '" + layer_->name() + "' (" + kind + "): " + message);
        }
        throw ModelReadError(path_, message);
    }

private:
    Value* in(size_t i = 0) const {
        if (static_cast<int>(i) >= layer_->input_size())
            fail("has " + std::to_string(layer_->input_size()) + " inputs, needs more");
        return blob(layer_->input(static_cast<int>(i)));
    }
    size_t inputs() const { return static_cast<size_t>(layer_->input_size()); }
    void out(Value* v, size_t i = 0) {
        if (static_cast<int>(i) >= layer_->output_size()) fail("has too few outputs");
        define(layer_->output(static_cast<int>(i)), v);
    }
    Value* asDType(Value* v, DType d, const char* name) {
        return v->type().dtype == d ? v : b_.add("cast", {{"x", v}, {"dtype", name}});
    }
    Value* asInt(Value* v) { return asDType(v, DType::Int32, "int32"); }
    Value* asBool(Value* v) { return asDType(v, DType::Bool, "bool"); }

    /// A weight as an fp32 constant of `sizes`; its element count must match.
    Value* weights(const spec::WeightParams& w, const std::vector<int64_t>& sizes, const std::string& what) {
        int64_t n = 1;
        for (int64_t s : sizes) n *= s;
        std::vector<float> values = floats(w, what);
        if (static_cast<int64_t>(values.size()) != n)
            fail(what + " holds " + std::to_string(values.size()) + " values, its shape needs " + std::to_string(n));
        return b_.constant(mil::ConstData::fromFloats(values, sizes));
    }
    /// A weight's values (fp32, or fp16 widened to fp32); quantized weights are refused.
    std::vector<float> floats(const spec::WeightParams& w, const std::string& what) {
        std::vector<float> values;
        if (w.floatvalue_size() > 0) {
            values.assign(w.floatvalue().begin(), w.floatvalue().end());
        } else if (!w.float16value().empty()) {
            const std::string& raw = w.float16value();
            values.resize(raw.size() / 2);
            for (size_t i = 0; i < values.size(); ++i) {
                c10::Half h;
                std::memcpy(&h, raw.data() + 2 * i, 2);
                values[i] = static_cast<float>(h);
            }
            ++fp16Weights_;
        } else if (!w.rawvalue().empty() || !w.int8rawvalue().empty()) {
            fail(what + " is quantized (not supported)");
        }
        return values;
    }
    Value* bools(const std::vector<bool>& v) {
        return b_.constant(mil::ConstData::fromBools(v, {static_cast<int64_t>(v.size())}));
    }
    template <typename Repeated>
    static std::vector<int64_t> ints(const Repeated& r) {
        return std::vector<int64_t>(r.begin(), r.end());
    }
    template <typename Repeated>
    static std::vector<bool> boolsOf(const Repeated& r, size_t n) {
        std::vector<bool> v(r.begin(), r.end());
        v.resize(n, false);
        return v;
    }
    size_t rankOf(Value* v) const { return v->type().rank(); }

    void unary(const std::string& op) { out(b_.add(op, {{"x", in()}})); }
    void binary(const std::string& op) { out(b_.add(op, {{"x", in(0)}, {"y", in(1)}})); }
    // Comparisons take a second blob, or compare with the layer's alpha.
    void comparison(const std::string& op, float alpha) {
        Value* y = inputs() > 1 ? in(1) : b_.constant(mil::Literal(double{alpha}));
        out(b_.add(op, {{"x", in(0)}, {"y", y}}));
    }
    void logical(const std::string& op) {
        if (inputs() == 1)
            out(b_.add(op, {{"x", asBool(in(0))}}));
        else
            out(b_.add(op, {{"x", asBool(in(0))}, {"y", asBool(in(1))}}));
    }
    template <typename P>
    void reduce(const std::string& op, const P& p) {
        mil::OperandList operands{{"x", in()}, {"keep_dims", p.keepdims()}};
        if (!p.reduceall()) operands.push_back({"axes", ints(p.axes())});
        out(b_.add(op, operands));
    }

    static std::vector<int64_t> padding(const spec::BorderAmounts& amounts) {
        std::vector<int64_t> pad;
        for (const auto& e : amounts.borderamounts()) {
            pad.push_back(static_cast<int64_t>(e.startedgesize()));
            pad.push_back(static_cast<int64_t>(e.endedgesize()));
        }
        pad.resize(4, 0);
        return pad;
    }

    void convolution(const spec::ConvolutionLayerParams& p) {
        if (p.kernelsize_size() != 2) fail("a convolution needs a 2-D kernel size");
        const auto groups = static_cast<int64_t>(std::max<uint64_t>(p.ngroups(), 1));
        const int64_t kh = static_cast<int64_t>(p.kernelsize(0)), kw = static_cast<int64_t>(p.kernelsize(1));
        const auto kc = static_cast<int64_t>(p.kernelchannels()), oc = static_cast<int64_t>(p.outputchannels());
        const std::vector<int64_t> wshape =
            p.isdeconvolution() ? std::vector<int64_t>{kc, oc / groups, kh, kw} : std::vector<int64_t>{oc, kc, kh, kw};
        Value* x = in();
        mil::OperandList ops{{"x", x}, {"weight", weights(p.weights(), wshape, "weights")}};
        if (p.hasbias()) ops.push_back({"bias", weights(p.bias(), {oc}, "bias")});
        ops.push_back({"strides", p.stride_size() ? ints(p.stride()) : std::vector<int64_t>{1, 1}});
        ops.push_back({"dilations", p.dilationfactor_size() ? ints(p.dilationfactor()) : std::vector<int64_t>{1, 1}});
        ops.push_back({"groups", groups});
        if (p.has_same()) {
            ops.push_back(
                {"pad_type", p.same().asymmetrymode() == spec::SamePadding::TOP_LEFT_HEAVY ? "same_lower" : "same"});
        } else {
            ops.push_back({"pad_type", "custom"});
            ops.push_back({"pad", padding(p.valid().paddingamounts())});
        }
        if (p.isdeconvolution() && p.outputshape_size() == 2 && x->type().shape[0].isStatic())
            ops.push_back({"output_shape",
                           std::vector<int64_t>{x->type().shape[0].size, oc, static_cast<int64_t>(p.outputshape(0)),
                                                static_cast<int64_t>(p.outputshape(1))}});
        out(b_.add(p.isdeconvolution() ? "conv_transpose" : "conv", ops));
    }

    // A custom layer: the op the executor runs with a reference kernel, if one is given for its
    // class. Outputs are fp32 of the declared outputTensor rank and sizes (-1: flexible); a file
    // declaring none gets the first input's shape.
    void custom(const spec::CustomLayerParams& p) {
        using P = spec::CustomLayerParams::CustomLayerParamValue;
        auto layer = std::make_shared<mil::CustomLayer>();
        layer->className = p.classname();
        layer->description = p.description();
        for (const auto& [name, v] : p.parameters()) {
            switch (v.value_case()) {
                case P::kDoubleValue: layer->parameters[name] = v.doublevalue(); break;
                case P::kStringValue: layer->parameters[name] = v.stringvalue(); break;
                case P::kIntValue: layer->parameters[name] = v.intvalue(); break;
                case P::kLongValue: layer->parameters[name] = v.longvalue(); break;
                case P::kBoolValue: layer->parameters[name] = v.boolvalue(); break;
                default: fail("parameter '" + name + "' holds no value");
            }
        }
        for (int i = 0; i < p.weights_size(); ++i) {
            std::vector<float> values = floats(p.weights(i), "weight " + std::to_string(i));
            const auto n = static_cast<int64_t>(values.size());
            layer->weights.push_back(mil::ConstData::fromFloats(values, {n}));
        }
        std::vector<Value*> values;
        for (size_t i = 0; i < inputs(); ++i) values.push_back(in(i));
        if (values.empty()) fail("custom layer of class '" + layer->className + "' has no inputs");
        std::vector<TensorType> types;
        for (int i = 0; i < layer_->output_size(); ++i) {
            if (i >= layer_->outputtensor_size()) {
                types.push_back(values.front()->type());
                continue;
            }
            const spec::Tensor& t = layer_->outputtensor(i);
            if (static_cast<int>(t.rank()) != t.dimvalue_size())
                fail("output tensor " + std::to_string(i) + " has rank " + std::to_string(t.rank()) + " and " +
                     std::to_string(t.dimvalue_size()) + " sizes");
            TensorType type;
            for (int d = 0; d < t.dimvalue_size(); ++d)
                type.shape.push_back(t.dimvalue(d) >= 0 ? Dim::fixed(t.dimvalue(d))
                                                        : Dim::symbolic(layer_->output(i) + "_d" + std::to_string(d)));
            types.push_back(type);
        }
        const auto outs = b_.customLayer(layer, values, types);
        for (size_t i = 0; i < outs.size(); ++i) out(outs[i], i);
    }

    // --- Control flow. Nested networks share the network's blobs: a branch or loop body reads
    // the blobs defined before it and may overwrite them (with copy layers). In MIL the blobs a
    // nested network overwrites become the outputs of cond, or the variables of while_loop.

    using Layers = google::protobuf::RepeatedPtrField<Layer>;

    /// Every blob the layers write, nested networks included.
    static void collectWritten(const Layers& layers, std::set<std::string>& out) {
        for (const Layer& l : layers) {
            for (const auto& o : l.output()) out.insert(o);
            if (l.has_branch()) {
                collectWritten(l.branch().ifbranch().layers(), out);
                collectWritten(l.branch().elsebranch().layers(), out);
            }
            if (l.has_loop()) {
                collectWritten(l.loop().conditionnetwork().layers(), out);
                collectWritten(l.loop().bodynetwork().layers(), out);
            }
        }
    }

    /// A blob as a control-flow predicate: true when its (single) value's magnitude exceeds 1e-6.
    Value* truth(Value* v) {
        Value* magnitude = single(b_.add("abs", {{"x", v}}));
        return b_.add("greater", {{"x", magnitude}, {"y", 1e-6}});
    }

    /// The one value of a single-element blob, as a scalar.
    Value* single(Value* v) { return v->type().rank() == 0 ? v : b_.add("reduce_max", {{"x", v}}); }

    std::vector<Value*> blobsNamed(const std::vector<std::string>& names) {
        std::vector<Value*> values;
        for (const auto& n : names) values.push_back(blob(n));
        return values;
    }

    void branch(const spec::BranchLayerParams& p) {
        Value* pred = truth(in());
        std::set<std::string> thenWrites, elseWrites;
        collectWritten(p.ifbranch().layers(), thenWrites);
        collectWritten(p.elsebranch().layers(), elseWrites);
        const auto before = blobs_;
        // The results: blobs that exist before the branch, or that both branches define.
        std::set<std::string> all = thenWrites;
        all.insert(elseWrites.begin(), elseWrites.end());
        std::vector<std::string> results;
        for (const auto& n : all)
            if (before.count(n) || (thenWrites.count(n) && elseWrites.count(n))) results.push_back(n);
        auto run = [&](const spec::NeuralNetwork& net) {
            return [&, net = &net]() {
                blobs_ = before;
                readLayers(net->layers());
                return blobsNamed(results);
            };
        };
        const auto outs = b_.cond(pred, run(p.ifbranch()), run(p.elsebranch()));
        blobs_ = before;
        for (size_t i = 0; i < results.size(); ++i) define(results[i], outs[i]);
    }

    void loop(const spec::LoopLayerParams& p) {
        const bool conditional = !p.conditionvar().empty();
        const bool counted = inputs() > 0 || p.maxloopiterations() > 0;
        if (conditional != p.has_conditionnetwork()) fail("conditionVar and conditionNetwork must be given together");
        if (!conditional && !counted) fail("a loop needs a condition network or an iteration count");
        std::set<std::string> writes;
        collectWritten(p.conditionnetwork().layers(), writes);
        collectWritten(p.bodynetwork().layers(), writes);
        const auto before = blobs_;
        // The loop variables: blobs that exist before the loop and that it overwrites.
        std::vector<std::string> carried;
        for (const auto& n : writes)
            if (before.count(n)) carried.push_back(n);
        std::vector<Value*> vars = blobsNamed(carried);
        Value* limit = nullptr;
        if (counted) {
            limit = inputs() > 0 ? single(in()) : b_.scalar(static_cast<float>(p.maxloopiterations()));
            vars.push_back(b_.scalar(0.0f));  // the iteration count
        }
        auto bind = [&](const std::vector<Value*>& values) {
            blobs_ = before;
            for (size_t i = 0; i < carried.size(); ++i) blobs_[carried[i]] = values[i];
        };
        auto condition = [&](const std::vector<Value*>& values) -> std::vector<Value*> {
            bind(values);
            Value* go = nullptr;
            if (conditional) {
                readLayers(p.conditionnetwork().layers());
                go = truth(blob(p.conditionvar()));
            }
            if (counted) {
                Value* more = b_.add("less", {{"x", values.back()}, {"y", limit}});
                go = go ? b_.add("logical_and", {{"x", go}, {"y", more}}) : more;
            }
            return {go};
        };
        auto body = [&](const std::vector<Value*>& values) {
            bind(values);
            readLayers(p.bodynetwork().layers());
            std::vector<Value*> next = blobsNamed(carried);
            if (counted) next.push_back(b_.add("add", {{"x", values.back()}, {"y", 1.0}}));
            return next;
        };
        const auto outs = b_.whileLoop(vars, condition, body);
        blobs_ = before;
        for (size_t i = 0; i < carried.size(); ++i) define(carried[i], outs[i]);
    }

    void pooling(const spec::PoolingLayerParams& p) {
        const bool max = p.type() == spec::PoolingLayerParams::MAX;
        if (p.type() == spec::PoolingLayerParams::L2) fail("L2 pooling is not supported");
        if (p.globalpooling()) {
            out(b_.add(max ? "reduce_max" : "reduce_mean",
                       {{"x", in()}, {"axes", std::vector<int64_t>{-2, -1}}, {"keep_dims", true}}));
            return;
        }
        mil::OperandList ops{{"x", in()},
                             {"kernel_sizes", ints(p.kernelsize())},
                             {"strides", p.stride_size() ? ints(p.stride()) : std::vector<int64_t>{1, 1}}};
        if (p.has_same()) {
            ops.push_back(
                {"pad_type", p.same().asymmetrymode() == spec::SamePadding::TOP_LEFT_HEAVY ? "same_lower" : "same"});
        } else if (p.has_includelastpixel()) {
            const auto& a = p.includelastpixel().paddingamounts();
            const int64_t ph = a.size() > 0 ? static_cast<int64_t>(a.Get(0)) : 0,
                          pw = a.size() > 1 ? static_cast<int64_t>(a.Get(1)) : 0;
            ops.push_back({"pad_type", "custom"});
            ops.push_back({"pad", std::vector<int64_t>{ph, ph, pw, pw}});
            ops.push_back({"ceil_mode", true});
        } else {
            ops.push_back({"pad_type", "custom"});
            ops.push_back({"pad", padding(p.valid().paddingamounts())});
        }
        if (!max) ops.push_back({"exclude_padding_from_average", p.avgpoolexcludepadding()});
        out(b_.add(max ? "max_pool" : "avg_pool", ops));
    }

    void batchnorm(const spec::BatchnormLayerParams& p) {
        const auto c = static_cast<int64_t>(p.channels());
        Value* gamma = weights(p.gamma(), {c}, "gamma");
        Value* beta = weights(p.beta(), {c}, "beta");
        if (p.instancenormalization()) {
            out(b_.add("instance_norm",
                       {{"x", in()}, {"gamma", gamma}, {"beta", beta}, {"epsilon", double{p.epsilon()}}}));
            return;
        }
        if (p.computemeanvar()) fail("batchnorm computing its statistics across the batch is not supported");
        out(b_.add("batch_norm", {{"x", in()},
                                  {"mean", weights(p.mean(), {c}, "mean")},
                                  {"variance", weights(p.variance(), {c}, "variance")},
                                  {"gamma", gamma},
                                  {"beta", beta},
                                  {"epsilon", double{p.epsilon()}}}));
    }

    void layerNorm(const spec::LayerNormalizationLayerParams& p) {
        const std::vector<int64_t> shape = ints(p.normalizedshape());
        std::vector<int64_t> axes;
        for (size_t i = 0; i < shape.size(); ++i)
            axes.push_back(static_cast<int64_t>(i) - static_cast<int64_t>(shape.size()));
        out(b_.add("layer_norm", {{"x", in()},
                                  {"axes", axes},
                                  {"gamma", weights(p.gamma(), shape, "gamma")},
                                  {"beta", weights(p.beta(), shape, "beta")},
                                  {"epsilon", double{p.eps()}}}));
    }

    void activation(const spec::ActivationParams& a) {
        using A = spec::ActivationParams;
        Value* x = in();
        auto withAlphaBeta = [&](const std::string& op, float alpha, float beta) {
            out(b_.add(op, {{"x", x}, {"alpha", double{alpha}}, {"beta", double{beta}}}));
        };
        switch (a.NonlinearityType_case()) {
            case A::kReLU: return unary("relu");
            case A::kTanh: return unary("tanh");
            case A::kSigmoid: return unary("sigmoid");
            case A::kSoftsign: return unary("softsign");
            case A::kSoftplus: return unary("softplus");
            case A::kLeakyReLU: return out(b_.add("leaky_relu", {{"x", x}, {"alpha", double{a.leakyrelu().alpha()}}}));
            case A::kELU: return out(b_.add("elu", {{"x", x}, {"alpha", double{a.elu().alpha()}}}));
            case A::kThresholdedReLU:
                return out(b_.add("thresholded_relu", {{"x", x}, {"alpha", double{a.thresholdedrelu().alpha()}}}));
            case A::kLinear: return withAlphaBeta("linear_activation", a.linear().alpha(), a.linear().beta());
            case A::kSigmoidHard: return withAlphaBeta("sigmoid_hard", a.sigmoidhard().alpha(), a.sigmoidhard().beta());
            case A::kScaledTanh: return withAlphaBeta("scaled_tanh", a.scaledtanh().alpha(), a.scaledtanh().beta());
            case A::kPReLU: {
                if (rankOf(x) < 3 || !x->type().shape[rankOf(x) - 3].isStatic())
                    fail("PReLU needs static channels at axis -3");
                const int64_t c = x->type().shape[rankOf(x) - 3].size;
                const auto& alpha = a.prelu().alpha();
                const int64_t n = alpha.floatvalue_size() + static_cast<int64_t>(alpha.float16value().size() / 2);
                Value* av = weights(alpha, {n}, "alpha");
                if (n == 1 && c != 1) {
                    const float v = static_cast<float>(av->constant()->asDouble(0));
                    av = b_.constant(mil::ConstData::fromFloats(std::vector<float>(static_cast<size_t>(c), v), {c}));
                }
                return out(b_.add("prelu", {{"x", x}, {"alpha", av}}));
            }
            default: fail("activation " + std::to_string(a.NonlinearityType_case()) + " is not supported");
        }
    }

    // f(scale * x + shift); LOG's shift is MIL log's epsilon.
    void unaryFunction(const spec::UnaryFunctionLayerParams& p) {
        using U = spec::UnaryFunctionLayerParams;
        Value* x = in();
        const float scale = p.scale() == 0.0f ? 1.0f : p.scale();
        if (scale != 1.0f) x = b_.add("mul", {{"x", x}, {"y", double{scale}}});
        if (p.shift() != 0.0f && p.type() != U::LOG) x = b_.add("add", {{"x", x}, {"y", double{p.shift()}}});
        switch (p.type()) {
            case U::SQRT: return out(b_.add("sqrt", {{"x", x}}));
            case U::RSQRT: return out(b_.add("rsqrt", {{"x", x}, {"epsilon", double{p.epsilon()}}}));
            case U::INVERSE: return out(b_.add("inverse", {{"x", x}, {"epsilon", double{p.epsilon()}}}));
            case U::POWER: return out(b_.add("pow", {{"x", x}, {"y", double{p.alpha()}}}));
            case U::EXP: return out(b_.add("exp", {{"x", x}}));
            case U::LOG: return out(b_.add("log", {{"x", x}, {"epsilon", double{p.shift()}}}));
            case U::ABS: return out(b_.add("abs", {{"x", x}}));
            case U::THRESHOLD: return out(b_.add("threshold", {{"x", x}, {"alpha", double{p.alpha()}}}));
            default: fail("unary function " + std::to_string(p.type()) + " is not supported");
        }
    }

    void batchedMatmul(const spec::BatchedMatMulLayerParams& p) {
        if (inputs() >= 2) {
            out(b_.add("matmul",
                       {{"x", in(0)}, {"y", in(1)}, {"transpose_x", p.transposea()}, {"transpose_y", p.transposeb()}}));
            return;
        }
        // The [X1, X2] weight stored column-major is MIL linear's row-major [X2, X1].
        const auto x1 = static_cast<int64_t>(p.weightmatrixfirstdimension()),
                   x2 = static_cast<int64_t>(p.weightmatrixseconddimension());
        mil::OperandList ops{{"x", in()}, {"weight", weights(p.weights(), {x2, x1}, "weights")}};
        if (p.hasbias()) ops.push_back({"bias", weights(p.bias(), {x2}, "bias")});
        out(b_.add("linear", ops));
    }

    void slice(Value* x, Value* begin, Value* end, const std::vector<bool>& beginMask, const std::vector<bool>& endMask,
               const std::vector<int64_t>& strides, const std::vector<bool>& squeeze) {
        mil::OperandList ops{
            {"x", x}, {"begin", begin}, {"end", end}, {"begin_mask", bools(beginMask)}, {"end_mask", bools(endMask)}};
        if (!strides.empty()) ops.push_back({"stride", strides});
        bool anySqueeze = false;
        for (bool s : squeeze) anySqueeze = anySqueeze || s;
        if (anySqueeze) ops.push_back({"squeeze_mask", bools(squeeze)});
        out(b_.add("slice_by_index", ops));
    }

    void upsample(const spec::UpsampleLayerParams& p) {
        mil::OperandList ops{{"x", in()}};
        if (p.fractionalscalingfactor_size() == 2) {
            ops.push_back({"scale_factor_height", double{p.fractionalscalingfactor(0)}});
            ops.push_back({"scale_factor_width", double{p.fractionalscalingfactor(1)}});
        } else if (p.scalingfactor_size() == 2) {
            ops.push_back({"scale_factor_height", static_cast<int64_t>(p.scalingfactor(0))});
            ops.push_back({"scale_factor_width", static_cast<int64_t>(p.scalingfactor(1))});
        } else {
            fail("needs two scaling factors");
        }
        if (p.mode() == spec::UpsampleLayerParams::NN) return out(b_.add("upsample_nearest_neighbor", ops));
        const auto mode = p.linearupsamplemode();
        ops.push_back({"align_corners", mode == spec::UpsampleLayerParams::ALIGN_CORNERS_TRUE});
        ops.push_back({"half_pixel_centers", mode == spec::UpsampleLayerParams::ALIGN_CORNERS_FALSE});
        out(b_.add("upsample_bilinear", ops));
    }

    void resizeBilinear(const spec::ResizeBilinearLayerParams& p) {
        if (p.targetsize_size() != 2) fail("needs a target size [H, W]");
        const char* mode = "DEFAULT";
        switch (p.mode().samplingmethod()) {
            case spec::SamplingMode::STRICT_ALIGN_ENDPOINTS_MODE: mode = "STRICT_ALIGN_CORNERS"; break;
            case spec::SamplingMode::ALIGN_ENDPOINTS_MODE: mode = "ALIGN_CORNERS"; break;
            case spec::SamplingMode::UPSAMPLE_MODE: mode = "DEFAULT"; break;
            case spec::SamplingMode::ROI_ALIGN_MODE: mode = "OFFSET_CORNERS"; break;
            default: fail("unknown sampling mode");
        }
        out(b_.add("resize_bilinear", {{"x", in()},
                                       {"target_size_height", static_cast<int64_t>(p.targetsize(0))},
                                       {"target_size_width", static_cast<int64_t>(p.targetsize(1))},
                                       {"sampling_mode", mode}}));
    }

    void read(const Layer& l) {
        switch (l.layer_case()) {
            case Layer::kLoadConstantND: {
                std::vector<int64_t> shape = ints(l.loadconstantnd().shape());
                return out(weights(l.loadconstantnd().data(), shape, "data"));
            }
            case Layer::kConvolution: return convolution(l.convolution());
            case Layer::kPooling: return pooling(l.pooling());
            case Layer::kBatchnorm: return batchnorm(l.batchnorm());
            case Layer::kLayerNormalization: return layerNorm(l.layernormalization());
            case Layer::kActivation: return activation(l.activation());
            case Layer::kClip:
                return out(b_.add(
                    "clip", {{"x", in()}, {"alpha", double{l.clip().minval()}}, {"beta", double{l.clip().maxval()}}}));
            case Layer::kClampedReLU:
                return out(b_.add("clamped_relu", {{"x", in()},
                                                   {"alpha", double{l.clampedrelu().alpha()}},
                                                   {"beta", double{l.clampedrelu().beta()}}}));
            case Layer::kGelu: {
                const auto m = l.gelu().mode();
                return out(b_.add(
                    "gelu", {{"x", in()},
                             {"mode", m == spec::GeluLayerParams::EXACT                ? "EXACT"
                                      : m == spec::GeluLayerParams::TANH_APPROXIMATION ? "TANH_APPROXIMATION"
                                                                                       : "SIGMOID_APPROXIMATION"}}));
            }
            case Layer::kSoftmaxND: return out(b_.add("softmax", {{"x", in()}, {"axis", l.softmaxnd().axis()}}));
            case Layer::kSoftmax: return out(b_.add("softmax", {{"x", in()}, {"axis", int64_t{-3}}}));
            case Layer::kAddBroadcastable: return binary("add");
            case Layer::kSubtractBroadcastable: return binary("sub");
            case Layer::kMultiplyBroadcastable: return binary("mul");
            case Layer::kDivideBroadcastable: return binary("real_div");
            case Layer::kFloorDivBroadcastable: return binary("floor_div");
            case Layer::kModBroadcastable: return binary("mod");
            case Layer::kPowBroadcastable: return binary("pow");
            case Layer::kMaxBroadcastable: return binary("maximum");
            case Layer::kMinBroadcastable: return binary("minimum");
            case Layer::kEqual: return comparison("equal", l.equal().alpha());
            case Layer::kNotEqual: return comparison("not_equal", l.notequal().alpha());
            case Layer::kLessThan: return comparison("less", l.lessthan().alpha());
            case Layer::kLessEqual: return comparison("less_equal", l.lessequal().alpha());
            case Layer::kGreaterThan: return comparison("greater", l.greaterthan().alpha());
            case Layer::kGreaterEqual: return comparison("greater_equal", l.greaterequal().alpha());
            case Layer::kLogicalAnd: return logical("logical_and");
            case Layer::kLogicalOr: return logical("logical_or");
            case Layer::kLogicalXor: return logical("logical_xor");
            case Layer::kLogicalNot: return logical("logical_not");
            case Layer::kUnary: return unaryFunction(l.unary());
            case Layer::kCeil: return unary("ceil");
            case Layer::kFloor: return unary("floor");
            case Layer::kRound: return unary("round");
            case Layer::kSign: return unary("sign");
            case Layer::kExp2: return unary("exp2");
            case Layer::kSin: return unary("sin");
            case Layer::kCos: return unary("cos");
            case Layer::kTan: return unary("tan");
            case Layer::kAsin: return unary("asin");
            case Layer::kAcos: return unary("acos");
            case Layer::kAtan: return unary("atan");
            case Layer::kSinh: return unary("sinh");
            case Layer::kCosh: return unary("cosh");
            case Layer::kTanh: return unary("tanh");
            case Layer::kAtanh: return unary("atanh");
            case Layer::kErf: return unary("erf");
            case Layer::kWhereBroadcastable:
                return out(b_.add("select", {{"cond", asBool(in(0))}, {"a", in(1)}, {"b", in(2)}}));
            case Layer::kBatchedMatmul: return batchedMatmul(l.batchedmatmul());
            case Layer::kReduceSum: return reduce("reduce_sum", l.reducesum());
            case Layer::kReduceMean: return reduce("reduce_mean", l.reducemean());
            case Layer::kReduceMax: return reduce("reduce_max", l.reducemax());
            case Layer::kReduceMin: return reduce("reduce_min", l.reducemin());
            case Layer::kReduceProd: return reduce("reduce_prod", l.reduceprod());
            case Layer::kReduceL1: return reduce("reduce_l1_norm", l.reducel1());
            case Layer::kReduceL2: return reduce("reduce_l2_norm", l.reducel2());
            case Layer::kReduceLogSum: return reduce("reduce_log_sum", l.reducelogsum());
            case Layer::kReduceSumSquare: return reduce("reduce_sum_square", l.reducesumsquare());
            case Layer::kReduceLogSumExp: return reduce("reduce_log_sum_exp", l.reducelogsumexp());
            case Layer::kArgMax:
                return out(b_.add("reduce_argmax",
                                  {{"x", in()}, {"axis", l.argmax().axis()}, {"keep_dims", !l.argmax().removedim()}}));
            case Layer::kArgMin:
                return out(b_.add("reduce_argmin",
                                  {{"x", in()}, {"axis", l.argmin().axis()}, {"keep_dims", !l.argmin().removedim()}}));
            case Layer::kReshapeStatic:
                return out(b_.add("reshape", {{"x", in()}, {"shape", ints(l.reshapestatic().targetshape())}}));
            case Layer::kReshapeDynamic: return out(b_.add("reshape", {{"x", in(0)}, {"shape", asInt(in(1))}}));
            case Layer::kTranspose:
                return out(b_.add("transpose", {{"x", in()}, {"perm", ints(l.transpose().axes())}}));
            case Layer::kSqueeze:
                if (l.squeeze().squeezeall()) return out(b_.add("squeeze", {{"x", in()}}));
                return out(b_.add("squeeze", {{"x", in()}, {"axes", ints(l.squeeze().axes())}}));
            case Layer::kExpandDims:
                return out(b_.add("expand_dims", {{"x", in()}, {"axes", ints(l.expanddims().axes())}}));
            case Layer::kFlattenTo2D: return out(b_.add("flatten2d", {{"x", in()}, {"axis", l.flattento2d().axis()}}));
            case Layer::kConcatND: {
                std::vector<Value*> values;
                for (size_t i = 0; i < inputs(); ++i) values.push_back(in(i));
                return out(b_.add(
                    "concat",
                    {{"values", values}, {"axis", l.concatnd().axis()}, {"interleave", l.concatnd().interleave()}}));
            }
            case Layer::kStack: {
                std::vector<Value*> values;
                for (size_t i = 0; i < inputs(); ++i) values.push_back(in(i));
                return out(b_.add("stack", {{"values", values}, {"axis", l.stack().axis()}}));
            }
            case Layer::kSplitND: {
                const auto& p = l.splitnd();
                mil::OperandList ops{{"x", in()}, {"axis", p.axis()}};
                if (p.splitsizes_size() > 0)
                    ops.push_back({"split_sizes", ints(p.splitsizes())});
                else
                    ops.push_back({"num_splits", static_cast<int64_t>(p.numsplits())});
                const auto outs = b_.addOp("split", ops);
                for (size_t i = 0; i < outs.size(); ++i) out(outs[i], i);
                return;
            }
            case Layer::kTile:
                if (inputs() > 1) return out(b_.add("tile", {{"x", in(0)}, {"reps", asInt(in(1))}}));
                return out(b_.add("tile", {{"x", in()}, {"reps", ints(l.tile().reps())}}));
            case Layer::kConstantPad: {
                if (l.constantpad().padtogivenoutputsizemode()) fail("padding to a given output size is not supported");
                return out(b_.add("pad", {{"x", in()},
                                          {"pad", ints(l.constantpad().padamounts())},
                                          {"mode", "constant"},
                                          {"constant_val", double{l.constantpad().value()}}}));
            }
            case Layer::kPadding: {
                const auto& p = l.padding();
                const char* mode = p.has_reflection() ? "reflect" : p.has_replication() ? "replicate" : "constant";
                mil::OperandList ops{{"x", in()}, {"pad", padding(p.paddingamounts())}, {"mode", mode}};
                if (p.has_constant()) ops.push_back({"constant_val", double{p.constant().value()}});
                return out(b_.add("pad", ops));
            }
            case Layer::kRangeDynamic: {
                // Each input holds one value: the end, then (optionally) the start and the step.
                const auto& p = l.rangedynamic();
                Value* end = single(in(0));
                Value* start = inputs() > 1 ? single(in(1)) : b_.scalar(p.startvalue());
                Value* step = inputs() > 2 ? single(in(2)) : b_.scalar(p.stepsizevalue());
                return out(b_.add("range_1d", {{"end", end}, {"start", start}, {"step", step}}));
            }
            case Layer::kGetShape: return out(b_.add("shape", {{"x", in()}}));
            case Layer::kReverse: {
                std::vector<int64_t> axes;
                for (int i = 0; i < l.reverse().reversedim_size(); ++i)
                    if (l.reverse().reversedim(i)) axes.push_back(i);
                return out(b_.add("reverse", {{"x", in()}, {"axes", axes}}));
            }
            case Layer::kReorganizeData: {
                const auto& p = l.reorganizedata();
                const auto block = static_cast<int64_t>(p.blocksize());
                if (p.mode() == spec::ReorganizeDataLayerParams::PIXEL_SHUFFLE)
                    return out(b_.add("pixel_shuffle", {{"x", in()}, {"upscale_factor", block}}));
                return out(b_.add(
                    p.mode() == spec::ReorganizeDataLayerParams::DEPTH_TO_SPACE ? "depth_to_space" : "space_to_depth",
                    {{"x", in()}, {"block_size", block}}));
            }
            case Layer::kSliceStatic: {
                const auto& p = l.slicestatic();
                const size_t n = static_cast<size_t>(p.beginids_size());
                return slice(in(), b_.constant(mil::Literal(ints(p.beginids()))),
                             b_.constant(mil::Literal(ints(p.endids()))), boolsOf(p.beginmasks(), n),
                             boolsOf(p.endmasks(), n), ints(p.strides()), boolsOf(p.squeezemasks(), n));
            }
            case Layer::kSliceDynamic: {
                const auto& p = l.slicedynamic();
                if (inputs() > 3) fail("slicing with computed strides or masks is not supported");
                const size_t n = static_cast<size_t>(p.beginmasks_size());
                Value* end = inputs() > 2 ? asInt(in(2)) : b_.constant(mil::Literal(ints(p.endids())));
                return slice(in(0), asInt(in(1)), end, boolsOf(p.beginmasks(), n), boolsOf(p.endmasks(), n),
                             ints(p.strides()), boolsOf(p.squeezemasks(), n));
            }
            case Layer::kGather:
                return out(b_.add("gather", {{"x", in(0)}, {"indices", asInt(in(1))}, {"axis", l.gather().axis()}}));
            case Layer::kGatherAlongAxis:
                return out(b_.add("gather_along_axis",
                                  {{"x", in(0)}, {"indices", asInt(in(1))}, {"axis", l.gatheralongaxis().axis()}}));
            case Layer::kGatherND: return out(b_.add("gather_nd", {{"x", in(0)}, {"indices", asInt(in(1))}}));
            case Layer::kUpsample: return upsample(l.upsample());
            case Layer::kResizeBilinear: return resizeBilinear(l.resizebilinear());
            case Layer::kCustom: return custom(l.custom());
            case Layer::kCopy: return out(b_.add("identity", {{"x", in()}}));
            case Layer::kBranch: return branch(l.branch());
            case Layer::kLoop: return loop(l.loop());
            default: fail("this layer kind is not supported by the reference runtime");
        }
    }

    std::string path_;
    mil::Builder b_;
    std::map<std::string, Value*> blobs_;
    const Layer* layer_ = nullptr;
    size_t fp16Weights_ = 0;
};

template <typename Network>
void readNetwork(const Network& net, const spec::Model& model, const std::string& path, ReadModel& out) {
    out.program = std::make_unique<mil::Program>();
    mil::Function& fn = out.program->main();
    LayerReader reader(path, fn);
    mil::Builder& b = reader.builder();

    std::map<std::string, const spec::NeuralNetworkPreprocessing*> preprocessing;
    for (const auto& p : net.preprocessing()) {
        if (p.has_meanimage())
            throw ModelReadError(path, "mean-image preprocessing of '" + p.featurename() + "' is not supported");
        preprocessing[p.featurename()] = &p;
    }
    for (FeatureInfo& f : out.inputs) {
        if (!f.type.isStatic() && f.type.rank() == 0) throw ModelReadError(path, "input '" + f.name + "' has no shape");
        // Flexible dims get names of their own, so that two of them are never taken as equal.
        TensorType type = f.type;
        for (Dim& d : type.shape)
            if (!d.isStatic()) d.symbol = f.name + "_d" + std::to_string(&d - type.shape.data());
        Value* v = fn.body.addInput(f.name, type);
        auto it = preprocessing.find(f.name);
        if (it != preprocessing.end() && f.isImage) {
            // The model sees pixel * channelScale + bias of the pixel's channel.
            const auto& s = it->second->scaler();
            ImagePreprocessing pre;
            pre.scale = s.channelscale();
            if (f.colorSpace == "RGB")
                pre.bias = {s.redbias(), s.greenbias(), s.bluebias()};
            else if (f.colorSpace == "BGR")
                pre.bias = {s.bluebias(), s.greenbias(), s.redbias()};
            else
                pre.bias = {s.graybias()};
            f.preprocessing = pre;
            b.setLocation("preprocessing of " + f.name);
            std::vector<float> bias(pre.bias.begin(), pre.bias.end());
            Value* scaled = b.add("mul", {{"x", v}, {"y", double{pre.scale}}});
            scaled->setName(f.name + "__scaled");
            v = b.add(
                "add",
                {{"x", scaled},
                 {"y", b.constant(mil::ConstData::fromFloats(bias, {1, static_cast<int64_t>(bias.size()), 1, 1}))}});
            v->setName(f.name + "__preprocessed");
        }
        reader.define(f.name, v);
    }
    reader.readLayers(net.layers());

    std::string probabilities;
    if constexpr (std::is_same_v<Network, spec::NeuralNetworkClassifier>) {
        for (const auto& label : net.stringclasslabels().vector()) out.classLabels.push_back(label);
        for (int64_t label : net.int64classlabels().vector()) out.classLabels.push_back(std::to_string(label));
        probabilities = net.labelprobabilitylayername();
        if (probabilities.empty() && net.layers_size() > 0) probabilities = net.layers(net.layers_size() - 1).output(0);
    }
    b.setLocation("outputs");
    for (FeatureInfo& f : out.outputs) {
        if (f.isClassLabel) continue;
        const std::string blobName = f.isProbabilities ? probabilities : f.name;
        Value* v = reader.blob(blobName);
        if (f.isProbabilities) {
            f.type = v->type();
        } else if (f.type.dtype != DType::Float32 && f.type.dtype != DType::Float64) {
            v->setName(f.name + "__fp32");
            v = b.add("cast", {{"x", v}, {"dtype", f.type.dtype == DType::Int32 ? "int32" : "fp16"}});
            v->setName(f.name);
        }
        fn.body.outputs().push_back(v);
    }
    out.fp16Weights = reader.fp16Weights() > 0;
    (void)model;
}

}  // namespace

void readNeuralNetwork(const spec::Model& model, const std::string& path, ReadModel& out) {
    if (model.has_neuralnetwork()) return readNetwork(model.neuralnetwork(), model, path, out);
    if (model.has_neuralnetworkclassifier()) return readNetwork(model.neuralnetworkclassifier(), model, path, out);
    return readNetwork(model.neuralnetworkregressor(), model, path, out);
}

}  // namespace ts2coreml::runtime
