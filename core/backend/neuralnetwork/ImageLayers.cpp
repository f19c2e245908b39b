// Upsampling and resizing of the last two axes -> Upsample and ResizeBilinear.
//
// Grid points (input coordinate of output index i, for in -> out samples):
//   Upsample DEFAULT, ResizeBilinear UPSAMPLE_MODE   i * in / out            (MIL DEFAULT)
//   Upsample ALIGN_CORNERS_TRUE, STRICT_ALIGN_ENDPOINTS  i * (in - 1) / (out - 1)
//   Upsample ALIGN_CORNERS_FALSE (iOS14)             (i + 0.5) * in / out - 0.5  (half-pixel centers)
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

#include <cmath>

namespace ts2coreml::nn {

namespace {

bool integral(double v) { return v >= 1 && std::floor(v) == v; }

// The fp32 factor whose product with `in`, rounded down, is `out` (the layer's output size).
float fractionalFactor(int64_t in, int64_t out) {
    float f = static_cast<float>(static_cast<double>(out) / static_cast<double>(in));
    while (static_cast<int64_t>(std::floor(static_cast<float>(in) * f)) < out) f = std::nextafter(f, 2.0f * f);
    return f;
}

void setFactors(LayerWriter& w, spec::UpsampleLayerParams& u, double h, double s) {
    if (integral(h) && integral(s)) {
        u.add_scalingfactor(static_cast<uint64_t>(h));
        u.add_scalingfactor(static_cast<uint64_t>(s));
        return;
    }
    w.require(Target::iOS14, "bilinear upsampling by a fractional factor");
    const TensorType& x = w.type("x");
    const TensorType& out = w.outType();
    if (!x.isStatic() || !out.isStatic()) w.unsupported("upsampling of flexible sizes by a fractional factor");
    const auto in = x.sizes(), o = out.sizes();
    const size_t r = in.size();
    u.add_fractionalscalingfactor(fractionalFactor(in[r - 2], o[r - 2]));
    u.add_fractionalscalingfactor(fractionalFactor(in[r - 1], o[r - 1]));
}

void upsampleNearest(LayerWriter& w) {
    const double h = w.params().getDouble("scale_factor_height"), s = w.params().getDouble("scale_factor_width");
    if (!integral(h) || !integral(s)) w.unsupported("nearest-neighbour upsampling by a fractional factor");
    auto* u = w.layer({w.in("x")}).mutable_upsample();
    u->set_mode(spec::UpsampleLayerParams::NN);
    setFactors(w, *u, h, s);
}

void resizeTo(LayerWriter& w, spec::SamplingMode::Method method) {
    const TensorType& out = w.outType();
    if (!out.isStatic()) w.unsupported("bilinear resizing to a flexible size");
    const auto sizes = out.sizes();
    auto* r = w.layer({w.in("x")}).mutable_resizebilinear();
    r->add_targetsize(static_cast<uint64_t>(sizes[sizes.size() - 2]));
    r->add_targetsize(static_cast<uint64_t>(sizes[sizes.size() - 1]));
    r->mutable_mode()->set_samplingmethod(method);
}

void upsampleBilinear(LayerWriter& w) {
    const bool align = w.params().getBool("align_corners");
    const bool halfPixel = w.params().has("half_pixel_centers") ? w.params().getBool("half_pixel_centers") : !align;
    const double h = w.params().getDouble("scale_factor_height"), s = w.params().getDouble("scale_factor_width");
    if (align) return resizeTo(w, spec::SamplingMode::STRICT_ALIGN_ENDPOINTS_MODE);
    if (!halfPixel && !(integral(h) && integral(s))) return resizeTo(w, spec::SamplingMode::UPSAMPLE_MODE);
    if (halfPixel) w.require(Target::iOS14, "bilinear upsampling with half-pixel centers (align_corners=False)");
    auto* u = w.layer({w.in("x")}).mutable_upsample();
    u->set_mode(spec::UpsampleLayerParams::BILINEAR);
    u->set_linearupsamplemode(halfPixel ? spec::UpsampleLayerParams::ALIGN_CORNERS_FALSE
                                        : spec::UpsampleLayerParams::DEFAULT);
    setFactors(w, *u, h, s);
}

void resizeBilinear(LayerWriter& w) {
    const std::string mode = w.params().getString("sampling_mode");
    if (mode == "STRICT_ALIGN_CORNERS") return resizeTo(w, spec::SamplingMode::STRICT_ALIGN_ENDPOINTS_MODE);
    if (mode == "ALIGN_CORNERS") return resizeTo(w, spec::SamplingMode::ALIGN_ENDPOINTS_MODE);
    if (mode == "DEFAULT") return resizeTo(w, spec::SamplingMode::UPSAMPLE_MODE);
    if (mode == "OFFSET_CORNERS") return resizeTo(w, spec::SamplingMode::ROI_ALIGN_MODE);
    // UNALIGN_CORNERS (half-pixel centers) is the Upsample layer's ALIGN_CORNERS_FALSE mode.
    const TensorType& x = w.type("x");
    const TensorType& out = w.outType();
    if (!x.isStatic() || !out.isStatic()) w.unsupported("resize_bilinear UNALIGN_CORNERS with flexible sizes");
    const auto in = x.sizes(), o = out.sizes();
    const size_t r = in.size();
    w.require(Target::iOS14, "bilinear resizing with half-pixel centers");
    auto* u = w.layer({w.in("x")}).mutable_upsample();
    u->set_mode(spec::UpsampleLayerParams::BILINEAR);
    u->set_linearupsamplemode(spec::UpsampleLayerParams::ALIGN_CORNERS_FALSE);
    setFactors(w, *u, static_cast<double>(o[r - 2]) / static_cast<double>(in[r - 2]),
               static_cast<double>(o[r - 1]) / static_cast<double>(in[r - 1]));
}

// UpsampleLayerParams -> upsample_nearest_neighbor (NN) or upsample_bilinear with the linear mode's
// corner alignment.
void readUpsample(LayerReader& r) {
    const auto& p = r.layer().upsample();
    mil::OperandList ops{{"x", r.in()}};
    if (p.fractionalscalingfactor_size() == 2) {
        ops.push_back({"scale_factor_height", double{p.fractionalscalingfactor(0)}});
        ops.push_back({"scale_factor_width", double{p.fractionalscalingfactor(1)}});
    } else if (p.scalingfactor_size() == 2) {
        ops.push_back({"scale_factor_height", static_cast<int64_t>(p.scalingfactor(0))});
        ops.push_back({"scale_factor_width", static_cast<int64_t>(p.scalingfactor(1))});
    } else {
        r.fail("needs two scaling factors");
    }
    if (p.mode() == spec::UpsampleLayerParams::NN) return r.out(r.add("upsample_nearest_neighbor", ops));
    const auto mode = p.linearupsamplemode();
    ops.push_back({"align_corners", mode == spec::UpsampleLayerParams::ALIGN_CORNERS_TRUE});
    ops.push_back({"half_pixel_centers", mode == spec::UpsampleLayerParams::ALIGN_CORNERS_FALSE});
    r.out(r.add("upsample_bilinear", ops));
}

// ResizeBilinearLayerParams -> resize_bilinear with the sampling mode's MIL name.
void readResizeBilinear(LayerReader& r) {
    const auto& p = r.layer().resizebilinear();
    if (p.targetsize_size() != 2) r.fail("needs a target size [H, W]");
    const char* mode = "DEFAULT";
    switch (p.mode().samplingmethod()) {
        case spec::SamplingMode::STRICT_ALIGN_ENDPOINTS_MODE: mode = "STRICT_ALIGN_CORNERS"; break;
        case spec::SamplingMode::ALIGN_ENDPOINTS_MODE: mode = "ALIGN_CORNERS"; break;
        case spec::SamplingMode::UPSAMPLE_MODE: mode = "DEFAULT"; break;
        case spec::SamplingMode::ROI_ALIGN_MODE: mode = "OFFSET_CORNERS"; break;
        default: r.fail("unknown sampling mode");
    }
    r.out(r.add("resize_bilinear", {{"x", r.in()},
                                    {"target_size_height", static_cast<int64_t>(p.targetsize(0))},
                                    {"target_size_width", static_cast<int64_t>(p.targetsize(1))},
                                    {"sampling_mode", mode}}));
}

}  // namespace

void populateImageLayers(LayerTable& t) {
    t.add("upsample_nearest_neighbor", upsampleNearest);
    t.add("upsample_bilinear", upsampleBilinear);
    t.add("resize_bilinear", resizeBilinear);
    t.reads(spec::NeuralNetworkLayer::kUpsample, readUpsample);
    t.reads(spec::NeuralNetworkLayer::kResizeBilinear, readResizeBilinear);
}

TS2COREML_FAMILY(LayerTable, Image, populateImageLayers)

}  // namespace ts2coreml::nn
