#include "backend/mlprogram/ProgramReader.h"

#include "backend/ReadError.h"
#include "mil/IRAccess.h"
#include "runtime/TensorSupport.h"

#include <ts2coreml/OpSchema.h>

#include <algorithm>
#include <cstring>

namespace ts2coreml::backend {

namespace proto = spec::MILSpec;

std::optional<DType> dtypeFromProto(proto::DataType type) {
    switch (type) {
        case proto::BOOL: return DType::Bool;
        case proto::STRING: return DType::String;
        case proto::FLOAT16: return DType::Float16;
        case proto::FLOAT32: return DType::Float32;
        case proto::FLOAT64: return DType::Float64;
        case proto::INT8: return DType::Int8;
        case proto::INT16: return DType::Int16;
        case proto::INT32: return DType::Int32;
        case proto::INT64: return DType::Int64;
        case proto::UINT8: return DType::UInt8;
        default: return std::nullopt;
    }
}

ProgramReader::ProgramReader(std::string modelPath, std::string modelDir)
    : modelPath_(std::move(modelPath)), modelDir_(std::move(modelDir)) {}

void ProgramReader::fail(const std::string& message) const { throw ModelReadError(modelPath_, message); }

std::shared_ptr<void> ProgramReader::keepAlive() const {
    return std::make_shared<std::map<std::string, std::shared_ptr<BlobStorageReader>>>(blobFiles_);
}

std::unique_ptr<mil::Program> ProgramReader::read(const proto::Program& program) {
    auto out = std::make_unique<mil::Program>();
    if (program.functions().empty()) fail("the ML Program has no functions");
    // Sorted by name, so that reading is deterministic (protobuf maps are unordered).
    std::map<std::string, const proto::Function*> functions;
    for (const auto& [name, fn] : program.functions()) functions.emplace(name, &fn);
    for (const auto& [name, fn] : functions) readFunction(name, *fn, out->functions[name]);
    if (!out->functions.count("main")) fail("the ML Program has no 'main' function");
    return out;
}

void ProgramReader::readFunction(const std::string& name, const proto::Function& proto, mil::Function& fn) {
    fn.opset = proto.opset();
    const auto& specializations = proto.block_specializations();
    auto it = specializations.find(proto.opset());
    if (it == specializations.end()) {
        if (specializations.size() != 1)
            fail("function '" + name + "' has no block for its opset '" + proto.opset() + "'");
        it = specializations.begin();
    }
    scopes_.assign(1, Scope{});
    for (const auto& in : proto.inputs())
        define(fn.body.addInput(in.name(), typeOf(in.type(), "input '" + in.name() + "'")));
    readBlock(it->second, fn.body);
    scopes_.clear();
}

void ProgramReader::readBlock(const proto::Block& proto, mil::Block& block) {
    for (const auto& in : proto.inputs())
        define(block.addInput(in.name(), typeOf(in.type(), "block input '" + in.name() + "'")));
    for (const auto& op : proto.operations()) readOperation(op, block);
    for (const auto& name : proto.outputs())
        if (std::find(omittedOutputs_.begin(), omittedOutputs_.end(), name) == omittedOutputs_.end())
            block.outputs().push_back(lookup(name, "a block output"));
}

mil::Value* ProgramReader::lookup(const std::string& name, const std::string& user) const {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
        auto it = scope->find(name);
        if (it != scope->end()) return it->second;
    }
    fail(user + " refers to unknown value '" + name + "' (no operation or input defines it before its use)");
}

void ProgramReader::define(mil::Value* v) {
    if (!scopes_.back().emplace(v->name(), v).second) fail("value '" + v->name() + "' is defined twice");
}

TensorType ProgramReader::typeOf(const proto::ValueType& type, const std::string& what) const {
    if (type.type_case() != proto::ValueType::kTensorType)
        fail(what + " is not a tensor (list, tuple, dictionary and state values are not supported)");
    const proto::TensorType& t = type.tensortype();
    const auto dtype = dtypeFromProto(t.datatype());
    if (!dtype) fail(what + " has unsupported data type " + proto::DataType_Name(t.datatype()));
    if (t.rank() < 0) fail(what + " has an unknown rank, which is not supported");
    if (static_cast<int64_t>(t.dimensions_size()) != t.rank())
        fail(what + " declares rank " + std::to_string(t.rank()) + " but lists " + std::to_string(t.dimensions_size()) +
             " dimensions");
    TensorType out;
    out.dtype = *dtype;
    for (int i = 0; i < t.dimensions_size(); ++i) {
        const auto& d = t.dimensions(i);
        if (d.dimension_case() == proto::Dimension::kConstant) {
            out.shape.push_back(Dim::fixed(static_cast<int64_t>(d.constant().size())));
        } else if (d.dimension_case() == proto::Dimension::kUnknown && !d.unknown().variadic()) {
            out.shape.push_back(Dim::symbolic("s" + std::to_string(symbolCount_++), 0, -1));
        } else {
            fail(what + " has a variadic or missing dimension " + std::to_string(i));
        }
    }
    return out;
}

const BlobStorageReader& ProgramReader::blobFile(const std::string& fileName, const std::string& what) {
    static const std::string kModelPath = "@model_path/";
    if (fileName.compare(0, kModelPath.size(), kModelPath) != 0)
        fail(what + " refers to weight file '" + fileName + "', which is not under @model_path/");
    const std::string path = modelDir_ + "/" + fileName.substr(kModelPath.size());
    auto& reader = blobFiles_[path];
    if (!reader) reader = std::make_shared<BlobStorageReader>(path);
    return *reader;
}

std::shared_ptr<const mil::ConstData> ProgramReader::constOf(const proto::Value& value, const std::string& what) {
    const TensorType type = typeOf(value.type(), what);
    if (!type.isStatic()) fail(what + " is a constant of non-static type " + type.str());
    switch (value.value_case()) {
        case proto::Value::kBlobFileValue: {
            const auto& ref = value.blobfilevalue();
            ++blobCount_;
            return blobFile(ref.filename(), what).read(ref.offset(), type.dtype, type.sizes());
        }
        case proto::Value::kImmediateValue:
            if (value.immediatevalue().value_case() != proto::Value::ImmediateValue::kTensor)
                fail(what + " is an immediate tuple, list or dictionary, which is not supported");
            return immediate(value.immediatevalue().tensor(), type, what);
        default: fail(what + " has no value");
    }
}

namespace {

template <typename Field>
at::Tensor fieldTensor(const Field& values, at::ScalarType type) {
    return at::from_blob(const_cast<void*>(static_cast<const void*>(values.data())),
                         {static_cast<int64_t>(values.size())}, at::TensorOptions().dtype(type));
}

std::shared_ptr<mil::ConstData> constFromTensor(const at::Tensor& t, DType dtype, const std::vector<int64_t>& sizes) {
    const at::Tensor c = t.to(runtime::scalarType(dtype)).contiguous();
    std::vector<uint8_t> bytes(c.nbytes());
    if (!bytes.empty()) std::memcpy(bytes.data(), c.data_ptr(), bytes.size());
    return mil::ConstData::fromBytes(dtype, sizes, std::move(bytes));
}

}  // namespace

std::shared_ptr<const mil::ConstData> ProgramReader::immediate(const proto::TensorValue& t, const TensorType& type,
                                                               const std::string& what) const {
    const std::vector<int64_t> sizes = type.sizes();
    const int64_t numel = type.numel();
    if (type.dtype == DType::String) {
        if (t.value_case() != proto::TensorValue::kStrings || t.strings().values_size() != 1 || numel != 1)
            fail(what + " must be a single string (string tensors are not supported)");
        return mil::ConstData::fromString(t.strings().values(0));
    }
    at::Tensor values;
    switch (t.value_case()) {
        case proto::TensorValue::kFloats: values = fieldTensor(t.floats().values(), at::kFloat); break;
        case proto::TensorValue::kDoubles: values = fieldTensor(t.doubles().values(), at::kDouble); break;
        case proto::TensorValue::kInts: values = fieldTensor(t.ints().values(), at::kInt); break;
        case proto::TensorValue::kLongInts: values = fieldTensor(t.longints().values(), at::kLong); break;
        case proto::TensorValue::kBools: values = fieldTensor(t.bools().values(), at::kBool); break;
        case proto::TensorValue::kBytes: {
            // Raw little-endian elements of the declared dtype (how fp16 immediates travel).
            const std::string& raw = t.bytes().values();
            const auto want = static_cast<size_t>(numel) * dtypeSize(type.dtype);
            if (raw.size() != want)
                fail(what + " holds " + std::to_string(raw.size()) + " bytes but its type " + type.str() + " needs " +
                     std::to_string(want));
            return mil::ConstData::fromBytes(type.dtype, sizes, std::vector<uint8_t>(raw.begin(), raw.end()));
        }
        case proto::TensorValue::kStrings: fail(what + " holds strings but its type is " + type.str());
        default:
            if (numel != 0)
                fail(what + " holds no values but its type " + type.str() + " needs " + std::to_string(numel));
            return constFromTensor(at::empty({0}), type.dtype, sizes);
    }
    if (values.numel() != numel)
        fail(what + " holds " + std::to_string(values.numel()) + " values but its type " + type.str() + " has " +
             std::to_string(numel));
    return constFromTensor(values, type.dtype, sizes);
}

bool ProgramReader::readClassifierOp(const proto::Operation& proto, const std::string& where) {
    if (proto.type() == "const") {
        auto it = proto.attributes().find("val");
        if (it == proto.attributes().end() || !it->second.type().has_listtype()) return false;
        std::vector<std::string> strings;
        for (const auto& v : it->second.immediatevalue().list().values()) {
            const auto& t = v.immediatevalue().tensor();
            if (!t.has_strings() || t.strings().values_size() != 1)
                fail(where + " is a list of something other than strings");
            strings.push_back(t.strings().values(0));
        }
        stringLists_[proto.outputs(0).name()] = std::move(strings);
        return true;
    }
    if (proto.type() != "classify") return false;
    auto argument = [&](const char* name) -> std::string {
        auto it = proto.inputs().find(name);
        if (it == proto.inputs().end() || it->second.arguments_size() != 1 || it->second.arguments(0).name().empty())
            fail(where + " needs input '" + name + "'");
        return it->second.arguments(0).name();
    };
    auto classes = stringLists_.find(argument("classes"));
    if (classes == stringLists_.end()) fail(where + " input 'classes' is not a constant list of strings");
    if (proto.outputs_size() != 2) fail(where + " must have two outputs (label, probabilities)");
    classLabels_ = classes->second;
    mil::Value* probabilities = lookup(argument("probabilities"), where + " input 'probabilities'");
    omittedOutputs_.push_back(proto.outputs(0).name());
    scopes_.back()[proto.outputs(1).name()] = probabilities;
    return true;
}

void ProgramReader::readOperation(const proto::Operation& proto, mil::Block& block) {
    std::string opName;
    if (auto it = proto.attributes().find("name"); it != proto.attributes().end()) {
        const auto& v = it->second;
        if (v.has_immediatevalue() && v.immediatevalue().tensor().has_strings() &&
            v.immediatevalue().tensor().strings().values_size() == 1)
            opName = v.immediatevalue().tensor().strings().values(0);
    }
    if (opName.empty() && proto.outputs_size() > 0) opName = proto.outputs(0).name();
    const std::string where = "op '" + opName + "' (" + proto.type() + ")";
    if (proto.outputs_size() == 0) fail(where + " has no outputs");
    if (readClassifierOp(proto, where)) return;

    auto op = std::make_unique<mil::Operation>(proto.type(), &block);
    op->setLocation(opName);

    // Inputs in the schema's order when the op is known (protobuf maps are unordered).
    std::vector<std::string> order;
    if (const mil::OpSchema* schema = mil::SchemaTable::instance().find(proto.type()))
        for (const auto& in : schema->inputs)
            if (proto.inputs().count(in.name)) order.push_back(in.name);
    std::map<std::string, const proto::Argument*> sorted;
    for (const auto& [name, arg] : proto.inputs()) sorted.emplace(name, &arg);
    for (const auto& [name, arg] : sorted)
        if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);

    for (const std::string& name : order) {
        const proto::Argument& arg = proto.inputs().at(name);
        std::vector<mil::Value*> values;
        for (const auto& binding : arg.arguments()) {
            if (binding.binding_case() == proto::Argument::Binding::kName) {
                values.push_back(lookup(binding.name(), where + " input '" + name + "'"));
            } else if (binding.binding_case() == proto::Argument::Binding::kValue) {
                // An inline value: a const op of its own, so every input is a Value.
                const std::string what = where + " inline input '" + name + "'";
                auto c = std::make_unique<mil::Operation>("const", &block);
                c->setLocation(opName);
                auto data = constOf(binding.value(), what);
                const TensorType t = typeOf(binding.value().type(), what);
                c->setConstData(std::move(data));
                values.push_back(c->addOutput(opName + "/" + name + "#inline" + std::to_string(inlineCount_++), t));
                mil::IRAccess::operations(block).push_back(std::move(c));
            } else {
                fail(where + " input '" + name + "' has an empty binding");
            }
        }
        mil::IRAccess::inputs(*op).emplace_back(name, std::move(values));
    }

    std::vector<TensorType> outTypes;
    for (const auto& out : proto.outputs())
        outTypes.push_back(typeOf(out.type(), where + " output '" + out.name() + "'"));

    if (proto.type() == "const") {
        auto it = proto.attributes().find("val");
        if (it == proto.attributes().end()) fail(where + " has no 'val' attribute");
        auto data = constOf(it->second, where);
        const TensorType& declared = outTypes.front();
        const bool sameType =
            data->dtype == declared.dtype &&
            (data->dtype == DType::String || (declared.isStatic() && data->sizes == declared.sizes()));
        if (!sameType)
            fail(where + " output type " + declared.str() + " differs from its value's type " +
                 TensorType::of(data->dtype, data->sizes).str());
        op->setConstData(std::move(data));
    }

    for (size_t i = 0; i < outTypes.size(); ++i)
        define(op->addOutput(proto.outputs(static_cast<int>(i)).name(), outTypes[i]));

    for (const auto& b : proto.blocks()) {
        auto nested = std::make_unique<mil::Block>(op.get());
        scopes_.emplace_back();
        readBlock(b, *nested);
        scopes_.pop_back();
        mil::IRAccess::blocks(*op).push_back(std::move(nested));
    }
    mil::IRAccess::operations(block).push_back(std::move(op));
}

}  // namespace ts2coreml::backend
