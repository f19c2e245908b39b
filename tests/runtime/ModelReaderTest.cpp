// The model reader (core/runtime/ModelReader.cpp, ProgramReader.cpp): packages made by hand with
// the proto classes, and packages written by the ML Program writer, read back and executed.
#include "runtime/RuntimeTestSupport.h"

#include "backend/mlprogram/MLPackageWriter.h"

#include <doctest/doctest.h>

#include "MIL.pb.h"
#include "Model.pb.h"

#include <fstream>

using namespace ts2coreml;
using namespace ts2coreml::test;
namespace fs = std::filesystem;
namespace milspec = ts2coreml::spec::MILSpec;

namespace {

void tensorType(milspec::ValueType& out, milspec::DataType dtype, const std::vector<int64_t>& sizes) {
    auto* t = out.mutable_tensortype();
    t->set_datatype(dtype);
    t->set_rank(static_cast<int64_t>(sizes.size()));
    t->clear_dimensions();
    for (int64_t s : sizes) t->add_dimensions()->mutable_constant()->set_size(static_cast<uint64_t>(s));
}

milspec::Operation* addConst(milspec::Block& block, const std::string& name, milspec::DataType dtype,
                             const std::vector<int64_t>& sizes) {
    auto* op = block.add_operations();
    op->set_type("const");
    auto* out = op->add_outputs();
    out->set_name(name);
    tensorType(*out->mutable_type(), dtype, sizes);
    tensorType(*(*op->mutable_attributes())["val"].mutable_type(), dtype, sizes);
    return op;
}

milspec::Value& valOf(milspec::Operation* op) { return (*op->mutable_attributes())["val"]; }

void bindName(milspec::Operation* op, const std::string& input, const std::string& value) {
    (*op->mutable_inputs())[input].add_arguments()->set_name(value);
}

/// A model computing  z = (x + w) * 2 + h  with x fp32[2,3], w a fp32 blob, h an fp16 immediate
/// given as bytes and cast to fp32, and 2 an inline argument value (not a named const).
struct HandMadeModel {
    spec::Model model;
    BlobFileBuilder blobs;
    milspec::Block* block = nullptr;
    uint64_t weightOffset = 0;

    HandMadeModel() {
        model.set_specificationversion(6);
        auto* in = model.mutable_description()->add_input();
        in->set_name("x");
        auto* array = in->mutable_type()->mutable_multiarraytype();
        array->set_datatype(spec::ArrayFeatureType::FLOAT32);
        array->add_shape(2);
        array->add_shape(3);
        auto* out = model.mutable_description()->add_output();
        out->set_name("z");
        out->mutable_type()->mutable_multiarraytype()->set_datatype(spec::ArrayFeatureType::FLOAT32);

        auto& fn = (*model.mutable_mlprogram()->mutable_functions())["main"];
        model.mutable_mlprogram()->set_version(1);
        fn.set_opset("CoreML5");
        auto* x = fn.add_inputs();
        x->set_name("x");
        tensorType(*x->mutable_type(), milspec::FLOAT32, {2, 3});
        block = &(*fn.mutable_block_specializations())["CoreML5"];

        weightOffset = blobs.add(at::arange(6, at::kFloat).reshape({2, 3}));
        auto* w = addConst(*block, "w", milspec::FLOAT32, {2, 3});
        valOf(w).mutable_blobfilevalue()->set_filename("@model_path/weights/weight.bin");
        valOf(w).mutable_blobfilevalue()->set_offset(weightOffset);

        auto* h = addConst(*block, "h16", milspec::FLOAT16, {3});
        const at::Tensor h16 = at::tensor({0.5f, -1.0f, 2.0f}).to(at::kHalf);
        valOf(h).mutable_immediatevalue()->mutable_tensor()->mutable_bytes()->set_values(
            std::string(static_cast<const char*>(h16.data_ptr()), h16.nbytes()));

        auto* dtype = addConst(*block, "fp32", milspec::STRING, {});
        valOf(dtype).mutable_immediatevalue()->mutable_tensor()->mutable_strings()->add_values("fp32");
        auto* cast = block->add_operations();
        cast->set_type("cast");
        bindName(cast, "x", "h16");
        bindName(cast, "dtype", "fp32");
        cast->add_outputs()->set_name("h");
        tensorType(*cast->mutable_outputs(0)->mutable_type(), milspec::FLOAT32, {3});

        auto* add = block->add_operations();
        add->set_type("add");
        bindName(add, "x", "x");
        bindName(add, "y", "w");
        add->add_outputs()->set_name("s");
        tensorType(*add->mutable_outputs(0)->mutable_type(), milspec::FLOAT32, {2, 3});

        auto* mul = block->add_operations();
        mul->set_type("mul");
        bindName(mul, "x", "s");
        auto* two = (*mul->mutable_inputs())["y"].add_arguments()->mutable_value();
        tensorType(*two->mutable_type(), milspec::FLOAT32, {});
        two->mutable_immediatevalue()->mutable_tensor()->mutable_floats()->add_values(2.0f);
        mul->add_outputs()->set_name("m");
        tensorType(*mul->mutable_outputs(0)->mutable_type(), milspec::FLOAT32, {2, 3});

        auto* plus = block->add_operations();
        plus->set_type("add");
        bindName(plus, "x", "m");
        bindName(plus, "y", "h");
        plus->add_outputs()->set_name("z");
        tensorType(*plus->mutable_outputs(0)->mutable_type(), milspec::FLOAT32, {2, 3});
        block->add_outputs("z");
    }

    void write(const fs::path& dir) const { writeRawPackage(dir, model.SerializeAsString(), blobs.bytes()); }
};

std::string readError(const std::string& path) {
    try {
        backend::readModel(path);
    } catch (const backend::ModelReadError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a hand-made package reads back into an executable program") {
    TempDir dir("reader-handmade");
    HandMadeModel m;
    const fs::path pkg = dir.path() / "m.mlpackage";
    m.write(pkg);
    const backend::ReadModel read = backend::readModel(pkg.string());
    CHECK(read.kind == backend::ModelKind::MLProgram);
    CHECK(read.specificationVersion == 6);
    CHECK(read.blobCount == 1);
    REQUIRE(read.inputs.size() == 1);
    CHECK(read.inputs[0].name == "x");
    CHECK(read.inputs[0].type.str() == "fp32[2,3]");
    REQUIRE(read.outputs.size() == 1);
    CHECK(read.outputs[0].type.str() == "fp32[2,3]");  // completed from the program

    const mil::Block& main = read.program->main().body;
    REQUIRE(main.inputs().size() == 1);
    // The inline `2` became a const op of its own.
    int consts = 0;
    for (const auto& op : main.operations()) consts += op->type() == "const";
    CHECK(consts == 4);
    // The blob aliases the mapped file: no copy.
    const mil::ConstData* w = main.operations()[0]->constData().get();
    REQUIRE(w);
    CHECK(w->dtype == DType::Float32);
    CHECK(w->toDoubles() == std::vector<double>{0, 1, 2, 3, 4, 5});

    const at::Tensor x = at::randn({2, 3});
    const auto out = runtime::execute(*read.program, {{"x", x}});
    const at::Tensor want = (x + at::arange(6, at::kFloat).reshape({2, 3})) * 2 + at::tensor({0.5f, -1.0f, 2.0f});
    CHECK_MESSAGE(close(out.at(0), want), text(out.at(0)));
}

TEST_CASE("reader errors name the file and the problem") {
    TempDir dir("reader-errors");

    SUBCASE("no such path") {
        CHECK(readError((dir.path() / "none.mlpackage").string()).find("no such file") != std::string::npos);
    }

    SUBCASE("a directory without a manifest") {
        fs::create_directories(dir.path() / "empty.mlpackage");
        CHECK(readError((dir.path() / "empty.mlpackage").string()).find("Manifest.json is missing") !=
              std::string::npos);
    }

    SUBCASE("an unparsable manifest") {
        const fs::path pkg = dir.path() / "bad.mlpackage";
        HandMadeModel().write(pkg);
        std::ofstream(pkg / "Manifest.json") << "{ not json";
        const std::string e = readError(pkg.string());
        CHECK(e.find("Manifest.json") != std::string::npos);
        CHECK(e.find("cannot parse") != std::string::npos);
    }

    SUBCASE("a manifest whose root model is missing") {
        const fs::path pkg = dir.path() / "nomodel.mlpackage";
        HandMadeModel().write(pkg);
        fs::remove(pkg / "Data" / "com.apple.CoreML" / "model.mlmodel");
        CHECK(readError(pkg.string()).find("root model named by") != std::string::npos);
    }

    SUBCASE("an unparsable model") {
        const fs::path pkg = dir.path() / "garbage.mlpackage";
        HandMadeModel().write(pkg);
        std::ofstream(pkg / "Data" / "com.apple.CoreML" / "model.mlmodel", std::ios::binary)
            << std::string("\xff\xff\xff\xff garbage", 12);
        const std::string e = readError(pkg.string());
        CHECK(e.find("model.mlmodel") != std::string::npos);
        CHECK(e.find("does not parse") != std::string::npos);
    }

    SUBCASE("an unknown value name") {
        HandMadeModel m;
        (*m.block->mutable_operations(m.block->operations_size() - 1)->mutable_inputs())["y"]
            .mutable_arguments(0)
            ->set_name("nowhere");
        const fs::path pkg = dir.path() / "dangling.mlpackage";
        m.write(pkg);
        const std::string e = readError(pkg.string());
        CHECK(e.find("model.mlmodel") != std::string::npos);
        CHECK(e.find("unknown value 'nowhere'") != std::string::npos);
    }

    SUBCASE("a const whose value does not match its type") {
        HandMadeModel m;
        // h16 declares fp16[3] but carries 4 bytes.
        valOf(m.block->mutable_operations(1))
            .mutable_immediatevalue()
            ->mutable_tensor()
            ->mutable_bytes()
            ->set_values("abcd");
        const fs::path pkg = dir.path() / "short.mlpackage";
        m.write(pkg);
        CHECK(readError(pkg.string()).find("holds 4 bytes but its type fp16[3] needs 6") != std::string::npos);
    }

    SUBCASE("a blob whose dtype differs from the declared one") {
        HandMadeModel m;
        auto* w = m.block->mutable_operations(0);
        tensorType(*w->mutable_outputs(0)->mutable_type(), milspec::FLOAT16, {2, 3});
        tensorType(*valOf(w).mutable_type(), milspec::FLOAT16, {2, 3});
        const fs::path pkg = dir.path() / "dtype.mlpackage";
        m.write(pkg);
        const std::string e = readError(pkg.string());
        CAPTURE(e);
        CHECK(e.find("weight.bin") != std::string::npos);
        CHECK(e.find("blob dtype is fp32 but the program declares fp16") != std::string::npos);
    }

    SUBCASE("a blob whose size differs from the declared shape") {
        HandMadeModel m;
        auto* w = m.block->mutable_operations(0);
        tensorType(*valOf(w).mutable_type(), milspec::FLOAT32, {3, 3});
        tensorType(*w->mutable_outputs(0)->mutable_type(), milspec::FLOAT32, {3, 3});
        const fs::path pkg = dir.path() / "size.mlpackage";
        m.write(pkg);
        const std::string e = readError(pkg.string());
        CAPTURE(e);
        CHECK(e.find("holds 24 bytes but the program declares fp32[3,3] (36 bytes)") != std::string::npos);
    }

    SUBCASE(
        "a malformed NeuralNetwork layer (a custom layer without inputs), or a blob nothing produces, is refused "
        "naming the layer") {
        spec::Model nn;
        nn.set_specificationversion(4);
        auto* custom = nn.mutable_neuralnetwork()->add_layers();
        custom->set_name("odd");
        custom->add_output("y");
        custom->mutable_custom()->set_classname("MyLayer");
        const fs::path file = dir.path() / "nn.mlmodel";
        std::ofstream(file, std::ios::binary) << nn.SerializeAsString();
        const std::string e = readError(file.string());
        CHECK(e.find(file.string() + ": layer 'odd' (custom)") != std::string::npos);
        CHECK(e.find("custom layer of class 'MyLayer' has no inputs") != std::string::npos);

        custom->Clear();
        custom->set_name("relu");
        custom->add_input("nowhere");
        custom->add_output("y");
        custom->mutable_activation()->mutable_relu();
        std::ofstream(file, std::ios::binary | std::ios::trunc) << nn.SerializeAsString();
        CHECK(readError(file.string()).find("blob 'nowhere' is used before any layer or input produces it") !=
              std::string::npos);
    }
}

TEST_CASE("a package written by the ML Program writer reads back and runs like its program") {
    // conv with a blob weight, an fp16 cast in the middle, reshape with a computed shape.
    mil::Program program;
    mil::Block& main = program.main().body;
    mil::Builder b(main, Target::iOS16);
    mil::Value* x = main.addInput("image", TensorType::of(DType::Float32, {1, 3, 8, 8}));
    const at::Tensor weight = at::randn({4, 3, 3, 3});
    mil::Value* conv = b.add("conv", {{"x", x},
                                      {"weight", constantOf(b, weight)},
                                      {"bias", constantOf(b, at::randn({4}))},
                                      {"pad_type", "same"},
                                      {"strides", std::vector<int64_t>{2, 2}}});
    mil::Value* half = b.add("cast", {{"x", conv}, {"dtype", "fp16"}});
    mil::Value* act = b.add("relu", {{"x", half}});
    mil::Value* back = b.add("cast", {{"x", act}, {"dtype", "fp32"}});
    mil::Value* flat = b.add("reshape", {{"x", back}, {"shape", std::vector<int64_t>{1, -1}}});
    main.outputs() = {flat};

    TempDir dir("reader-writer");
    const std::string pkg = (dir.path() / "w.mlpackage").string();
    ModelOptions options;
    options.target = Target::iOS16;
    writeMLPackage(program, options, pkg);
    const backend::ReadModel read = backend::readModel(pkg);
    CHECK(read.blobCount >= 1);
    CHECK(read.specificationVersion == 7);
    REQUIRE(read.inputs.size() == 1);
    CHECK(read.inputs[0].name == "image");

    const at::Tensor in = at::randn({1, 3, 8, 8});
    const at::Tensor fromMemory = runtime::execute(program, {{"image", in}}).at(0);
    const at::Tensor fromFile = runtime::execute(*read.program, {{"image", in}}).at(0);
    CHECK(fromFile.sizes() == at::IntArrayRef({1, 64}));
    CHECK(at::equal(fromMemory, fromFile));
}

TEST_CASE("flexible input shapes keep their bounds through the file") {
    mil::Program program;
    mil::Block& main = program.main().body;
    mil::Builder b(main, Target::iOS15);
    TensorType t;
    t.dtype = DType::Float32;
    t.shape = {Dim::symbolic("batch", 1, 8), Dim::fixed(4)};
    mil::Value* x = main.addInput("x", t);
    main.outputs() = {b.add("relu", {{"x", x}})};
    TempDir dir("reader-flexible");
    const std::string pkg = (dir.path() / "f.mlpackage").string();
    writeMLPackage(program, ModelOptions{}, pkg);
    const backend::ReadModel read = backend::readModel(pkg);
    const TensorType& in = read.program->main().body.inputs().at(0)->type();
    REQUIRE(in.rank() == 2);
    CHECK_FALSE(in.shape[0].isStatic());
    CHECK(in.shape[0].lower == 1);
    CHECK(in.shape[0].upper == 8);
    CHECK(runtime::execute(*read.program, {{"x", at::ones({5, 4})}}).at(0).size(0) == 5);
    CHECK_THROWS_WITH_AS(runtime::execute(*read.program, {{"x", at::ones({9, 4})}}), doctest::Contains("(1..8),4]"),
                         std::invalid_argument);
}
