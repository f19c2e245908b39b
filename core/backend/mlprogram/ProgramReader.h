// Rebuilds a mil::Program from the ML Program protobuf (MIL.proto): functions, block inputs,
// operations with inputs bound by name, output types, and `const` payloads — immediate values, or
// weight blobs aliased from the memory-mapped blob storage.
#pragma once

#include "backend/mlprogram/BlobStorage.h"

#include <ts2coreml/Mil.h>

#include "MIL.pb.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ts2coreml::backend {

/// The MIL dtype of a proto DataType, or nullopt for types MIL IR has no dtype for.
std::optional<DType> dtypeFromProto(spec::MILSpec::DataType type);

class ProgramReader {
public:
    /// `modelPath` names the model file in messages; `modelDir` is what `@model_path` stands for
    /// in blob file names (the directory holding the model file).
    ProgramReader(std::string modelPath, std::string modelDir);

    /// Throws ModelReadError naming the model file (or the weight file) and the value concerned.
    std::unique_ptr<mil::Program> read(const spec::MILSpec::Program& proto);

    size_t blobCount() const { return blobCount_; }
    /// A classifier's labels: the `classes` of its `classify` op. The op itself is not read: its
    /// probabilities output stands for the probabilities it was given, its label output is left out.
    const std::vector<std::string>& classLabels() const { return classLabels_; }
    /// The weight files' readers: their mappings must outlive the program's constants (each
    /// constant also holds its mapping, so this is only for callers that want them all).
    std::shared_ptr<void> keepAlive() const;

private:
    using Scope = std::map<std::string, mil::Value*>;

    void readFunction(const std::string& name, const spec::MILSpec::Function& proto, mil::Function& fn);
    void readBlock(const spec::MILSpec::Block& proto, mil::Block& block);
    void readOperation(const spec::MILSpec::Operation& proto, mil::Block& block);
    /// A classifier's `classify` op or its list-of-strings constant: recorded, not read as ops.
    bool readClassifierOp(const spec::MILSpec::Operation& proto, const std::string& where);
    mil::Value* lookup(const std::string& name, const std::string& user) const;
    void define(mil::Value* v);
    TensorType typeOf(const spec::MILSpec::ValueType& type, const std::string& what) const;
    std::shared_ptr<const mil::ConstData> constOf(const spec::MILSpec::Value& value, const std::string& what);
    std::shared_ptr<const mil::ConstData> immediate(const spec::MILSpec::TensorValue& t, const TensorType& type,
                                                    const std::string& what) const;
    const BlobStorageReader& blobFile(const std::string& fileName, const std::string& what);
    [[noreturn]] void fail(const std::string& message) const;

    std::string modelPath_, modelDir_;
    std::vector<Scope> scopes_;
    std::map<std::string, std::shared_ptr<BlobStorageReader>> blobFiles_;
    size_t blobCount_ = 0;
    std::vector<std::string> classLabels_;
    std::map<std::string, std::vector<std::string>> stringLists_;  ///< list-of-string constants
    std::vector<std::string> omittedOutputs_;                      ///< a classifier's label
    size_t inlineCount_ = 0;
    mutable size_t symbolCount_ = 0;  ///< names the unknown dimensions: s0, s1, ...
};

}  // namespace ts2coreml::backend
