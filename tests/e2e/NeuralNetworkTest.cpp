// The NeuralNetwork backend as users run it: the torchvision samples convert to .mlmodel and pass
// verify; the segmentation sample with image preprocessing and Xcode preview metadata; a
// classifier; and the refusals (an op without a layer, a layer above an explicit target).
#include "Converter.h"
#include "TestSupport.h"
#include "e2e/CliTestSupport.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

// As Apple's segmentation example: scale 1 / (0.226 * 255) and ImageNet-like per-channel bias
// -mean / std, so the model sees (pixel / 255 - mean) / std.
const char* kSegmentationImage = "--image x:1,3,256,256:scale=0.017352074:bias=-2.117904,-2.035714,-1.804444";

const char* kVocLabels[] = {"background", "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",
                            "car",        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",
                            "motorbike",  "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};

void writeLines(const std::string& path, const std::vector<std::string>& lines) {
    std::ofstream out(path);
    for (const auto& l : lines) out << l << "\n";
}

std::vector<std::string> imagenetLabels() {
    std::vector<std::string> labels;
    for (int i = 0; i < 1000; ++i) labels.push_back("class_" + std::to_string(i));
    return labels;
}

}  // namespace

TEST_CASE("the torchvision samples convert to NeuralNetwork .mlmodel files that pass verify in fp32") {
    // deeplabv3 upsamples with half-pixel centers, a layer mode of iOS14: its model is spec 5.
    const std::pair<const char*, int> samples[] = {
        {"resnet18", 4}, {"resnet50", 4}, {"mobilenet_v2", 4}, {"mobilenet_v3_large", 4}, {"deeplabv3_resnet50", 5}};
    CliTempDir dir("nn_samples");
    for (const auto& [name, spec] : samples) {
        CAPTURE(name);
        const std::string out = dir / (std::string(name) + ".mlmodel");
        Run c = runTs2coreml(dir, "convert " + model(name) + " -o " + out + " " + inputFlag(name));
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);
        CHECK(c.out.find("NeuralNetwork") != std::string::npos);
        CHECK(fs::is_regular_file(out));
        // The default fp32 tolerance: atol 1e-4 + rtol 1e-4 of the output's scale.
        Run v = runTs2coreml(dir, "verify " + model(name) + " " + out);
        CAPTURE(v.out);
        CAPTURE(v.err);
        CHECK(v.exitCode == 0);
        CHECK(v.out.find("fp32 program") != std::string::npos);
        CHECK(v.out.find("PASS\n") != std::string::npos);
        Run i = runTs2coreml(dir, "inspect " + out);
        CHECK(i.exitCode == 0);
        CHECK(i.out.find("NeuralNetwork, specification version " + std::to_string(spec)) != std::string::npos);
        CHECK(i.out.find("conv ") != std::string::npos);
    }
}

TEST_CASE("a layer above an explicit target is refused with the op, its torch line and the target it needs") {
    CliTempDir dir("nn_target");
    const std::string out = dir / "deeplab.mlmodel";
    Run c = runTs2coreml(dir, "convert " + model("deeplabv3_resnet50") + " -o " + out + " " +
                                  inputFlag("deeplabv3_resnet50") + " --target iOS13");
    CAPTURE(c.err);
    CHECK(c.exitCode == 2);
    CHECK(c.err.find("op 'upsample_bilinear'") != std::string::npos);
    CHECK(c.err.find("--target iOS14") != std::string::npos);
    CHECK(c.err.find(".py:") != std::string::npos);  // the torchvision source line
    CHECK_FALSE(fs::exists(out));
    // iOS14 allows it.
    Run ok = runTs2coreml(dir, "convert " + model("deeplabv3_resnet50") + " -o " + out + " " +
                                   inputFlag("deeplabv3_resnet50") + " --target iOS14");
    CHECK_MESSAGE(ok.exitCode == 0, ok.err);
}

TEST_CASE("the segmentation sample converts with image preprocessing and imageSegmenter preview metadata") {
    CliTempDir dir("nn_segmentation");
    const std::string labels = dir / "voc.txt";
    writeLines(labels, std::vector<std::string>(std::begin(kVocLabels), std::end(kVocLabels)));
    for (const char* ext : {".mlmodel", ".mlpackage"}) {
        CAPTURE(ext);
        const std::string out = dir / (std::string("deeplab") + ext);
        Run c = runTs2coreml(
            dir, "convert " + model("deeplabv3_resnet50") + " -o " + out + " " + kSegmentationImage +
                     " --precision fp32 --preview imageSegmenter --labels " + labels +
                     " --author 'ts2coreml tests' --license MIT --description 'DeepLabV3 segmentation' --version 1.0");
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);
        Run v = runTs2coreml(dir, "verify " + model("deeplabv3_resnet50") + " " + out);
        CAPTURE(v.out);
        CAPTURE(v.err);
        CHECK(v.exitCode == 0);
        CHECK(v.out.find("image input x (RGB): pixels 0..255; LibTorch receives pixel * 0.0174 + bias -2.12..-1.8") !=
              std::string::npos);
        Run i = runTs2coreml(dir, "inspect " + out);
        CAPTURE(i.out);
        CHECK(i.out.find("x image RGB 256x256") != std::string::npos);
        CHECK(i.out.find("preprocessing: pixel * 0.0173521 + bias [-2.1179, -2.03571, -1.80444]") != std::string::npos);
        CHECK(i.out.find("com.apple.coreml.model.preview.type: imageSegmenter") != std::string::npos);
        CHECK(i.out.find("author: ts2coreml tests") != std::string::npos);
        CHECK(i.out.find("license: MIT") != std::string::npos);
        CHECK(i.out.find("description: DeepLabV3 segmentation") != std::string::npos);
        CHECK(i.out.find("version: 1.0") != std::string::npos);
        const std::string paramsKey = "com.apple.coreml.model.preview.params: ";
        const size_t at = i.out.find(paramsKey);
        REQUIRE(at != std::string::npos);
        const auto params =
            nlohmann::json::parse(i.out.substr(at + paramsKey.size(), i.out.find('\n', at) - at - paramsKey.size()));
        REQUIRE(params.at("labels").size() == 21);
        CHECK(params.at("labels")[15] == "person");
    }
}

TEST_CASE("a classifier converts with class labels in both formats and verify compares its probabilities") {
    CliTempDir dir("nn_classifier");
    const std::string lines = dir / "labels.txt", json = dir / "labels.json";
    const auto labels = imagenetLabels();
    writeLines(lines, labels);
    std::ofstream(json) << nlohmann::json(labels).dump();
    for (const auto& [ext, file] : {std::pair<const char*, std::string>{".mlmodel", lines}, {".mlpackage", json}}) {
        CAPTURE(ext);
        const std::string out = dir / (std::string("resnet18") + ext);
        Run c = runTs2coreml(dir, "convert " + model("resnet18") + " -o " + out + " " + inputFlag("resnet18") +
                                      " --precision fp32 --class-labels " + file);
        REQUIRE_MESSAGE(c.exitCode == 0, c.err);
        Run v = runTs2coreml(dir, "verify " + model("resnet18") + " " + out);
        CAPTURE(v.out);
        CAPTURE(v.err);
        CHECK(v.exitCode == 0);
        CHECK(v.out.find("classifier with 1000 labels") != std::string::npos);
        CHECK(v.out.find("PASS") != std::string::npos);
        Run i = runTs2coreml(dir, "inspect " + out);
        CAPTURE(i.out);
        CHECK(i.out.find("classifier, specification version") != std::string::npos);
        CHECK(i.out.find("classLabel string (predicted class label)") != std::string::npos);
        CHECK(i.out.find("dictionary label -> probability (class probabilities, from fp32[1,1000])") !=
              std::string::npos);
        CHECK(i.out.find("class labels: 1000 (class_0, class_1, class_2, class_3, class_4, ...)") != std::string::npos);
    }
}

TEST_CASE("bad class labels, images and preview flags are reported all at once with exit 2 and nothing written") {
    CliTempDir dir("nn_bad_flags");
    const std::string labels = dir / "short.txt", dup = dir / "dup.txt", badJson = dir / "bad.json";
    writeLines(labels, {"a", "b", "c"});
    writeLines(dup, {"a", "", "a"});
    std::ofstream(badJson) << "[\"a\",\n \"b\",\n 3.5,\n";
    const std::string out = dir / "m.mlmodel";
    Run few = runTs2coreml(
        dir, "convert " + model("resnet18") + " -o " + out + " " + inputFlag("resnet18") + " --class-labels " + labels);
    CHECK(few.exitCode == 2);
    CHECK(few.err.find("--class-labels: 3 labels, but the output is fp32[1,1000]") != std::string::npos);
    Run bad = runTs2coreml(dir, "convert " + model("resnet18") + " -o " + out +
                                    " --image x:1,3,224,224:scale=0.5:bias=1,2 --class-labels " + dup + " --labels " +
                                    badJson + " --format neuralnetwork");
    CAPTURE(bad.err);
    CHECK(bad.exitCode == 2);
    CHECK(bad.err.find("2 bias values for 3 channels") != std::string::npos);
    CHECK(bad.err.find(dup + ":2: empty label") != std::string::npos);
    CHECK(bad.err.find("label 'a' appears twice") != std::string::npos);
    CHECK(bad.err.find("--labels needs --preview TYPE") != std::string::npos);
    Run format = runTs2coreml(
        dir, "convert " + model("resnet18") + " -o " + out + " " + inputFlag("resnet18") + " --format mlprogram");
    CHECK(format.exitCode == 2);
    CHECK(format.err.find("--format mlprogram writes .mlpackage, not .mlmodel") != std::string::npos);
    Run json = runTs2coreml(dir, "convert " + model("resnet18") + " -o " + out + " " + inputFlag("resnet18") +
                                     " --preview imageSegmenter --labels " + badJson);
    CHECK(json.exitCode == 2);
    CHECK(json.err.find(badJson + ":4: not a JSON list of labels") != std::string::npos);
    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("an op with no NeuralNetwork layer is refused naming the op and its torch line, suggesting .mlpackage") {
    CliTempDir dir("nn_unsupported");
    const std::string pt = dir / "conv3d.pt";
    scriptModule(R"(def forward(self, x):
    y = torch.relu(x)
    return torch.conv3d(y, torch.ones(2, 2, 3, 3, 3)))")
        .save(pt);
    ConvertOptions options;
    options.modelPath = pt;
    options.outputPath = dir / "conv3d.mlmodel";
    options.inputs = {{"x", TensorType::of(DType::Float32, {1, 2, 4, 6, 6})}};
    try {
        convertModel(options, LoweringRegistry::withBuiltins());
        FAIL("the conversion should have been refused");
    } catch (const ConversionError& e) {
        CHECK(e.exitCode() == 2);
        REQUIRE(e.diagnostics().size() == 1);
        const Diagnostic& d = e.diagnostics()[0];
        CHECK(d.message.find("op 'conv'") != std::string::npos);
        CHECK(d.message.find("write an .mlpackage (ML Program) instead") != std::string::npos);
        CHECK(d.location.find(":3:") != std::string::npos);  // the conv3d line of the scripted source
    }
    CHECK_FALSE(fs::exists(options.outputPath));
    // The same model as an ML Program converts.
    options.outputPath = dir / "conv3d.mlpackage";
    CHECK_NOTHROW(convertModel(options, LoweringRegistry::withBuiltins()));
}
