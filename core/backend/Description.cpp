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

void fillDescription(const mil::Program& program, const ModelOptions& options, spec::ModelDescription& out) {
    const mil::Function& fn = program.main();
    for (const auto& in : fn.body.inputs()) {
        auto* f = out.add_input();
        f->set_name(in->name());
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
