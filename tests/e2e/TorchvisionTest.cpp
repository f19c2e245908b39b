// The five torchvision samples convert to ML Programs whose files read back with the expected
// structure, and whose weight blobs equal the (folded) torch parameters they came from.
#include "Converter.h"
#include "TestSupport.h"
#include "backend/ModelReader.h"
#include "backend/mlprogram/MLPackageWriter.h"

#include <c10/util/Half.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace fs = std::filesystem;
using namespace ts2coreml;

namespace {

struct Sample {
    const char* name;
    std::vector<int64_t> input;
    std::vector<int64_t> output;
    std::vector<const char*> ops;
};

const Sample kSamples[] = {
    {"resnet18", {1, 3, 224, 224}, {1, 1000}, {"conv", "relu", "max_pool", "add", "reduce_mean", "linear"}},
    {"resnet50", {1, 3, 224, 224}, {1, 1000}, {"conv", "relu", "max_pool", "add", "reduce_mean", "linear"}},
    {"mobilenet_v2", {1, 3, 224, 224}, {1, 1000}, {"conv", "relu6", "add", "reduce_mean", "linear"}},
    {"mobilenet_v3_large", {1, 3, 224, 224}, {1, 1000}, {"conv", "relu", "sigmoid_hard", "mul", "add", "linear"}},
    {"deeplabv3_resnet50", {1, 3, 256, 256}, {1, 21, 256, 256}, {"conv", "relu", "concat", "upsample_bilinear"}},
};

fs::path tempDir() {
    fs::path p = fs::temp_directory_path() / ("ts2coreml_e2e_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
}

/// Every constant large enough to live in weight.bin, by name.
std::map<std::string, const mil::Operation*> blobConstants(const mil::Program& p) {
    std::map<std::string, const mil::Operation*> out;
    mil::walk(p.main().body, [&](const mil::Operation& op) {
        if (op.type() == "const" && op.constData()->numel() >= kMinBlobElements &&
            op.output()->type().dtype != DType::Int32)
            out[op.output()->name()] = &op;
    });
    return out;
}

}  // namespace

TEST_CASE("torchvision samples convert, read back, and keep their weights") {
    const fs::path dir = tempDir();
    for (const Sample& s : kSamples) {
        for (Precision precision : {Precision::Float32, Precision::Float16}) {
            const bool fp16 = precision == Precision::Float16;
            const std::string name = s.name;
            CAPTURE(name);
            CAPTURE(fp16);
            torch::jit::Module module = loadModule(test::modelsDir() + "/" + s.name + ".pt");
            LoweredModel lowered = test::lower(module, {s.input});
            optimize(*lowered.program, precision);
            const fs::path out = dir / (std::string(s.name) + (fp16 ? "_fp16" : "_fp32") + ".mlpackage");
            PackageStats stats = writeMLPackage(*lowered.program, ModelOptions{}, out.string());

            backend::ReadModel read = backend::readModel(out.string());
            REQUIRE(read.outputs.size() == 1);
            CHECK(read.outputs[0].type.sizes() == s.output);
            CHECK(read.outputs[0].type.dtype == DType::Float32);
            REQUIRE(read.inputs.size() == 1);
            CHECK(read.inputs[0].type.sizes() == s.input);
            std::map<std::string, int> histogram;
            mil::walk(read.program->main().body, [&](const mil::Operation& op) { ++histogram[op.type()]; });
            for (const char* op : s.ops) CHECK_MESSAGE(histogram[op] > 0, std::string(op));
            CHECK(histogram.count("batch_norm") == 0);  // folded into conv by torch's frozen-graph passes
            CHECK(read.blobCount == stats.blobCount);
            CHECK(stats.blobCount > 10);

            // Weight blobs equal the constants they were written from (fp16: rounded once).
            auto written = blobConstants(*lowered.program);
            size_t compared = 0;
            mil::walk(read.program->main().body, [&](const mil::Operation& op) {
                if (op.type() != "const") return;
                auto it = written.find(op.output()->name());
                if (it == written.end()) return;
                const mil::ConstData& got = *op.constData();
                const mil::ConstData& want = *it->second->constData();
                REQUIRE(got.numel() == want.numel());
                bool equal = true;
                for (int64_t i = 0; i < want.numel() && equal; ++i) {
                    const float w = static_cast<float>(want.asDouble(static_cast<size_t>(i)));
                    const float expect = fp16 ? static_cast<float>(c10::Half(w)) : w;
                    equal = static_cast<float>(got.asDouble(static_cast<size_t>(i))) == expect;
                }
                CHECK_MESSAGE(equal, op.output()->name());
                ++compared;
            });
            CHECK(compared == written.size());
        }
    }
    fs::remove_all(dir);
}

TEST_CASE("every unsupported op is reported at once with its source line, and nothing is written") {
    const fs::path dir = tempDir();
    ConvertOptions options;
    options.modelPath = test::modelsDir() + "/unsupported.pt";
    options.outputPath = (dir / "unsupported.mlpackage").string();
    options.inputs = {{"x", TensorType::of(DType::Float32, {1, 4})}};
    try {
        convertModel(options, LoweringRegistry::withBuiltins());
        FAIL("conversion should have failed");
    } catch (const ConversionError& e) {
        CHECK(e.exitCode() == 2);
        std::map<std::string, std::string> where;
        for (const auto& d : e.diagnostics())
            for (const char* op : {"aten::erfinv", "aten::i0", "aten::polygamma"})
                if (d.message.find(std::string("'") + op + "'") != std::string::npos) where[op] = d.location;
        REQUIRE(where.size() == 3);
        // Lines of samples/make_models.py's Unsupported module; i0 sits inside the scripted `if`.
        std::ifstream src(std::string(TS2COREML_SOURCE_DIR) + "/samples/make_models.py");
        std::vector<std::string> lines;
        for (std::string l; std::getline(src, l);) lines.push_back(l);
        for (const auto& [op, loc] : where) {
            CAPTURE(loc);
            CHECK(loc.find("make_models.py:") != std::string::npos);
            const size_t line = std::stoul(loc.substr(loc.find("make_models.py:") + 15));
            REQUIRE(line >= 1);
            REQUIRE(line <= lines.size());
            const std::string fn = std::string(op).substr(6);
            CHECK_MESSAGE(lines[line - 1].find(fn) != std::string::npos, lines[line - 1]);
            // A scripted line has a real column: where the call starts.
            const std::string afterLine = loc.substr(loc.find("make_models.py:") + 15);
            REQUIRE(afterLine.find(':') != std::string::npos);
            const size_t column = std::stoul(afterLine.substr(afterLine.find(':') + 1));
            CHECK_MESSAGE(lines[line - 1].find("torch.", column - 1) == column - 1, lines[line - 1]);
        }
    }
    CHECK_FALSE(fs::exists(options.outputPath));
    CHECK(fs::is_empty(dir));  // no staging leftovers either
    fs::remove_all(dir);
}

TEST_CASE("an unsupported op called inside torch's own code is reported at the user's line, torch's as a note") {
    const fs::path dir = tempDir();
    ConvertOptions options;
    options.modelPath = test::modelsDir() + "/library_op.pt";
    options.outputPath = (dir / "library_op.mlpackage").string();
    options.inputs = {{"x", TensorType::of(DType::Float32, {2, 8})}, {"y", TensorType::of(DType::Float32, {2, 8})}};
    try {
        convertModel(options, LoweringRegistry::withBuiltins());
        FAIL("conversion should have failed");
    } catch (const ConversionError& e) {
        CHECK(e.exitCode() == 2);
        REQUIRE(e.diagnostics().size() == 1);
        const Diagnostic& d = e.diagnostics().front();
        CHECK(d.message.find("no lowering for 'aten::pairwise_distance'") != std::string::npos);
        // The traced model's frame in the user's file: its line, no column (the tracer records none).
        CAPTURE(d.location);
        const size_t at = d.location.find("make_models.py:");
        REQUIRE(at != std::string::npos);
        const std::string line = d.location.substr(at + 15);
        CHECK(line.find(':') == std::string::npos);
        std::ifstream src(std::string(TS2COREML_SOURCE_DIR) + "/samples/make_models.py");
        std::vector<std::string> lines;
        for (std::string l; std::getline(src, l);) lines.push_back(l);
        REQUIRE(std::stoul(line) <= lines.size());
        CHECK_MESSAGE(lines[std::stoul(line) - 1].find("self.distance(x, y)") != std::string::npos,
                      lines[std::stoul(line) - 1]);
        // torch's own line follows as a note.
        CHECK(d.libraryLocation.find("/torch/nn/modules/distance.py:") != std::string::npos);
        CHECK(d.str().find("\n" + d.libraryLocation + ": note: ") != std::string::npos);
    }
    CHECK(fs::is_empty(dir));
    fs::remove_all(dir);
}
