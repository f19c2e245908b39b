#include "backend/Description.h"

#include <stdexcept>

namespace ts2coreml {

spec::ArrayFeatureType::ArrayDataType arrayDataType(DType dtype) {
    switch (dtype) {
        case DType::Float32: return spec::ArrayFeatureType::FLOAT32;
        case DType::Float16: return spec::ArrayFeatureType::FLOAT16;
        case DType::Float64: return spec::ArrayFeatureType::DOUBLE;
        case DType::Int32: return spec::ArrayFeatureType::INT32;
        default: throw std::invalid_argument(std::string("Core ML has no multi-array of ") + dtypeName(dtype));
    }
}

void fillFeatureType(const TensorType& type, const std::vector<std::vector<int64_t>>& enumerated,
                     spec::FeatureType& out) {
    if (enumerated.empty()) return fillFeatureType(type, out);
    auto* array = out.mutable_multiarraytype();
    array->set_datatype(arrayDataType(type.dtype));
    // The default shape is the first one listed; Core ML checks it is among the enumerated ones.
    for (int64_t s : enumerated.front()) array->add_shape(s);
    auto* shapes = array->mutable_enumeratedshapes();
    for (const auto& sizes : enumerated) {
        auto* shape = shapes->add_shapes();
        for (int64_t s : sizes) shape->add_shape(s);
    }
}

void fillFeatureType(const TensorType& type, spec::FeatureType& out) {
    auto* array = out.mutable_multiarraytype();
    array->set_datatype(arrayDataType(type.dtype));
    bool flexible = false;
    for (const Dim& d : type.shape) {
        array->add_shape(d.isStatic() ? d.size : d.lower);
        flexible = flexible || !d.isStatic();
    }
    if (flexible) {
        auto* ranges = array->mutable_shaperange();
        for (const Dim& d : type.shape) {
            auto* r = ranges->add_sizeranges();
            r->set_lowerbound(static_cast<uint64_t>(d.isStatic() ? d.size : d.lower));
            r->set_upperbound(d.isStatic() ? d.size : d.upper);
        }
    }
}

namespace {

const ImageInput* imageNamed(const ModelOptions& options, const std::string& name) {
    for (const ImageInput& img : options.images)
        if (img.name == name) return &img;
    return nullptr;
}

int64_t channelsOf(ColorLayout layout) { return layout == ColorLayout::Grayscale ? 1 : 3; }

}  // namespace

std::vector<std::string> checkModelOptions(const mil::Program& program, const ModelOptions& options) {
    std::vector<std::string> problems;
    const mil::Function& fn = program.main();
    for (const ImageInput& img : options.images) {
        const mil::Value* input = nullptr;
        for (const auto& in : fn.body.inputs())
            if (in->name() == img.name) input = in.get();
        const std::string what = "--image " + img.name;
        if (!input) {
            problems.push_back(what + ": the model has no input of that name");
            continue;
        }
        const TensorType& t = input->type();
        const int64_t c = channelsOf(img.layout);
        if (t.dtype != DType::Float32 || t.rank() != 4 || !t.shape[0].isStatic() || t.shape[0].size != 1 ||
            !t.shape[1].isStatic() || t.shape[1].size != c)
            problems.push_back(what + ": an image input must be fp32 [1, " + std::to_string(c) + ", H, W] (got " +
                               t.str() + ")");
        if (static_cast<int64_t>(img.bias.size()) != c)
            problems.push_back(what + ": " + std::to_string(img.bias.size()) + " bias values for " + std::to_string(c) +
                               " channels");
    }
    if (!options.classLabels.empty()) {
        if (fn.body.outputs().size() != 1) {
            problems.push_back("--class-labels: a classifier needs exactly one output (the model has " +
                               std::to_string(fn.body.outputs().size()) + ")");
        } else {
            const TensorType& t = fn.body.outputs()[0]->type();
            const auto n = static_cast<int64_t>(options.classLabels.size());
            if (t.rank() == 0 || !t.shape.back().isStatic() || t.shape.back().size != n || t.numel() != n)
                problems.push_back("--class-labels: " + std::to_string(n) + " labels, but the output is " + t.str() +
                                   " (a classifier's output holds one score per label)");
        }
    }
    return problems;
}

void fillClassifierOutputs(const std::string& probabilities, spec::ModelDescription& out) {
    out.clear_output();
    auto* label = out.add_output();
    label->set_name(kClassLabelOutput);
    label->mutable_type()->mutable_stringtype();
    auto* probs = out.add_output();
    probs->set_name(probabilities);
    probs->mutable_type()->mutable_dictionarytype()->mutable_stringkeytype();
    out.set_predictedfeaturename(kClassLabelOutput);
    out.set_predictedprobabilitiesname(probabilities);
}

void fillDescription(const mil::Program& program, const ModelOptions& options, spec::ModelDescription& out) {
    const mil::Function& fn = program.main();
    for (const auto& in : fn.body.inputs()) {
        auto* f = out.add_input();
        f->set_name(in->name());
        if (const ImageInput* img = imageNamed(options, in->name()); img && in->type().isStatic()) {
            const auto sizes = in->type().sizes();
            auto* image = f->mutable_type()->mutable_imagetype();
            image->set_height(sizes[2]);
            image->set_width(sizes[3]);
            image->set_colorspace(img->layout == ColorLayout::RGB   ? spec::ImageFeatureType::RGB
                                  : img->layout == ColorLayout::BGR ? spec::ImageFeatureType::BGR
                                                                    : spec::ImageFeatureType::GRAYSCALE);
            continue;
        }
        const auto enumerated = options.enumeratedShapes.find(in->name());
        if (enumerated != options.enumeratedShapes.end())
            fillFeatureType(in->type(), enumerated->second, *f->mutable_type());
        else
            fillFeatureType(in->type(), *f->mutable_type());
    }
    for (const mil::Value* v : fn.body.outputs()) {
        auto* f = out.add_output();
        f->set_name(v->name());
        auto* array = f->mutable_type()->mutable_multiarraytype();
        array->set_datatype(arrayDataType(v->type().dtype));
        if (v->type().isStatic())
            for (int64_t s : v->type().sizes()) array->add_shape(s);
    }
    const ModelMetadata& m = options.metadata;
    auto* meta = out.mutable_metadata();
    meta->set_author(m.author);
    meta->set_license(m.license);
    meta->set_shortdescription(m.shortDescription);
    meta->set_versionstring(m.version);
    for (const auto& [k, v] : m.userDefined) (*meta->mutable_userdefined())[k] = v;
    (*meta->mutable_userdefined())["com.github.ts2coreml.version"] = "0.1.0";
}

}  // namespace ts2coreml
