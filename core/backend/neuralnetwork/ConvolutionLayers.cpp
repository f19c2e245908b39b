// conv and conv_transpose -> ConvolutionLayerParams (2-D; 1-D runs as 2-D with a unit height).
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

struct Spatial {
    std::vector<int64_t> strides, dilations, pad;  // pad: [before, after] per spatial dim
    std::string padType;
};

Spatial spatialParams(LayerWriter& w, size_t spatialRank) {
    Spatial s;
    s.strides = w.intsOr("strides", std::vector<int64_t>(spatialRank, 1));
    s.dilations = w.intsOr("dilations", std::vector<int64_t>(spatialRank, 1));
    s.padType = w.params().getString("pad_type");
    s.pad = s.padType == "custom" ? w.params().getInts("pad") : std::vector<int64_t>(2 * spatialRank, 0);
    if (spatialRank == 1) {  // as 2-D: height 1
        s.strides.insert(s.strides.begin(), 1);
        s.dilations.insert(s.dilations.begin(), 1);
        s.pad.insert(s.pad.begin(), {0, 0});
    }
    return s;
}

void setPadding(LayerWriter& w, const Spatial& s, spec::ConvolutionLayerParams& conv) {
    if (s.padType == "same" || s.padType == "same_lower") {
        conv.mutable_same()->set_asymmetrymode(s.padType == "same" ? spec::SamePadding::BOTTOM_RIGHT_HEAVY
                                                                   : spec::SamePadding::TOP_LEFT_HEAVY);
        return;
    }
    if (s.padType != "valid" && s.padType != "custom")
        w.unsupported("pad_type '" + s.padType + "' has no NeuralNetwork padding");
    auto* amounts = conv.mutable_valid()->mutable_paddingamounts();
    for (size_t i = 0; i < 2; ++i) {
        auto* e = amounts->add_borderamounts();
        e->set_startedgesize(static_cast<uint64_t>(s.pad[2 * i]));
        e->set_endedgesize(static_cast<uint64_t>(s.pad[2 * i + 1]));
    }
}

// 1-D convolution runs as 2-D on [N, C, 1, L]: expand before, squeeze after.
std::string expandTo2d(LayerWriter& w, size_t rank) {
    std::string x = w.in("x");
    if (rank == 4) return x;
    const std::string expanded = w.temp("as2d");
    w.layer({x}, {expanded}).mutable_expanddims()->add_axes(-2);
    return expanded;
}

void convolution(LayerWriter& w, bool transpose) {
    const size_t rank = w.rank("x");
    if (rank != 3 && rank != 4)
        w.unsupported("only 1-D and 2-D convolutions have a NeuralNetwork layer (x is rank " + std::to_string(rank) +
                      ")");
    const mil::ConstData& weight = w.constant("weight");
    std::vector<int64_t> kernel(weight.sizes.begin() + 2, weight.sizes.end());
    if (rank == 3) kernel.insert(kernel.begin(), 1);
    const Spatial s = spatialParams(w, rank - 2);
    const int64_t groups = w.params().getInt("groups");

    const std::string x = expandTo2d(w, rank);
    const std::string y = rank == 4 ? w.out() : w.temp("conv2d");
    auto& layer = w.layer({x}, {y});
    auto* conv = layer.mutable_convolution();
    if (transpose) {
        // weight [C_in, C_out / groups, kH, kW], as the layer stores it.
        conv->set_isdeconvolution(true);
        conv->set_kernelchannels(static_cast<uint64_t>(weight.sizes[0]));
        conv->set_outputchannels(static_cast<uint64_t>(weight.sizes[1] * groups));
        const TensorType& out = w.outType();
        if (out.isStatic()) {
            const auto sizes = out.sizes();
            if (rank == 3) conv->add_outputshape(1);
            for (size_t i = 2; i < sizes.size(); ++i) conv->add_outputshape(static_cast<uint64_t>(sizes[i]));
        }
    } else {
        // weight [C_out, C_in / groups, kH, kW].
        conv->set_outputchannels(static_cast<uint64_t>(weight.sizes[0]));
        conv->set_kernelchannels(static_cast<uint64_t>(weight.sizes[1]));
    }
    conv->set_ngroups(static_cast<uint64_t>(groups));
    for (int64_t k : kernel) conv->add_kernelsize(static_cast<uint64_t>(k));
    for (int64_t v : s.strides) conv->add_stride(static_cast<uint64_t>(v));
    for (int64_t v : s.dilations) conv->add_dilationfactor(static_cast<uint64_t>(v));
    setPadding(w, s, *conv);
    w.weights(*conv->mutable_weights(), "weight");
    if (w.op().input("bias")) {
        conv->set_hasbias(true);
        w.weights(*conv->mutable_bias(), "bias");
    }
    if (rank == 3) w.layer({y}).mutable_squeeze()->add_axes(-2);
}

// ConvolutionLayerParams -> conv or conv_transpose; weights [C_out, C_in / groups, kH, kW] (deconvolution:
// [C_in, C_out / groups, kH, kW]).
void readConvolution(LayerReader& r) {
    const auto& p = r.layer().convolution();
    if (p.kernelsize_size() != 2) r.fail("a convolution needs a 2-D kernel size");
    const auto groups = static_cast<int64_t>(std::max<uint64_t>(p.ngroups(), 1));
    const int64_t kh = static_cast<int64_t>(p.kernelsize(0)), kw = static_cast<int64_t>(p.kernelsize(1));
    const auto kc = static_cast<int64_t>(p.kernelchannels()), oc = static_cast<int64_t>(p.outputchannels());
    const std::vector<int64_t> wshape =
        p.isdeconvolution() ? std::vector<int64_t>{kc, oc / groups, kh, kw} : std::vector<int64_t>{oc, kc, kh, kw};
    mil::Value* x = r.in();
    mil::OperandList ops{{"x", x}, {"weight", r.weights(p.weights(), wshape, "weights")}};
    if (p.hasbias()) ops.push_back({"bias", r.weights(p.bias(), {oc}, "bias")});
    ops.push_back({"strides", p.stride_size() ? r.ints(p.stride()) : std::vector<int64_t>{1, 1}});
    ops.push_back({"dilations", p.dilationfactor_size() ? r.ints(p.dilationfactor()) : std::vector<int64_t>{1, 1}});
    ops.push_back({"groups", groups});
    if (p.has_same()) {
        ops.push_back(
            {"pad_type", p.same().asymmetrymode() == spec::SamePadding::TOP_LEFT_HEAVY ? "same_lower" : "same"});
    } else {
        ops.push_back({"pad_type", "custom"});
        ops.push_back({"pad", r.padding(p.valid().paddingamounts())});
    }
    if (p.isdeconvolution() && p.outputshape_size() == 2 && x->type().shape[0].isStatic())
        ops.push_back(
            {"output_shape", std::vector<int64_t>{x->type().shape[0].size, oc, static_cast<int64_t>(p.outputshape(0)),
                                                  static_cast<int64_t>(p.outputshape(1))}});
    r.out(r.add(p.isdeconvolution() ? "conv_transpose" : "conv", ops));
}

}  // namespace

void populateConvolutionLayers(LayerTable& t) {
    t.add("conv", [](LayerWriter& w) { convolution(w, false); });
    t.add("conv_transpose", [](LayerWriter& w) { convolution(w, true); });
    t.reads(spec::NeuralNetworkLayer::kConvolution, readConvolution);
}

TS2COREML_FAMILY(LayerTable, Convolution, populateConvolutionLayers)

}  // namespace ts2coreml::nn
