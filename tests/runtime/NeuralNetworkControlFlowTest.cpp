// NeuralNetwork branch and loop layers as Core ML defines them, read from files made by hand (not
// by ts2coreml's writer, which uses one form of each): blobs that nested networks overwrite become
// the outputs of cond or the variables of while_loop; a loop may be counted (maxLoopIterations or
// an input), conditional, or both; a branch may have no else network.
#include "runtime/RuntimeTestSupport.h"

#include "backend/ModelReader.h"
#include "runtime/Executor.h"

#include <doctest/doctest.h>

#include "Model.pb.h"

#include <fstream>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

using Layers = google::protobuf::RepeatedPtrField<spec::NeuralNetworkLayer>;

void feature(spec::FeatureDescription& f, const std::string& name, int64_t size) {
    f.set_name(name);
    auto* a = f.mutable_type()->mutable_multiarraytype();
    a->add_shape(size);
    a->set_datatype(spec::ArrayFeatureType::FLOAT32);
}

spec::NeuralNetworkLayer& layer(Layers& layers, const std::string& name, const std::vector<std::string>& inputs,
                                const std::vector<std::string>& outputs) {
    auto& l = *layers.Add();
    l.set_name(name);
    for (const auto& i : inputs) l.add_input(i);
    for (const auto& o : outputs) l.add_output(o);
    return l;
}

void copy(Layers& layers, const std::string& from, const std::string& to) {
    layer(layers, "copy_" + from + "_" + to, {from}, {to}).mutable_copy();
}

void scalarConstant(Layers& layers, const std::string& name, float value) {
    auto* c = layer(layers, name, {}, {name}).mutable_loadconstantnd();
    c->add_shape(1);
    c->mutable_data()->add_floatvalue(value);
}

/// A model with inputs `x` [3] and `n` [1] and output `y` [3], whose layers `fill` writes.
struct HandMade {
    spec::Model model;
    Layers& layers = *model.mutable_neuralnetwork()->mutable_layers();
    HandMade() {
        model.set_specificationversion(4);
        // As Apple's validator requires of a network with iOS 13 layers (and ts2coreml writes).
        model.mutable_neuralnetwork()->set_arrayinputshapemapping(spec::EXACT_ARRAY_MAPPING);
        feature(*model.mutable_description()->add_input(), "x", 3);
        feature(*model.mutable_description()->add_input(), "n", 1);
        feature(*model.mutable_description()->add_output(), "y", 3);
    }
    /// Writes the model, reads it back and runs it.
    at::Tensor run(const at::Tensor& x, float n) {
        TempDir dir("nn-control-flow");
        const std::string file = (dir.path() / "m.mlmodel").string();
        std::ofstream(file, std::ios::binary) << model.SerializeAsString();
        const backend::ReadModel read = backend::readModel(file);
        return runtime::execute(*read.program, {{"x", x}, {"n", at::full({1}, n)}}).at(0);
    }
};

const at::Tensor kX = at::tensor({1.0f, -2.0f, 3.0f});

}  // namespace

TEST_CASE("a NeuralNetwork loop counted by maxLoopIterations runs its body that many times") {
    HandMade m;
    copy(m.layers, "x", "y");
    scalarConstant(m.layers, "two", 2.0f);
    auto* loop = layer(m.layers, "loop", {}, {}).mutable_loop();
    loop->set_maxloopiterations(3);
    layer(*loop->mutable_bodynetwork()->mutable_layers(), "twice", {"y", "two"}, {"doubled"})
        .mutable_multiplybroadcastable();
    copy(*loop->mutable_bodynetwork()->mutable_layers(), "doubled", "y");
    CHECK(at::allclose(m.run(kX, 0.0f), kX * 8));
}

TEST_CASE("a NeuralNetwork loop counted by its input, with a condition network: the first to stop ends it") {
    // while sum(y) < 100 and iterations < n: y = y * 2
    HandMade m;
    copy(m.layers, "x", "y");
    scalarConstant(m.layers, "two", 2.0f);
    scalarConstant(m.layers, "hundred", 100.0f);
    auto* loop = layer(m.layers, "loop", {"n"}, {}).mutable_loop();
    auto& condition = *loop->mutable_conditionnetwork()->mutable_layers();
    layer(condition, "sum", {"y"}, {"total"}).mutable_reducesum()->set_reduceall(true);
    layer(condition, "small", {"total", "hundred"}, {"go"}).mutable_lessthan();
    loop->set_conditionvar("go");
    layer(*loop->mutable_bodynetwork()->mutable_layers(), "twice", {"y", "two"}, {"doubled"})
        .mutable_multiplybroadcastable();
    copy(*loop->mutable_bodynetwork()->mutable_layers(), "doubled", "y");

    const at::Tensor x = at::tensor({1.0f, 2.0f, 3.0f});  // sum 6: 6, 12, 24, 48, 96 -> stops at 192
    CHECK(at::allclose(m.run(x, 2.0f), x * 4));           // the count stops it
    CHECK(at::allclose(m.run(x, 100.0f), x * 32));        // the condition stops it
    CHECK(at::allclose(m.run(x, 0.0f), x));               // no iteration at all
}

TEST_CASE("a NeuralNetwork branch overwriting a blob in one network only leaves it as it was in the other") {
    // y = x; if n: y = relu(x)   (no else network)
    HandMade m;
    copy(m.layers, "x", "y");
    auto* branch = layer(m.layers, "branch", {"n"}, {}).mutable_branch();
    auto& then = *branch->mutable_ifbranch()->mutable_layers();
    layer(then, "relu", {"x"}, {"rectified"}).mutable_activation()->mutable_relu();
    copy(then, "rectified", "y");
    CHECK(at::equal(m.run(kX, 1.0f), at::relu(kX)));
    CHECK(at::equal(m.run(kX, 0.0f), kX));
    // Core ML's predicate: true when its magnitude exceeds 1e-6.
    CHECK(at::equal(m.run(kX, -0.5f), at::relu(kX)));
    CHECK(at::equal(m.run(kX, 1e-7f), kX));
}

TEST_CASE("a NeuralNetwork loop nested in a branch carries the branch's blob") {
    // y = x; if n: (loop 2 times: y = y + x)
    HandMade m;
    copy(m.layers, "x", "y");
    auto* branch = layer(m.layers, "branch", {"n"}, {}).mutable_branch();
    auto* loop = layer(*branch->mutable_ifbranch()->mutable_layers(), "loop", {}, {}).mutable_loop();
    loop->set_maxloopiterations(2);
    layer(*loop->mutable_bodynetwork()->mutable_layers(), "plus", {"y", "x"}, {"sum"}).mutable_addbroadcastable();
    copy(*loop->mutable_bodynetwork()->mutable_layers(), "sum", "y");
    CHECK(at::allclose(m.run(kX, 1.0f), kX * 3));
    CHECK(at::allclose(m.run(kX, 0.0f), kX));
}

TEST_CASE("malformed NeuralNetwork loops are refused naming the layer") {
    HandMade m;
    copy(m.layers, "x", "y");
    auto& l = layer(m.layers, "endless", {}, {});
    l.mutable_loop();
    TempDir dir("nn-control-flow-errors");
    const std::string file = (dir.path() / "m.mlmodel").string();
    auto readError = [&] {
        std::ofstream(file, std::ios::binary | std::ios::trunc) << m.model.SerializeAsString();
        try {
            backend::readModel(file);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("(read without error)");
    };
    std::string e = readError();
    CAPTURE(e);
    CHECK(e.find("layer 'endless' (loop): a loop needs a condition network or an iteration count") !=
          std::string::npos);

    l.mutable_loop()->set_conditionvar("go");
    e = readError();
    CHECK(e.find("conditionVar and conditionNetwork must be given together") != std::string::npos);

    // A body reading a blob that nothing defines names the nested layer.
    l.mutable_loop()->set_maxloopiterations(1);
    l.mutable_loop()->clear_conditionvar();
    layer(*l.mutable_loop()->mutable_bodynetwork()->mutable_layers(), "inner", {"nowhere"}, {"z"})
        .mutable_activation()
        ->mutable_relu();
    e = readError();
    CHECK(e.find("layer 'inner' (activation): blob 'nowhere' is used before any layer or input produces it") !=
          std::string::npos);
}
