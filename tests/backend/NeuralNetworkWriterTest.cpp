// The NeuralNetwork writer's file contents: layer fields as Apple's NeuralNetwork.proto defines
// them, weights in fp32 or fp16, the specification version the layers need, image preprocessing,
// the classifier message, and the 2 GiB refusal before anything is written.
#include "Converter.h"
#include "TestSupport.h"
#include "backend/neuralnetwork/NeuralNetworkWriter.h"

#include <ts2coreml/Builder.h>

#include <doctest/doctest.h>

#include "Model.pb.h"

#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

namespace fs = std::filesystem;
using namespace ts2coreml;

namespace {

struct Dir {
    fs::path path = fs::temp_directory_path() / ("ts2coreml_nnwriter_" + std::to_string(::getpid()));
    Dir() {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Dir() {
        test::keepWrittenModels(path);
        fs::remove_all(path);
    }
};

spec::Model readBack(const fs::path& p) {
    spec::Model m;
    std::ifstream in(p, std::ios::binary);
    REQUIRE(m.ParseFromIstream(&in));
    return m;
}

LoweredModel lowered(const std::string& source, const std::vector<std::vector<int64_t>>& sizes) {
    LoweredModel l = test::lower(test::scriptModule(source), sizes);
    optimize(*l.program, Precision::Float32);
    return l;
}

const spec::NeuralNetworkLayer* firstLayer(const spec::Model& m, spec::NeuralNetworkLayer::LayerCase kind) {
    for (const auto& l : m.neuralnetwork().layers())
        if (l.layer_case() == kind) return &l;
    return nullptr;
}

}  // namespace

TEST_CASE("a convolution layer carries Apple's field layout, and fp16 weights halve the file") {
    Dir dir;
    LoweredModel l = lowered(R"(def forward(self, x):
    w = torch.sin(torch.arange(216.0)).reshape(8, 3, 3, 3)
    return torch.conv2d(x, w, torch.ones(8), [2, 1], [1, 0], 1, 1))",
                             {{1, 3, 9, 8}});
    ModelOptions options;
    options.target = Target::iOS13;
    const fs::path fp32 = dir.path / "conv.mlmodel", fp16 = dir.path / "conv16.mlmodel";
    NeuralNetworkStats s = writeNeuralNetwork(*l.program, options, fp32.string());
    CHECK(s.target == Target::iOS13);
    const spec::Model m = readBack(fp32);
    CHECK(m.specificationversion() == 4);
    CHECK(m.neuralnetwork().arrayinputshapemapping() == spec::EXACT_ARRAY_MAPPING);
    const auto* layer = firstLayer(m, spec::NeuralNetworkLayer::kConvolution);
    REQUIRE(layer);
    const auto& conv = layer->convolution();
    CHECK(conv.outputchannels() == 8);
    CHECK(conv.kernelchannels() == 3);
    CHECK(conv.ngroups() == 1);
    CHECK(std::vector<uint64_t>(conv.kernelsize().begin(), conv.kernelsize().end()) == std::vector<uint64_t>{3, 3});
    CHECK(std::vector<uint64_t>(conv.stride().begin(), conv.stride().end()) == std::vector<uint64_t>{2, 1});
    REQUIRE(conv.valid().paddingamounts().borderamounts_size() == 2);
    CHECK(conv.valid().paddingamounts().borderamounts(0).startedgesize() == 1);  // height
    CHECK(conv.valid().paddingamounts().borderamounts(1).startedgesize() == 0);  // width
    REQUIRE(conv.weights().floatvalue_size() == 216);
    CHECK(conv.weights().floatvalue(1) == doctest::Approx(std::sin(1.0)));
    CHECK(conv.hasbias());

    NeuralNetworkOptions half;
    half.fp16Weights = true;
    writeNeuralNetwork(*l.program, options, fp16.string(), half);
    const spec::Model h = readBack(fp16);
    const auto* hl = firstLayer(h, spec::NeuralNetworkLayer::kConvolution);
    REQUIRE(hl);
    CHECK(hl->convolution().weights().floatvalue_size() == 0);
    CHECK(hl->convolution().weights().float16value().size() == 216 * 2);
    CHECK(fs::file_size(fp16) < fs::file_size(fp32));
}

TEST_CASE("linear becomes a batched matmul whose column-major weights are the torch weights as they are") {
    Dir dir;
    LoweredModel l = lowered(R"(def forward(self, x):
    return torch.linear(x, torch.arange(12.0).reshape(3, 4), torch.ones(3)))",
                             {{2, 4}});
    const fs::path out = dir.path / "linear.mlmodel";
    writeNeuralNetwork(*l.program, ModelOptions{Target::iOS13, {}, {}, {}}, out.string());
    const spec::Model m = readBack(out);
    const auto* layer = firstLayer(m, spec::NeuralNetworkLayer::kBatchedMatmul);
    REQUIRE(layer);
    const auto& mm = layer->batchedmatmul();
    CHECK(mm.weightmatrixfirstdimension() == 4);   // X1 = C_in
    CHECK(mm.weightmatrixseconddimension() == 3);  // X2 = C_out
    REQUIRE(mm.weights().floatvalue_size() == 12);
    for (int i = 0; i < 12; ++i) CHECK(mm.weights().floatvalue(i) == static_cast<float>(i));
}

TEST_CASE("batch_norm of rank 2 to 5 is a rank-4 batchnorm layer over torch's channel axis") {
    // The layer normalizes axis -3; torch's channels are axis 1. Only at rank 4 are they the same.
    Dir dir;
    const std::vector<std::vector<int64_t>> shapes = {{3, 4}, {3, 4, 5}, {2, 4, 3, 5}, {2, 4, 3, 2, 5}};
    for (const auto& shape : shapes) {
        CAPTURE(shape.size());
        LoweredModel l = lowered(R"(def forward(self, x):
    c = torch.arange(4.0)
    return torch.batch_norm(x, c + 1.0, c * 0.5, c * 0.1, c + 2.0, False, 0.1, 1e-5, False))",
                                 {shape});
        const fs::path out = dir.path / ("bn" + std::to_string(shape.size()) + ".mlmodel");
        writeNeuralNetwork(*l.program, ModelOptions{Target::iOS13, {}, {}, {}}, out.string());
        const spec::Model m = readBack(out);
        const auto* layer = firstLayer(m, spec::NeuralNetworkLayer::kBatchnorm);
        REQUIRE(layer);
        CHECK(layer->batchnorm().channels() == 4);
        CHECK(layer->batchnorm().gamma().floatvalue_size() == 4);
        CHECK(layer->batchnorm().mean().floatvalue_size() == 4);
    }
}

TEST_CASE("a reshape to a scalar names a one-element target shape") {
    Dir dir;
    LoweredModel l = lowered(R"(def forward(self, x):
    return x + x.sum().reshape([]))",
                             {{3}});
    const fs::path out = dir.path / "scalar.mlmodel";
    writeNeuralNetwork(*l.program, ModelOptions{Target::iOS13, {}, {}, {}}, out.string());
    const spec::Model m = readBack(out);
    int reshapes = 0;
    for (const auto& layer : m.neuralnetwork().layers())
        if (layer.layer_case() == spec::NeuralNetworkLayer::kReshapeStatic) {
            ++reshapes;
            CHECK(layer.reshapestatic().targetshape_size() > 0);
        }
    CHECK(reshapes == 1);
}

TEST_CASE("cond and while_loop become branch and loop layers handing values on in blobs written by copy layers") {
    Dir dir;
    LoweredModel l = lowered(R"(def forward(self, x):
    y = x
    if bool(x.sum() > 0):
        while bool(y.sum() < 100.0):
            y = y * 2.0
    else:
        y = -x
    return y)",
                             {{2, 3}});
    const fs::path out = dir.path / "cf.mlmodel";
    const NeuralNetworkStats stats =
        writeNeuralNetwork(*l.program, ModelOptions{Target::iOS13, {}, {}, {}}, out.string());
    CHECK(stats.target == Target::iOS13);
    const spec::Model m = readBack(out);
    using L = spec::NeuralNetworkLayer;
    const L* branchLayer = firstLayer(m, L::kBranch);
    REQUIRE(branchLayer);
    CHECK(branchLayer->input_size() == 1);
    CHECK(branchLayer->output_size() == 0);
    const auto& ifLayers = branchLayer->branch().ifbranch().layers();
    const auto& elseLayers = branchLayer->branch().elsebranch().layers();
    REQUIRE(!ifLayers.empty());
    REQUIRE(!elseLayers.empty());
    // Both networks end by writing the branch's result into one blob, the model's output.
    const std::string result = m.description().output(0).name();
    CHECK(ifLayers.rbegin()->layer_case() == L::kCopy);
    CHECK(ifLayers.rbegin()->output(0) == result);
    CHECK(elseLayers.rbegin()->layer_case() == L::kCopy);
    CHECK(elseLayers.rbegin()->output(0) == result);

    const L* loopLayer = nullptr;
    for (const auto& layer : ifLayers)
        if (layer.has_loop()) loopLayer = &layer;
    REQUIRE(loopLayer);
    const auto& loop = loopLayer->loop();
    CHECK(loop.maxloopiterations() == 0);  // bounded by its condition alone
    CHECK(loopLayer->input_size() == 0);
    REQUIRE(!loop.conditionvar().empty());
    REQUIRE(!loop.conditionnetwork().layers().empty());
    CHECK(loop.conditionnetwork().layers().rbegin()->output(0) == loop.conditionvar());
    // The loop variables live in blobs: each set by a copy before the loop (y from x among them),
    // read by the condition network, and overwritten by the copies that end the body.
    const auto& body = loop.bodynetwork().layers();
    std::set<std::string> states;
    for (auto it = body.rbegin(); it != body.rend() && it->has_copy(); ++it) states.insert(it->output(0));
    REQUIRE(!states.empty());
    std::set<std::string> setBefore;
    bool fromX = false;
    for (const auto& layer : ifLayers) {
        if (&layer == loopLayer) break;
        if (!layer.has_copy() || !states.count(layer.output(0))) continue;
        setBefore.insert(layer.output(0));
        fromX = fromX || layer.input(0) == m.description().input(0).name();
    }
    CHECK(setBefore == states);
    CHECK(fromX);
    bool conditionReads = false;
    for (const auto& layer : loop.conditionnetwork().layers())
        for (const auto& in : layer.input()) conditionReads = conditionReads || states.count(in) > 0;
    CHECK(conditionReads);

    // Constants are loaded once, in the top network, never in a nested one.
    std::function<void(const google::protobuf::RepeatedPtrField<L>&, bool)> noNestedConstants =
        [&](const google::protobuf::RepeatedPtrField<L>& layers, bool nested) {
            for (const auto& layer : layers) {
                if (nested) CHECK_MESSAGE(!layer.has_loadconstantnd(), layer.name());
                if (layer.has_branch()) {
                    noNestedConstants(layer.branch().ifbranch().layers(), true);
                    noNestedConstants(layer.branch().elsebranch().layers(), true);
                }
                if (layer.has_loop()) {
                    noNestedConstants(layer.loop().conditionnetwork().layers(), true);
                    noNestedConstants(layer.loop().bodynetwork().layers(), true);
                }
            }
        };
    noNestedConstants(m.neuralnetwork().layers(), false);
    CHECK(stats.layerCount > static_cast<size_t>(m.neuralnetwork().layers_size()));
}

TEST_CASE("the target rises to the layers' needs unless the user fixed it") {
    Dir dir;
    LoweredModel l = lowered(R"(def forward(self, x):
    return torch.layer_norm(x, [8]))",
                             {{2, 8}});
    const fs::path out = dir.path / "ln.mlmodel";
    NeuralNetworkStats s = writeNeuralNetwork(*l.program, ModelOptions{Target::iOS13, {}, {}, {}}, out.string());
    CHECK(s.target == Target::iOS14);
    CHECK(readBack(out).specificationversion() == 5);
    NeuralNetworkOptions fixed;
    fixed.targetIsExplicit = true;
    try {
        writeNeuralNetwork(*l.program, ModelOptions{Target::iOS13, {}, {}, {}}, (dir.path / "ln13.mlmodel").string(),
                           fixed);
        FAIL("iOS13 has no LayerNormalization layer");
    } catch (const NeuralNetworkError& e) {
        REQUIRE(e.problems().size() == 1);
        CHECK(e.problems()[0].message.find(
                  "op 'layer_norm': layer_norm (LayerNormalization layer) needs --target iOS14") != std::string::npos);
    }
    CHECK_FALSE(fs::exists(dir.path / "ln13.mlmodel"));
}

TEST_CASE("image preprocessing and class labels are written where Core ML reads them") {
    Dir dir;
    LoweredModel l = lowered(R"(def forward(self, x):
    return torch.softmax(x.mean([2, 3]), 1))",
                             {{1, 3, 4, 4}});
    ModelOptions options;
    options.target = Target::iOS13;
    options.images = {{"x0", 0.5, {1.0, 2.0, 3.0}, ColorLayout::BGR}};
    options.classLabels = {"cat", "dog", "fish"};
    const fs::path out = dir.path / "classifier.mlmodel";
    writeNeuralNetwork(*l.program, options, out.string());
    const spec::Model m = readBack(out);
    REQUIRE(m.has_neuralnetworkclassifier());
    const auto& c = m.neuralnetworkclassifier();
    REQUIRE(c.preprocessing_size() == 1);
    CHECK(c.preprocessing(0).featurename() == "x0");
    CHECK(c.preprocessing(0).scaler().channelscale() == 0.5f);
    CHECK(c.preprocessing(0).scaler().bluebias() == 1.0f);  // BGR: channel 0 is blue
    CHECK(c.preprocessing(0).scaler().redbias() == 3.0f);
    REQUIRE(c.stringclasslabels().vector_size() == 3);
    CHECK(c.stringclasslabels().vector(1) == "dog");
    CHECK(c.labelprobabilitylayername() == l.program->main().body.outputs()[0]->name());
    CHECK(m.description().input(0).type().imagetype().colorspace() == spec::ImageFeatureType::BGR);
    CHECK(m.description().predictedfeaturename() == "classLabel");
    REQUIRE(m.description().output_size() == 2);
    CHECK(m.description().output(0).type().has_stringtype());
    CHECK(m.description().output(1).type().has_dictionarytype());
}

TEST_CASE("a model over the 2 GiB protobuf limit is refused before any weight is written") {
    // 2.25 GiB of weights that cost no memory: untouched anonymous pages read as zeros.
    constexpr int64_t n = (int64_t{9} << 28) / 4;
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    void* mapping = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    REQUIRE(mapping != MAP_FAILED);
    std::shared_ptr<const void> owner(mapping, [bytes](const void* p) { ::munmap(const_cast<void*>(p), bytes); });

    mil::Program program;
    mil::Block& body = program.main().body;
    mil::Value* x = body.addInput("x", TensorType::of(DType::Float32, {n}));
    mil::Builder b(body, Target::iOS15);
    auto weights = std::make_shared<mil::ConstData>();
    weights->dtype = DType::Float32;
    weights->sizes = {n};
    weights->data = mapping;
    weights->nbytes = bytes;
    weights->owner = owner;
    body.outputs().push_back(b.add("mul", {{"x", x}, {"y", b.constant(weights)}}));

    Dir dir;
    const fs::path out = dir.path / "huge.mlmodel";
    try {
        writeNeuralNetwork(program, ModelOptions{Target::iOS13, {}, {}, {}}, out.string());
        FAIL("a 2.25 GiB NeuralNetwork model should be refused");
    } catch (const NeuralNetworkError& e) {
        REQUIRE(e.problems().size() == 1);
        CHECK(e.problems()[0].location == out.string());
        CHECK(e.problems()[0].message.find("the weights need 2.25 GiB") != std::string::npos);
        CHECK(e.problems()[0].message.find("2 GiB protobuf limit") != std::string::npos);
        CHECK(e.problems()[0].message.find(".mlpackage") != std::string::npos);
    }
    CHECK(fs::is_empty(dir.path));  // no model, no staging file
    // fp16 storage halves the weights: 1.125 GiB fits.
    CHECK(estimateWeightBytes(program, true) < kProtobufLimit);
    CHECK(estimateWeightBytes(program, false) > kProtobufLimit);
}
