#include "backend/mlprogram/MLPackageWriter.h"

#include "backend/Description.h"
#include "backend/StagedOutput.h"
#include "backend/mlprogram/BlobWriter.h"

#include <ts2coreml/OpSchema.h>

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <nlohmann/json.hpp>

#include "MIL.pb.h"
#include "Model.pb.h"

#include <c10/util/Half.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
namespace milspec = ts2coreml::spec::MILSpec;

namespace ts2coreml {

namespace {

constexpr const char* kWeightPath = "@model_path/weights/weight.bin";

milspec::DataType milDataType(DType d) {
    switch (d) {
        case DType::Bool: return milspec::BOOL;
        case DType::Int8: return milspec::INT8;
        case DType::UInt8: return milspec::UINT8;
        case DType::Int16: return milspec::INT16;
        case DType::Int32: return milspec::INT32;
        case DType::Int64: return milspec::INT64;
        case DType::Float16: return milspec::FLOAT16;
        case DType::Float32: return milspec::FLOAT32;
        case DType::Float64: return milspec::FLOAT64;
        case DType::String: return milspec::STRING;
    }
    return milspec::UNUSED_TYPE;
}

void fillValueType(const TensorType& t, milspec::ValueType& out) {
    auto* tensor = out.mutable_tensortype();
    tensor->set_datatype(milDataType(t.dtype));
    tensor->set_rank(static_cast<int64_t>(t.rank()));
    for (const Dim& d : t.shape) {
        auto* dim = tensor->add_dimensions();
        if (d.isStatic())
            dim->mutable_constant()->set_size(static_cast<uint64_t>(d.size));
        else
            dim->mutable_unknown()->set_variadic(false);
    }
}

void stringValue(const std::string& s, milspec::Value& out) {
    fillValueType(TensorType{DType::String, {}}, *out.mutable_type());
    out.mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values(s);
}

/// An inline constant, converting the payload to the declared dtype where they differ.
void immediateValue(const mil::ConstData& c, const TensorType& declared, milspec::Value& out) {
    fillValueType(declared, *out.mutable_type());
    auto* tensor = out.mutable_immediatevalue()->mutable_tensor();
    const size_t n = static_cast<size_t>(c.numel());
    switch (declared.dtype) {
        case DType::Float32:
            for (size_t i = 0; i < n; ++i) tensor->mutable_floats()->add_values(static_cast<float>(c.asDouble(i)));
            break;
        case DType::Float16: {
            std::string bytes(n * 2, '\0');
            for (size_t i = 0; i < n; ++i) {
                c10::Half h(static_cast<float>(c.asDouble(i)));
                std::memcpy(&bytes[i * 2], &h, 2);
            }
            tensor->mutable_bytes()->set_values(bytes);
            break;
        }
        case DType::Int32:
            for (size_t i = 0; i < n; ++i) tensor->mutable_ints()->add_values(static_cast<int32_t>(c.asInt(i)));
            break;
        case DType::Bool:
            for (size_t i = 0; i < n; ++i) tensor->mutable_bools()->add_values(c.asDouble(i) != 0.0);
            break;
        case DType::String:
            for (const auto& s : c.strings) tensor->mutable_strings()->add_values(s);
            break;
        case DType::Int8:
        case DType::UInt8:
            tensor->mutable_bytes()->set_values(std::string(static_cast<const char*>(c.data), c.nbytes));
            break;
        default:
            throw std::invalid_argument(std::string("cannot write an inline ") + dtypeName(declared.dtype) +
                                        " constant");
    }
}

class ProgramWriter {
public:
    ProgramWriter(BlobWriter& blobs) : blobs_(blobs) {}

    void writeBlock(const mil::Block& block, milspec::Block& out, bool declareInputs = true) {
        for (const auto& in : block.inputs()) {
            if (!declareInputs) break;
            auto* nvt = out.add_inputs();
            nvt->set_name(in->name());
            fillValueType(in->type(), *nvt->mutable_type());
        }
        for (const auto& op : block.operations()) writeOperation(*op, out);
        for (const mil::Value* v : block.outputs()) out.add_outputs(v->name());
    }

    size_t operations() const { return operations_; }

private:
    void writeConst(const std::string& name, const mil::ConstData& c, const TensorType& type, milspec::Block& out) {
        auto* op = out.add_operations();
        op->set_type("const");
        auto* nvt = op->add_outputs();
        nvt->set_name(name);
        fillValueType(type, *nvt->mutable_type());
        stringValue(name, (*op->mutable_attributes())["name"]);
        milspec::Value& val = (*op->mutable_attributes())["val"];
        if (c.numel() >= kMinBlobElements && BlobWriter::canStore(type.dtype) && type.dtype != DType::String) {
            fillValueType(type, *val.mutable_type());
            auto* blob = val.mutable_blobfilevalue();
            blob->set_filename(kWeightPath);
            blob->set_offset(blobs_.append(c, type.dtype));
        } else {
            immediateValue(c, type, val);
        }
        ++operations_;
    }

    void writeOperation(const mil::Operation& op, milspec::Block& out) {
        if (op.type() == "const") {
            writeConst(op.output()->name(), *op.constData(), op.output()->type(), out);
            return;
        }
        // Core ML's defaults are written out, as Apple's tool does, so the file states every input.
        std::map<std::string, std::string> defaults;
        if (const mil::OpSchema* schema = mil::SchemaTable::instance().find(op.type())) {
            for (const auto& spec : schema->inputs) {
                if (op.inputList(spec.name) || std::holds_alternative<std::monostate>(spec.defaultValue)) continue;
                const std::string name = op.output()->name() + "_" + spec.name;
                auto data = literalConst(spec.defaultValue);
                TensorType type = TensorType::of(data->dtype, data->sizes);
                if (!spec.typeVar.empty() && isFloat(type.dtype))
                    for (const auto& other : schema->inputs)
                        if (other.typeVar == spec.typeVar && op.input(other.name))
                            type.dtype = op.input(other.name)->type().dtype;
                writeConst(name, *data, type, out);
                defaults[spec.name] = name;
            }
        }
        auto* o = out.add_operations();
        o->set_type(op.type());
        for (const auto& [name, values] : op.inputs()) {
            auto& arg = (*o->mutable_inputs())[name];
            for (const mil::Value* v : values) arg.add_arguments()->set_name(v->name());
        }
        for (const auto& [name, valueName] : defaults)
            (*o->mutable_inputs())[name].add_arguments()->set_name(valueName);
        for (const auto& v : op.outputs()) {
            auto* nvt = o->add_outputs();
            nvt->set_name(v->name());
            fillValueType(v->type(), *nvt->mutable_type());
        }
        stringValue(op.output()->name(), (*o->mutable_attributes())["name"]);
        for (const auto& b : op.blocks()) writeBlock(*b, *o->add_blocks());
        ++operations_;
    }

    static std::shared_ptr<mil::ConstData> literalConst(const mil::Literal& l) {
        if (auto* b = std::get_if<bool>(&l)) return mil::ConstData::fromBools({*b}, {});
        if (auto* i = std::get_if<int64_t>(&l)) return mil::ConstData::fromInts({static_cast<int32_t>(*i)}, {});
        if (auto* d = std::get_if<double>(&l)) return mil::ConstData::fromFloats({static_cast<float>(*d)}, {});
        if (auto* s = std::get_if<std::string>(&l)) return mil::ConstData::fromString(*s);
        if (auto* v = std::get_if<std::vector<int64_t>>(&l))
            return mil::ConstData::fromInts(std::vector<int32_t>(v->begin(), v->end()),
                                            {static_cast<int64_t>(v->size())});
        const auto& v = std::get<std::vector<double>>(l);
        return mil::ConstData::fromFloats(std::vector<float>(v.begin(), v.end()), {static_cast<int64_t>(v.size())});
    }

    BlobWriter& blobs_;
    size_t operations_ = 0;
};

std::string newUuid() {
    return boost::algorithm::to_upper_copy(boost::uuids::to_string(boost::uuids::random_generator()()));
}

// As Apple's tool makes a classifier: a `classify` op after the probabilities, taking the labels as a
// constant list of strings, outputs the predicted label (string) and a label -> probability
// dictionary, which replace the probabilities as the function's outputs.
void appendClassify(const std::vector<std::string>& labels, milspec::Block& block) {
    const std::string probabilities = block.outputs(0);
    const std::string classes = std::string(kClassLabelOutput) + "_classes";
    auto* c = block.add_operations();
    c->set_type("const");
    auto* out = c->add_outputs();
    out->set_name(classes);
    auto* list = out->mutable_type()->mutable_listtype();
    fillValueType(TensorType{DType::String, {}}, *list->mutable_type());
    list->mutable_length()->mutable_constant()->set_size(labels.size());
    stringValue(classes, (*c->mutable_attributes())["name"]);
    milspec::Value& val = (*c->mutable_attributes())["val"];
    *val.mutable_type() = out->type();
    auto* values = val.mutable_immediatevalue()->mutable_list();
    for (const auto& label : labels) stringValue(label, *values->add_values());

    auto* op = block.add_operations();
    op->set_type("classify");
    (*op->mutable_inputs())["probabilities"].add_arguments()->set_name(probabilities);
    (*op->mutable_inputs())["classes"].add_arguments()->set_name(classes);
    auto* label = op->add_outputs();
    label->set_name(kClassLabelOutput);
    fillValueType(TensorType{DType::String, {}}, *label->mutable_type());
    auto* probs = op->add_outputs();
    probs->set_name(std::string(kClassLabelOutput) + "_probs");
    auto* dict = probs->mutable_type()->mutable_dictionarytype();
    fillValueType(TensorType{DType::String, {}}, *dict->mutable_keytype());
    fillValueType(TensorType{DType::Float64, {}}, *dict->mutable_valuetype());
    stringValue(kClassLabelOutput, (*op->mutable_attributes())["name"]);
    block.clear_outputs();
    block.add_outputs(label->name());
    block.add_outputs(probs->name());
}

void writeManifest(const fs::path& path) {
    const std::string modelId = newUuid(), weightsId = newUuid();
    nlohmann::ordered_json manifest = {
        {"fileFormatVersion", "1.0.0"},
        {"itemInfoEntries",
         {{modelId,
           {{"author", "com.apple.CoreML"},
            {"description", "CoreML Model Specification"},
            {"name", "model.mlmodel"},
            {"path", "com.apple.CoreML/model.mlmodel"}}},
          {weightsId,
           {{"author", "com.apple.CoreML"},
            {"description", "CoreML Model Weights"},
            {"name", "weights"},
            {"path", "com.apple.CoreML/weights"}}}}},
        {"rootModelIdentifier", modelId},
    };
    std::ofstream out(path);
    out << manifest.dump(4) << "\n";
    if (!out) throw writeFailure(path);
}

}  // namespace

PackageStats writeMLPackage(const mil::Program& program, const ModelOptions& options, const std::string& path) {
    if (options.target < Target::iOS15)
        throw std::invalid_argument(std::string("an ML Program needs iOS15 or later (target is ") +
                                    targetName(options.target) + "); write a .mlmodel for older targets");
    mil::walk(program.main().body, [&](const mil::Operation& op) {
        if (op.type() == mil::kCustomLayerOp)
            throw std::invalid_argument("op '" + (op.outputs().empty() ? op.type() : op.output()->name()) +
                                        "' is a custom layer (class '" +
                                        (op.customLayer() ? op.customLayer()->className : "?") +
                                        "'); an ML Program cannot hold custom layers: write a .mlmodel");
    });
    StagedOutput staged(path, OutputKind::Package);
    const fs::path data = staged.path() / "Data" / "com.apple.CoreML";
    fs::create_directories(data / "weights");

    spec::Model model;
    model.set_specificationversion(specificationVersion(options.target));
    fillDescription(program, options, *model.mutable_description());

    BlobWriter blobs((data / "weights" / "weight.bin").string());
    ProgramWriter writer(blobs);
    auto* prog = model.mutable_mlprogram();
    prog->set_version(1);
    for (const auto& [name, fn] : program.functions) {
        milspec::Function& f = (*prog->mutable_functions())[name];
        f.set_opset(fn.opset);
        milspec::Block& block = (*f.mutable_block_specializations())[fn.opset];
        for (const auto& in : fn.body.inputs()) {
            auto* nvt = f.add_inputs();
            nvt->set_name(in->name());
            fillValueType(in->type(), *nvt->mutable_type());
        }
        // A function's inputs are declared on the function; its body block has none.
        writer.writeBlock(fn.body, block, /*declareInputs=*/false);
        if (name == "main" && !options.classLabels.empty()) appendClassify(options.classLabels, block);
    }
    if (!options.classLabels.empty())
        fillClassifierOutputs(std::string(kClassLabelOutput) + "_probs", *model.mutable_description());
    blobs.finish();

    {
        std::ofstream out(data / "model.mlmodel", std::ios::binary | std::ios::trunc);
        if (!model.SerializeToOstream(&out) || !out.flush()) throw writeFailure(data / "model.mlmodel");
    }
    writeManifest(staged.path() / "Manifest.json");
    staged.commit();
    return {blobs.count(), blobs.bytesWritten(), writer.operations()};
}

}  // namespace ts2coreml
