#include "backend/ModelReader.h"

#include "backend/mlprogram/ProgramReader.h"
#include "backend/neuralnetwork/NeuralNetworkReader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/stubs/logging.h>
#include <nlohmann/json.hpp>

#include "Model.pb.h"

#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace ts2coreml::backend {

namespace {

/// The first message protobuf logs while a model parses (its reason for refusing one), instead of
/// a "[libprotobuf ERROR ...]" line of its own on stderr.
std::string* protobufLog = nullptr;
void keepProtobufLog(google::protobuf::LogLevel, const char*, int, const std::string& message) {
    if (protobufLog && protobufLog->empty()) *protobufLog = message.substr(0, message.find(". "));
}

/// Parses a Model protobuf. protobuf's default 64 MiB limit would refuse large NeuralNetwork
/// models (weights inside the file, up to 2 GiB), so the limit is raised to the format's maximum.
spec::Model parseModel(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ModelReadError(path, "cannot open the model file");
    spec::Model model;
    bool ok = false;
    std::string why;
    protobufLog = &why;
    google::protobuf::LogHandler* previous = google::protobuf::SetLogHandler(&keepProtobufLog);
    {
        google::protobuf::io::FileInputStream file(fd);
        google::protobuf::io::CodedInputStream coded(&file);
        coded.SetTotalBytesLimit(INT_MAX);
        ok = model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
    }
    google::protobuf::SetLogHandler(previous);
    protobufLog = nullptr;
    ::close(fd);
    if (!ok)
        throw ModelReadError(
            path, "not a Core ML model: the protobuf does not parse" + (why.empty() ? "" : " (" + why + ")"));
    return model;
}

const char* colorSpaceName(spec::ImageFeatureType::ColorSpace c) {
    switch (c) {
        case spec::ImageFeatureType::GRAYSCALE: return "GRAYSCALE";
        case spec::ImageFeatureType::RGB: return "RGB";
        case spec::ImageFeatureType::BGR: return "BGR";
        case spec::ImageFeatureType::GRAYSCALE_FLOAT16: return "GRAYSCALE_FLOAT16";
        default: return "INVALID";
    }
}

Dim rangeDim(uint64_t lower, int64_t upper) {
    const auto lo = static_cast<int64_t>(lower);
    if (upper == lo) return Dim::fixed(lo);
    return Dim::symbolic("", lo, upper);
}

FeatureInfo featureInfo(const spec::FeatureDescription& f, const std::string& path) {
    FeatureInfo info;
    info.name = f.name();
    info.shortDescription = f.shortdescription();
    const spec::FeatureType& type = f.type();
    switch (type.Type_case()) {
        case spec::FeatureType::kMultiArrayType: {
            const auto& a = type.multiarraytype();
            switch (a.datatype()) {
                case spec::ArrayFeatureType::FLOAT32: info.type.dtype = DType::Float32; break;
                case spec::ArrayFeatureType::FLOAT16: info.type.dtype = DType::Float16; break;
                case spec::ArrayFeatureType::DOUBLE: info.type.dtype = DType::Float64; break;
                case spec::ArrayFeatureType::INT32: info.type.dtype = DType::Int32; break;
                case spec::ArrayFeatureType::INT8: info.type.dtype = DType::Int8; break;
                default: throw ModelReadError(path, "feature '" + f.name() + "' has no valid multi-array data type");
            }
            info.defaultShape.assign(a.shape().begin(), a.shape().end());
            for (int64_t s : info.defaultShape) info.type.shape.push_back(Dim::fixed(s));
            if (a.has_shaperange()) {
                const auto& ranges = a.shaperange().sizeranges();
                info.type.shape.clear();
                for (const auto& r : ranges) info.type.shape.push_back(rangeDim(r.lowerbound(), r.upperbound()));
            } else if (a.has_enumeratedshapes()) {
                for (const auto& s : a.enumeratedshapes().shapes())
                    info.enumeratedShapes.emplace_back(s.shape().begin(), s.shape().end());
                if (!info.enumeratedShapes.empty()) {
                    // A dimension is static when every enumerated shape agrees on it.
                    const auto& first = info.enumeratedShapes.front();
                    info.type.shape.clear();
                    for (size_t i = 0; i < first.size(); ++i) {
                        int64_t lo = first[i], hi = first[i];
                        for (const auto& s : info.enumeratedShapes) {
                            if (s.size() != first.size())
                                throw ModelReadError(path,
                                                     "feature '" + f.name() + "' enumerates shapes of different ranks");
                            lo = std::min(lo, s[i]);
                            hi = std::max(hi, s[i]);
                        }
                        info.type.shape.push_back(lo == hi ? Dim::fixed(lo) : Dim::symbolic("", lo, hi));
                    }
                }
            }
            break;
        }
        case spec::FeatureType::kImageType: {
            const auto& img = type.imagetype();
            info.isImage = true;
            info.colorSpace = colorSpaceName(img.colorspace());
            const int64_t channels =
                img.colorspace() == spec::ImageFeatureType::RGB || img.colorspace() == spec::ImageFeatureType::BGR ? 3
                                                                                                                   : 1;
            info.defaultShape = {1, channels, img.height(), img.width()};
            info.type.dtype = DType::Float32;
            Dim h = Dim::fixed(img.height()), w = Dim::fixed(img.width());
            if (img.has_imagesizerange()) {
                h = rangeDim(img.imagesizerange().heightrange().lowerbound(),
                             img.imagesizerange().heightrange().upperbound());
                w = rangeDim(img.imagesizerange().widthrange().lowerbound(),
                             img.imagesizerange().widthrange().upperbound());
            }
            info.type.shape = {Dim::fixed(1), Dim::fixed(channels), h, w};
            for (const auto& s : img.enumeratedsizes().sizes())
                info.enumeratedShapes.push_back(
                    {1, channels, static_cast<int64_t>(s.height()), static_cast<int64_t>(s.width())});
            break;
        }
        case spec::FeatureType::kInt64Type: info.type = TensorType{DType::Int64, {}}; break;
        case spec::FeatureType::kDoubleType: info.type = TensorType{DType::Float64, {}}; break;
        case spec::FeatureType::kStringType: info.type = TensorType{DType::String, {}}; break;
        case spec::FeatureType::kDictionaryType: info.type = TensorType{DType::Float64, {}}; break;
        default:
            throw ModelReadError(
                path,
                "feature '" + f.name() + "' is not a multi-array, an image, a string or a dictionary (not supported)");
    }
    return info;
}

/// Dims the program leaves unknown take their bounds (and names) from the description.
void boundInputs(mil::Function& main, const std::vector<FeatureInfo>& features) {
    for (const auto& in : main.body.inputs()) {
        for (const FeatureInfo& f : features) {
            if (f.name != in->name() || f.type.rank() != in->type().rank()) continue;
            TensorType t = in->type();
            for (size_t i = 0; i < t.rank(); ++i) {
                const Dim& d = f.type.shape[i];
                if (t.shape[i].isStatic() || d.isStatic()) continue;
                t.shape[i].lower = d.lower;
                t.shape[i].upper = d.upper;
            }
            in->setType(std::move(t));
        }
    }
}

/// An ML Program applies an image input's preprocessing with ops: the input (through a cast to
/// fp16 in fp16 programs) feeds only `mul` by a constant scalar, whose result feeds only `add` of a
/// constant [1, C, 1, 1] bias.
std::optional<ImagePreprocessing> preprocessingOps(const mil::Function& main, const std::string& input) {
    std::map<const mil::Value*, std::vector<const mil::Operation*>> users;
    mil::walk(main.body, [&](const mil::Operation& op) {
        for (const auto& [name, values] : op.inputs())
            for (const mil::Value* v : values) users[v].push_back(&op);
    });
    const mil::Value* v = nullptr;
    for (const auto& in : main.body.inputs())
        if (in->name() == input) v = in.get();
    auto onlyUser = [&](const mil::Value* value, const char* type) -> const mil::Operation* {
        auto it = users.find(value);
        if (it == users.end() || it->second.size() != 1 || it->second[0]->type() != type) return nullptr;
        return it->second[0];
    };
    if (!v) return std::nullopt;
    if (const mil::Operation* cast = onlyUser(v, "cast")) v = cast->output();
    const mil::Operation* mul = onlyUser(v, "mul");
    if (!mul) return std::nullopt;
    const mil::Operation* add = onlyUser(mul->output(), "add");
    const mil::ConstData* scale = mul->input("y") ? mul->input("y")->constant() : nullptr;
    const mil::ConstData* bias = add && add->input("y") ? add->input("y")->constant() : nullptr;
    if (!scale || scale->numel() != 1 || !bias || bias->sizes.size() != 4) return std::nullopt;
    ImagePreprocessing pre;
    pre.scale = scale->asDouble(0);
    pre.bias = bias->toDoubles();
    return pre;
}

/// Output features take their shape from the program when the description leaves it out.
void completeOutputs(const mil::Function& main, std::vector<FeatureInfo>& features) {
    for (FeatureInfo& f : features)
        for (const mil::Value* v : main.body.outputs())
            if (v->name() == f.name && f.type.shape.empty() && v->type().rank() > 0 && !f.isClassLabel)
                f.type.shape = v->type().shape;
    // A classifier's probabilities are its program's one output.
    for (FeatureInfo& f : features)
        if (f.isProbabilities && main.body.outputs().size() == 1) f.type = main.body.outputs()[0]->type();
}

ReadModel readModelFile(const fs::path& file) {
    const std::string path = file.string();
    if (!fs::is_regular_file(file)) throw ModelReadError(path, "no such model file");
    const spec::Model model = parseModel(path);
    ReadModel out;
    out.specificationVersion = model.specificationversion();
    for (const auto& f : model.description().input()) out.inputs.push_back(featureInfo(f, path));
    for (const auto& f : model.description().output()) out.outputs.push_back(featureInfo(f, path));
    const auto& description = model.description();
    for (FeatureInfo& f : out.outputs) {
        f.isClassLabel = !description.predictedfeaturename().empty() && f.name == description.predictedfeaturename();
        f.isProbabilities =
            !description.predictedprobabilitiesname().empty() && f.name == description.predictedprobabilitiesname();
    }
    const auto& meta = description.metadata();
    out.metadata.author = meta.author();
    out.metadata.license = meta.license();
    out.metadata.shortDescription = meta.shortdescription();
    out.metadata.version = meta.versionstring();
    for (const auto& [k, v] : meta.userdefined()) out.metadata.userDefined[k] = v;

    switch (model.Type_case()) {
        case spec::Model::kMlProgram: {
            ProgramReader reader(path, file.parent_path().string());
            out.kind = ModelKind::MLProgram;
            out.program = reader.read(model.mlprogram());
            out.blobCount = reader.blobCount();
            out.keepAlive = reader.keepAlive();
            out.classLabels = reader.classLabels();
            for (FeatureInfo& f : out.inputs)
                if (f.isImage) f.preprocessing = preprocessingOps(out.program->main(), f.name);
            break;
        }
        case spec::Model::kNeuralNetwork:
        case spec::Model::kNeuralNetworkClassifier:
        case spec::Model::kNeuralNetworkRegressor:
            out.kind = ModelKind::NeuralNetwork;
            readNeuralNetwork(model, path, out);
            break;
        default:
            throw ModelReadError(path,
                                 "the model is neither an ML Program nor a NeuralNetwork (pipelines and other "
                                 "model kinds are not supported)");
    }
    boundInputs(out.program->main(), out.inputs);
    completeOutputs(out.program->main(), out.outputs);
    return out;
}

ReadModel readPackage(const fs::path& dir) {
    const fs::path manifestPath = dir / "Manifest.json";
    if (!fs::is_regular_file(manifestPath))
        throw ModelReadError(dir.string(), "not an .mlpackage: Manifest.json is missing");
    nlohmann::json manifest;
    try {
        std::ifstream in(manifestPath);
        manifest = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw ModelReadError(manifestPath.string(), std::string("cannot parse: ") + e.what());
    }
    std::string itemPath;
    try {
        const std::string root = manifest.at("rootModelIdentifier").get<std::string>();
        const auto& entries = manifest.at("itemInfoEntries");
        if (!entries.contains(root))
            throw ModelReadError(manifestPath.string(),
                                 "rootModelIdentifier '" + root + "' names no itemInfoEntries entry");
        itemPath = entries.at(root).at("path").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw ModelReadError(manifestPath.string(), std::string("malformed manifest: ") + e.what());
    }
    const fs::path model = dir / "Data" / itemPath;
    if (!fs::is_regular_file(model))
        throw ModelReadError(model.string(), "the root model named by " + manifestPath.string() + " is missing");
    return readModelFile(model);
}

}  // namespace

ReadModel readModel(const std::string& path) {
    const fs::path p(path);
    if (!fs::exists(p)) throw ModelReadError(path, "no such file or directory");
    if (fs::is_directory(p)) return readPackage(p);
    return readModelFile(p);
}

}  // namespace ts2coreml::backend
