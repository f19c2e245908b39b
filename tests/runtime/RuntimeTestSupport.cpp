#include "runtime/RuntimeTestSupport.h"

#include "backend/mlprogram/BlobStorage.h"
#include "backend/mlprogram/MLPackageWriter.h"
#include "backend/neuralnetwork/NeuralNetworkWriter.h"
#include "runtime/TensorSupport.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <unistd.h>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace ts2coreml::test {

TempDir::TempDir(const std::string& name) {
    std::string safe = name;
    for (char& c : safe)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    path_ = fs::path(TS2COREML_BINARY_DIR) / "runtime-tests" / (safe + "." + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    keepWrittenModels(path_);
    std::error_code ec;
    fs::remove_all(path_, ec);
}

mil::Value* constantOf(mil::Builder& b, const at::Tensor& t) {
    const at::Tensor c = t.contiguous();
    const auto dtype = runtime::milDType(c.scalar_type());
    if (!dtype) throw std::invalid_argument("no MIL dtype for the tensor");
    std::vector<uint8_t> bytes(c.nbytes());
    if (!bytes.empty()) std::memcpy(bytes.data(), c.data_ptr(), bytes.size());
    return b.constant(mil::ConstData::fromBytes(*dtype, c.sizes().vec(), std::move(bytes)));
}

std::vector<at::Tensor> runProgram(const std::vector<at::Tensor>& inputs, const ProgramBody& body, Target target) {
    mil::Program program;
    mil::Block& main = program.main().body;
    mil::Builder b(main, target);
    std::vector<mil::Value*> values;
    std::map<std::string, at::Tensor> feed;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const std::string name = "x" + std::to_string(i);
        values.push_back(
            main.addInput(name, TensorType::of(*runtime::milDType(inputs[i].scalar_type()), inputs[i].sizes().vec())));
        feed[name] = inputs[i];
    }
    main.outputs() = body(b, values);
    return runtime::execute(program, feed);
}

at::Tensor runOp(const std::vector<at::Tensor>& inputs,
                 const std::function<mil::Value*(mil::Builder&, const std::vector<mil::Value*>&)>& body,
                 Target target) {
    return runProgram(
               inputs,
               [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
                   return std::vector<mil::Value*>{body(b, in)};
               },
               target)
        .front();
}

bool close(const at::Tensor& a, const at::Tensor& b, double atol, double rtol) {
    if (a.sizes() != b.sizes()) return false;
    return at::allclose(a.to(at::kDouble), b.to(at::kDouble), rtol, atol, /*equal_nan=*/true);
}

std::string text(const at::Tensor& t) {
    std::ostringstream os;
    os << t.sizes() << " " << t.to(at::kDouble).reshape({-1});
    return os.str();
}

// ---- blob storage --------------------------------------------------------------------------------

BlobFileBuilder::BlobFileBuilder() : bytes_(sizeof(backend::blob::StorageHeader), '\0') {
    backend::blob::StorageHeader h;
    std::memcpy(&bytes_[0], &h, sizeof h);
}

uint64_t BlobFileBuilder::add(uint32_t dtypeCode, const void* data, size_t bytes) {
    bytes_.append((64 - bytes_.size() % 64) % 64, '\0');
    const uint64_t offset = bytes_.size();
    backend::blob::Metadata m;
    m.dtype = dtypeCode;
    m.sizeInBytes = bytes;
    m.offset = offset + sizeof m;
    bytes_.append(reinterpret_cast<const char*>(&m), sizeof m);
    bytes_.append(static_cast<const char*>(data), bytes);
    ++count_;
    std::memcpy(&bytes_[0], &count_, sizeof count_);
    return offset;
}

uint64_t BlobFileBuilder::add(const at::Tensor& t) {
    const at::Tensor c = t.contiguous();
    const auto code = backend::blob::dataTypeFor(*runtime::milDType(c.scalar_type()));
    return add(static_cast<uint32_t>(*code), c.data_ptr(), c.nbytes());
}

std::string BlobFileBuilder::bytes() const { return bytes_; }

void writeRawPackage(const fs::path& dir, const std::string& serializedModel, const std::string& weights) {
    const fs::path data = dir / "Data" / "com.apple.CoreML";
    fs::create_directories(data / "weights");
    std::ofstream(data / "model.mlmodel", std::ios::binary) << serializedModel;
    if (!weights.empty()) std::ofstream(data / "weights" / "weight.bin", std::ios::binary) << weights;
    nlohmann::json manifest = {
        {"fileFormatVersion", "1.0.0"},
        {"itemInfoEntries",
         {{"ROOT",
           {{"author", "test"},
            {"description", "model"},
            {"name", "model.mlmodel"},
            {"path", "com.apple.CoreML/model.mlmodel"}}}}},
        {"rootModelIdentifier", "ROOT"},
    };
    std::ofstream(dir / "Manifest.json") << manifest.dump(2);
}

// ---- numerical check -----------------------------------------------------------------------------

NumericalResult convertAndCompare(const std::string& name, const std::string& source,
                                  const std::vector<TestInput>& inputs, const NumericalOptions& options) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    std::vector<at::Tensor> feed;
    for (const TestInput& in : inputs)
        feed.push_back(verify::randomInput(TensorType::of(in.dtype, in.sizes), in.sizes, gen));
    if (!options.feed.empty()) feed = options.feed;

    // LibTorch first, on a module of its own: lowering freezes its module in place.
    torch::jit::Module reference = scriptModule(source);
    const std::vector<at::Tensor> expected = verify::runReference(reference, feed);

    static const LoweringRegistry builtins = LoweringRegistry::withBuiltins();
    FrontendOptions frontend;
    frontend.inputs = modelInputs(inputs);
    frontend.target = options.target;
    frontend.modelPath = name + ".pt";
    LoweredModel lowered = lowerModule(scriptModule(source), frontend, options.registry ? *options.registry : builtins);
    const bool neuralNetwork = options.format == ModelFormat::NeuralNetwork;
    optimize(*lowered.program, neuralNetwork ? Precision::Float32 : options.precision);

    TempDir dir(name);
    const std::string package = (dir.path() / (neuralNetwork ? "model.mlmodel" : "model.mlpackage")).string();
    ModelOptions modelOptions;
    modelOptions.target = options.target;
    if (neuralNetwork) {
        modelOptions.target = Target::iOS13;
        NeuralNetworkOptions nn;
        nn.fp16Weights = options.precision == Precision::Float16;
        writeNeuralNetwork(*lowered.program, modelOptions, package, nn);
    } else {
        writeMLPackage(*lowered.program, modelOptions, package);
    }
    const backend::ReadModel model = backend::readModel(package);

    std::map<std::string, at::Tensor> named;
    const auto& programInputs = model.program->main().body.inputs();
    for (size_t i = 0; i < programInputs.size() && i < feed.size(); ++i) named[programInputs[i]->name()] = feed[i];
    runtime::ExecutionOptions execution;
    execution.customKernels = options.customKernels;
    const std::vector<at::Tensor> actual = runtime::execute(*model.program, named, execution);

    NumericalResult result;
    if (actual.size() != expected.size()) {
        result.report = "LibTorch returns " + std::to_string(expected.size()) + " tensors, the model " +
                        std::to_string(actual.size());
        return result;
    }
    const verify::Tolerance tol = options.tolerance.value_or(
        options.precision == Precision::Float16 ? verify::fp16Tolerance() : verify::fp32Tolerance());
    result.pass = true;
    const auto& outputs = model.program->main().body.outputs();
    for (size_t i = 0; i < actual.size(); ++i) {
        auto c = verify::compareOutput(outputs[i]->name(), expected[i], actual[i], tol);
        std::ostringstream line;
        line << c.name << " " << at::IntArrayRef(c.shape) << " max abs " << c.maxAbsError << " (scale " << c.scale
             << ") " << (c.pass ? "PASS" : "FAIL") << (c.problem.empty() ? "" : ": " + c.problem);
        if (!c.pass && c.shape == c.referenceShape)
            line << "\n  reference " << text(expected[i]) << "\n  actual    " << text(actual[i]);
        result.report += line.str() + "\n";
        result.pass = result.pass && c.pass;
        result.outputs.push_back(std::move(c));
    }
    return result;
}

void checkNumerics(const LoweringCase& c, const NumericalOptions& options) {
    INFO("case: ", c.name, "\n", c.source);
    NumericalResult r;
    try {
        r = convertAndCompare(c.name, c.source, c.inputs, options);
    } catch (const ConversionError& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) all += d.str() + "\n";
        FAIL_CHECK((std::string("conversion failed: ") + all));
        return;
    } catch (const std::exception& e) {
        FAIL_CHECK((std::string("numerical check failed: ") + e.what()));
        return;
    }
    CHECK_MESSAGE(r.pass, "outputs differ from LibTorch:\n", r.report);
}

}  // namespace ts2coreml::test
