// Round-trip parity of the NeuralNetwork format, op by op: for every MIL op with a NeuralNetwork
// form (LayerTable::builtin().opTypes()), a small program using it is executed as built, written
// as an .mlmodel, read back through the layer families' readers and executed again; the two
// results must agree. A writer and its reader that disagree on any op (a padding order, an axis,
// a default) fail this test naming the op.
#include "backend/ModelReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "backend/neuralnetwork/NeuralNetworkWriter.h"
#include "runtime/Executor.h"
#include "runtime/RuntimeTestSupport.h"
#include "runtime/TensorSupport.h"

#include <ts2coreml/Builder.h>

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <set>
#include <sstream>

using namespace ts2coreml;
using mil::Builder;
using mil::Value;

namespace {

/// A program for one op: inputs (fp32 or int32 tensors, fed as x0, x1, ...) and the ops using it.
struct Example {
    std::vector<at::Tensor> inputs;
    std::function<std::vector<Value*>(Builder&, const std::vector<Value*>&)> body;
};

/// Values in (0.1, 0.9): inside the domain of every unary op (log, sqrt, asin, acos, atanh, ...).
at::Tensor unit(std::vector<int64_t> sizes, uint64_t seed) {
    at::Generator gen = at::detail::createCPUGenerator(seed);
    return at::rand(sizes, gen, at::kFloat) * 0.8 + 0.1;
}

at::Tensor weights(std::vector<int64_t> sizes, uint64_t seed) {
    at::Generator gen = at::detail::createCPUGenerator(seed);
    return at::randn(sizes, gen, at::kFloat);
}

Value* constant(Builder& b, const at::Tensor& t) { return test::constantOf(b, t); }

Example one(std::vector<int64_t> sizes, std::function<Value*(Builder&, Value*)> f) {
    return {{unit(std::move(sizes), 1)},
            [f](Builder& b, const std::vector<Value*>& in) { return std::vector<Value*>{f(b, in[0])}; }};
}

/// Ops whose required inputs are more than x (and y): explicit examples.
std::map<std::string, Example> explicitExamples() {
    std::map<std::string, Example> e;
    const std::vector<int64_t> image{1, 4, 6, 6};
    e["clip"] = one({2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("clip", {{"x", x}, {"alpha", 0.3}, {"beta", 0.7}});
    });
    e["prelu"] = one(image, [](Builder& b, Value* x) {
        Value* centred = b.add("sub", {{"x", x}, {"y", 0.5}});
        return b.add("prelu", {{"x", centred}, {"alpha", constant(b, weights({4}, 2))}});
    });
    e["threshold"] = one({2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("threshold", {{"x", x}, {"alpha", 0.4}});
    });
    e["conv"] = one(image, [](Builder& b, Value* x) {
        return b.add("conv", {{"x", x},
                              {"weight", constant(b, weights({6, 2, 3, 2}, 3))},
                              {"bias", constant(b, weights({6}, 4))},
                              {"strides", std::vector<int64_t>{2, 1}},
                              {"pad_type", "custom"},
                              {"pad", std::vector<int64_t>{1, 0, 0, 1}},
                              {"groups", int64_t{2}}});
    });
    e["conv_transpose"] = one(image, [](Builder& b, Value* x) {
        return b.add("conv_transpose", {{"x", x},
                                        {"weight", constant(b, weights({4, 3, 3, 3}, 5))},
                                        {"strides", std::vector<int64_t>{2, 2}},
                                        {"pad_type", "custom"},
                                        {"pad", std::vector<int64_t>{1, 1, 0, 0}}});
    });
    e["select"] = {{unit({2, 3}, 1), unit({2, 3}, 2), unit({2, 3}, 3)}, [](Builder& b, const std::vector<Value*>& in) {
                       Value* cond = b.add("greater", {{"x", in[0]}, {"y", 0.5}});
                       return std::vector<Value*>{b.add("select", {{"cond", cond}, {"a", in[1]}, {"b", in[2]}})};
                   }};
    e["cast"] = one({2, 5}, [](Builder& b, Value* x) {
        Value* spread = b.add("mul", {{"x", b.add("sub", {{"x", x}, {"y", 0.5}})}, {"y", 9.0}});
        return b.add("cast", {{"x", spread}, {"dtype", "int32"}});
    });
    e["range_1d"] = one({1}, [](Builder& b, Value* x) {
        Value* end = b.add("reduce_max", {{"x", b.add("mul", {{"x", x}, {"y", 20.0}})}});
        return b.add("range_1d", {{"end", end}, {"start", b.scalar(1.0f)}, {"step", b.scalar(1.5f)}});
    });
    e["slice_by_index"] = one({4, 6, 5}, [](Builder& b, Value* x) {
        return b.add("slice_by_index",
                     {{"x", x},
                      {"begin", std::vector<int64_t>{1, 0, 3}},
                      {"end", std::vector<int64_t>{3, 5, 0}},
                      {"stride", std::vector<int64_t>{1, 2, 1}},
                      {"end_mask", b.constant(mil::ConstData::fromBools({false, false, true}, {3}))}});
    });
    e["slice_by_size"] = one({4, 6}, [](Builder& b, Value* x) {
        return b.add("slice_by_size",
                     {{"x", x}, {"begin", std::vector<int64_t>{1, 2}}, {"size", std::vector<int64_t>{2, -1}}});
    });
    e["gather"] = one({5, 3}, [](Builder& b, Value* x) {
        return b.add("gather", {{"x", x}, {"indices", std::vector<int64_t>{4, 0, 2, 2}}, {"axis", int64_t{0}}});
    });
    e["gather_along_axis"] = one({3, 4}, [](Builder& b, Value* x) {
        Value* indices = b.constant(mil::ConstData::fromInts({3, 0, 1, 2, 2, 1}, {3, 2}));
        return b.add("gather_along_axis", {{"x", x}, {"indices", indices}, {"axis", int64_t{1}}});
    });
    e["gather_nd"] = one({3, 4, 2}, [](Builder& b, Value* x) {
        Value* indices = b.constant(mil::ConstData::fromInts({2, 1, 0, 3}, {2, 2}));
        return b.add("gather_nd", {{"x", x}, {"indices", indices}});
    });
    // Colliding indices, so that the mode matters.
    e["scatter"] = {
        {unit({4, 3}, 1), unit({2, 3, 3}, 2)}, [](Builder& b, const std::vector<Value*>& in) {
            Value* indices = b.constant(mil::ConstData::fromInts({3, 0, 3, 1, 2, 0}, {2, 3}));
            return std::vector<Value*>{b.add(
                "scatter",
                {{"data", in[0]}, {"indices", indices}, {"updates", in[1]}, {"axis", int64_t{0}}, {"mode", "max"}})};
        }};
    e["scatter_along_axis"] = {
        {unit({3, 4}, 1), unit({3, 2}, 2)}, [](Builder& b, const std::vector<Value*>& in) {
            Value* indices = b.constant(mil::ConstData::fromInts({3, 3, 0, 1, 2, 2}, {3, 2}));
            return std::vector<Value*>{b.add(
                "scatter_along_axis",
                {{"data", in[0]}, {"indices", indices}, {"updates", in[1]}, {"axis", int64_t{-1}}, {"mode", "mul"}})};
        }};
    e["scatter_nd"] = {
        {unit({3, 4, 2}, 1), unit({3, 2}, 2)}, [](Builder& b, const std::vector<Value*>& in) {
            Value* indices = b.constant(mil::ConstData::fromInts({2, 1, 0, 3, 2, 1}, {3, 2}));
            return std::vector<Value*>{
                b.add("scatter_nd", {{"data", in[0]}, {"indices", indices}, {"updates", in[1]}, {"mode", "add"}})};
        }};
    e["linear"] = one({2, 3, 5}, [](Builder& b, Value* x) {
        return b.add("linear",
                     {{"x", x}, {"weight", constant(b, weights({4, 5}, 6))}, {"bias", constant(b, weights({4}, 7))}});
    });
    e["matmul"] = {{unit({2, 3, 5}, 1), unit({2, 4, 5}, 2)}, [](Builder& b, const std::vector<Value*>& in) {
                       return std::vector<Value*>{b.add("matmul", {{"x", in[0]}, {"y", in[1]}, {"transpose_y", true}})};
                   }};
    e["batch_norm"] = one(image, [](Builder& b, Value* x) {
        return b.add("batch_norm", {{"x", x},
                                    {"mean", constant(b, weights({4}, 8))},
                                    {"variance", constant(b, unit({4}, 9))},
                                    {"gamma", constant(b, weights({4}, 10))},
                                    {"beta", constant(b, weights({4}, 11))},
                                    {"epsilon", 1e-3}});
    });
    e["instance_norm"] = one(image, [](Builder& b, Value* x) {
        return b.add("instance_norm", {{"x", x},
                                       {"gamma", constant(b, weights({4}, 12))},
                                       {"beta", constant(b, weights({4}, 13))},
                                       {"epsilon", 1e-5}});
    });
    e["layer_norm"] = one({2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("layer_norm", {{"x", x},
                                    {"axes", std::vector<int64_t>{-2, -1}},
                                    {"gamma", constant(b, weights({3, 4}, 14))},
                                    {"beta", constant(b, weights({3, 4}, 15))}});
    });
    e["max_pool"] = one({1, 2, 7, 6}, [](Builder& b, Value* x) {
        return b.add("max_pool", {{"x", x},
                                  {"kernel_sizes", std::vector<int64_t>{3, 2}},
                                  {"strides", std::vector<int64_t>{2, 1}},
                                  {"pad_type", "custom"},
                                  {"pad", std::vector<int64_t>{1, 1, 0, 0}}});
    });
    e["avg_pool"] = one({1, 2, 7, 6}, [](Builder& b, Value* x) {
        return b.add("avg_pool", {{"x", x},
                                  {"kernel_sizes", std::vector<int64_t>{2, 3}},
                                  {"strides", std::vector<int64_t>{1, 2}},
                                  {"pad_type", "custom"},
                                  {"pad", std::vector<int64_t>{1, 0, 1, 1}},
                                  {"exclude_padding_from_average", true}});
    });
    e["reshape"] = one({2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("reshape", {{"x", x}, {"shape", std::vector<int64_t>{4, -1, 3}}});
    });
    e["transpose"] = one({2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("transpose", {{"x", x}, {"perm", std::vector<int64_t>{2, 0, 1}}});
    });
    e["squeeze"] = one({2, 1, 4, 1}, [](Builder& b, Value* x) {
        return b.add("squeeze", {{"x", x}, {"axes", std::vector<int64_t>{-1}}});
    });
    e["expand_dims"] = one({2, 3}, [](Builder& b, Value* x) {
        return b.add("expand_dims", {{"x", x}, {"axes", std::vector<int64_t>{0, -1}}});
    });
    e["concat"] = {{unit({2, 3}, 1), unit({2, 2}, 2)}, [](Builder& b, const std::vector<Value*>& in) {
                       return std::vector<Value*>{
                           b.add("concat", {{"values", std::vector<Value*>{in[0], in[1]}}, {"axis", int64_t{-1}}})};
                   }};
    e["split"] = {
        {unit({2, 7}, 1)}, [](Builder& b, const std::vector<Value*>& in) {
            return b.addOp("split", {{"x", in[0]}, {"split_sizes", std::vector<int64_t>{2, 5}}, {"axis", int64_t{1}}});
        }};
    e["stack"] = {{unit({2, 3}, 1), unit({2, 3}, 2)}, [](Builder& b, const std::vector<Value*>& in) {
                      return std::vector<Value*>{
                          b.add("stack", {{"values", std::vector<Value*>{in[0], in[1]}}, {"axis", int64_t{1}}})};
                  }};
    e["tile"] = one({2, 3}, [](Builder& b, Value* x) {
        return b.add("tile", {{"x", x}, {"reps", std::vector<int64_t>{2, 3}}});
    });
    e["pad"] = one({1, 2, 4, 5}, [](Builder& b, Value* x) {
        return b.add("pad", {{"x", x}, {"pad", std::vector<int64_t>{1, 2, 0, 3}}, {"mode", "reflect"}});
    });
    e["reverse"] = one({2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("reverse", {{"x", x}, {"axes", std::vector<int64_t>{0, 2}}});
    });
    e["depth_to_space"] = one({1, 8, 2, 3}, [](Builder& b, Value* x) {
        return b.add("depth_to_space", {{"x", x}, {"block_size", int64_t{2}}});
    });
    e["space_to_depth"] = one({1, 2, 4, 6}, [](Builder& b, Value* x) {
        return b.add("space_to_depth", {{"x", x}, {"block_size", int64_t{2}}});
    });
    e["pixel_shuffle"] = one({1, 8, 2, 3}, [](Builder& b, Value* x) {
        return b.add("pixel_shuffle", {{"x", x}, {"upscale_factor", int64_t{2}}});
    });
    e["upsample_nearest_neighbor"] = one({1, 2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("upsample_nearest_neighbor",
                     {{"x", x}, {"scale_factor_height", int64_t{2}}, {"scale_factor_width", int64_t{3}}});
    });
    e["upsample_bilinear"] = one({1, 2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("upsample_bilinear", {{"x", x},
                                           {"scale_factor_height", 2.0},
                                           {"scale_factor_width", 1.5},
                                           {"align_corners", false},
                                           {"half_pixel_centers", true}});
    });
    e["resize_bilinear"] = one({1, 2, 3, 4}, [](Builder& b, Value* x) {
        return b.add("resize_bilinear", {{"x", x},
                                         {"target_size_height", int64_t{5}},
                                         {"target_size_width", int64_t{7}},
                                         {"sampling_mode", "ALIGN_CORNERS"}});
    });
    // Seeded draws are repeatable: the read-back program draws the same values. A constant shape
    // is a Static layer, a computed one a Dynamic layer.
    e["random_uniform"] = one({2, 3}, [](Builder& b, Value* x) {
        return b.add("random_uniform",
                     {{"shape", std::vector<int64_t>{3, 4}}, {"low", -2.0}, {"high", 3.0}, {"seed", int64_t{7}}});
    });
    e["random_normal"] = one({2, 3}, [](Builder& b, Value* x) {
        Value* shape = b.add("shape", {{"x", x}});
        return b.add("random_normal", {{"shape", shape}, {"mean", 1.0}, {"stddev", 2.0}, {"seed", int64_t{11}}});
    });
    e["random_bernoulli"] = one({2, 3}, [](Builder& b, Value* x) {
        return b.add("random_bernoulli",
                     {{"shape", std::vector<int64_t>{4, 5}}, {"prob", 0.25}, {"seed", int64_t{13}}});
    });
    // Recurrent ops on x [S, B, I] = [4, 2, 3], hidden size 2: each variant (its own initial states
    // and weights, then `extra` inputs) adds its outputs.
    struct Variant {
        uint64_t seed;
        std::function<mil::OperandList(Builder&)> extra;
        int64_t directions = 1;
    };
    auto recurrent = [](std::string op, int64_t gates, std::vector<Variant> variants) {
        return Example{{unit({4, 2, 3}, 1)}, [=](Builder& b, const std::vector<Value*>& in) {
                           std::vector<Value*> out;
                           for (const Variant& v : variants) {
                               const std::vector<int64_t> state{2, 2 * v.directions};
                               mil::OperandList ops{{"x", in[0]}, {"initial_h", constant(b, weights(state, v.seed))}};
                               if (op == "lstm") ops.push_back({"initial_c", constant(b, weights(state, v.seed + 1))});
                               ops.push_back({"weight_ih", constant(b, weights({2 * gates, 3}, v.seed + 2))});
                               ops.push_back({"weight_hh", constant(b, weights({2 * gates, 2}, v.seed + 3))});
                               for (auto& o : v.extra(b)) ops.push_back(o);
                               for (Value* o : b.addOp(op, ops)) out.push_back(o);
                           }
                           return out;
                       }};
    };
    using Ops = mil::OperandList;
    e["lstm"] = recurrent("lstm", 4,
                          {{20,
                            [](Builder& b) {
                                return Ops{{"bias", constant(b, weights({8}, 30))},
                                           {"peephole", constant(b, weights({6}, 31))},
                                           {"output_sequence", true},
                                           {"clip", 0.8}};
                            }},
                           {40,
                            [](Builder&) {
                                return Ops{{"direction", "reverse"},
                                           {"recurrent_activation", "hard_sigmoid"},
                                           {"cell_activation", "scaled_tanh"},
                                           {"activation", "linear"}};
                            }},
                           {50,
                            [](Builder& b) {
                                return Ops{{"direction", "bidirectional"},
                                           {"weight_ih_back", constant(b, weights({8, 3}, 60))},
                                           {"weight_hh_back", constant(b, weights({8, 2}, 61))},
                                           {"bias_back", constant(b, weights({8}, 62))},
                                           {"cell_activation", "relu"},
                                           {"output_sequence", true}};
                            },
                            2}});
    e["gru"] = recurrent(
        "gru", 3,
        {{70,
          [](Builder& b) {
              return Ops{{"bias", constant(b, weights({6}, 73))}, {"output_sequence", true}};
          }},
         {80, [](Builder&) {
              return Ops{{"direction", "reverse"}, {"recurrent_activation", "hard_sigmoid"}, {"activation", "relu"}};
          }}});
    e["rnn"] = recurrent("rnn", 1,
                         {{90,
                           [](Builder& b) {
                               return Ops{{"bias", constant(b, weights({2}, 93))}, {"output_sequence", true}};
                           }},
                          {100,
                           [](Builder&) {
                               return Ops{{"direction", "reverse"}, {"activation", "relu"}};
                           }},
                          {110, [](Builder&) {
                               return Ops{{"activation", "sigmoid"}, {"output_sequence", true}};
                           }}});
    e["random_categorical"] = one({3, 4}, [](Builder& b, Value* x) {
        return b.add("random_categorical", {{"x", x}, {"mode", "probs"}, {"size", int64_t{6}}, {"seed", int64_t{17}}});
    });
    return e;
}

/// An op of one or two runtime inputs x (and y), whose other required inputs are float constants
/// (alpha, beta): fed x (and y) in (0.1, 0.9), cast to bool (x > 0.5) or int32 where the op takes
/// only those, and constants 0.3, 0.8, ... in order; nullopt when the op needs more.
std::optional<Example> genericExample(const mil::OpSchema& schema) {
    std::vector<const mil::InputSpec*> tensors, constants;
    for (const auto& in : schema.inputs) {
        if (in.optional) continue;
        if (in.variadic) return std::nullopt;
        if (in.isConst) {
            if (!(in.dtypes & kFloats)) return std::nullopt;
            constants.push_back(&in);
        } else if (in.name == "x" || in.name == "y") {
            tensors.push_back(&in);
        } else {
            return std::nullopt;
        }
    }
    if (tensors.empty()) return std::nullopt;
    Example e;
    for (size_t i = 0; i < tensors.size(); ++i) e.inputs.push_back(unit({2, 3, 4, 5}, 1 + i));
    const std::string op = schema.name;
    e.body = [op, tensors, constants](Builder& b, const std::vector<Value*>& in) {
        mil::OperandList operands;
        for (size_t i = 0; i < tensors.size(); ++i) {
            Value* v = in[i];
            const DTypeSet d = tensors[i]->dtypes;
            if (!(d & bit(DType::Float32)) && (d & bit(DType::Bool)))
                v = b.add("greater", {{"x", v}, {"y", 0.5}});
            else if (!(d & bit(DType::Float32)) && (d & bit(DType::Int32)))
                v = b.add("cast", {{"x", b.add("mul", {{"x", v}, {"y", 10.0}})}, {"dtype", "int32"}});
            operands.push_back({tensors[i]->name, v});
        }
        for (size_t i = 0; i < constants.size(); ++i) operands.push_back({constants[i]->name, 0.3 + 0.5 * i});
        return b.addOp(op, operands);
    };
    return e;
}

/// Builds the example's program, runs it, writes it as an .mlmodel, reads it back, runs that and
/// compares. Returns what went wrong, or an empty string.
std::string roundTrip(const std::string& op, const Example& example, const std::filesystem::path& dir) {
    mil::Program program;
    mil::Block& main = program.main().body;
    Builder b(main, Target::iOS18);
    std::map<std::string, at::Tensor> feed;
    std::vector<Value*> inputs;
    for (size_t i = 0; i < example.inputs.size(); ++i) {
        const std::string name = "x" + std::to_string(i);
        inputs.push_back(main.addInput(name, TensorType::of(DType::Float32, example.inputs[i].sizes().vec())));
        feed[name] = example.inputs[i];
    }
    std::vector<Value*> outputs = example.body(b, inputs);
    for (size_t i = 0; i < outputs.size(); ++i) {
        // Outputs of a NeuralNetwork are fp32 or int32 arrays of rank >= 1.
        if (outputs[i]->type().dtype == DType::Bool) outputs[i] = b.add("cast", {{"x", outputs[i]}, {"dtype", "fp32"}});
        outputs[i]->setName("out" + std::to_string(i));
    }
    main.outputs() = outputs;
    const std::vector<at::Tensor> expected = runtime::execute(program, feed);

    const std::string path = (dir / (op + ".mlmodel")).string();
    ModelOptions options;
    options.target = Target::iOS13;
    writeNeuralNetwork(program, options, path);
    backend::ReadModel read = backend::readModel(path);
    const std::vector<at::Tensor> actual = runtime::execute(*read.program, feed);
    if (actual.size() != expected.size())
        return "read back with " + std::to_string(actual.size()) + " outputs, written with " +
               std::to_string(expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        const at::Tensor want = expected[i].to(at::kDouble), got = actual[i].to(at::kDouble);
        // A rank-0 result is a [1] blob in a NeuralNetwork.
        if (want.numel() != got.numel() || (want.dim() > 0 && want.sizes() != got.sizes()))
            return "output " + std::to_string(i) + " has shape " + runtime::sizesText(got.sizes()) + ", expected " +
                   runtime::sizesText(want.sizes());
        if (!at::allclose(got.reshape(want.sizes()), want, 1e-4, 1e-4))
            return "output " + std::to_string(i) + " differs: got " + test::text(got) + ", expected " +
                   test::text(want);
    }
    return {};
}

}  // namespace

TEST_CASE("every MIL op with a NeuralNetwork form reads back as it was written (round-trip parity)") {
    test::TempDir dir("layer_round_trip");
    const auto examples = explicitExamples();
    const auto ops = nn::LayerTable::builtin().opTypes();
    REQUIRE(ops.size() > 100);
    size_t checked = 0;
    for (const std::string& op : ops) {
        const mil::OpSchema* schema = mil::SchemaTable::instance().find(op);
        REQUIRE_MESSAGE(schema, op);
        std::optional<Example> example;
        if (auto it = examples.find(op); it != examples.end())
            example = it->second;
        else
            example = genericExample(*schema);
        if (!example) {
            FAIL_CHECK("MIL op '" << op << "' has a NeuralNetwork layer but no round-trip example: add one to "
                                  << "explicitExamples()");
            continue;
        }
        std::string problem;
        try {
            problem = roundTrip(op, *example, dir.path());
        } catch (const std::exception& e) {
            problem = e.what();
        }
        CHECK_MESSAGE(problem.empty(), "MIL op '" << op << "': " << problem);
        ++checked;
    }
    MESSAGE("round-tripped " << checked << " MIL ops");
    // Every explicit example names an op the table still has.
    for (const auto& [op, _] : examples) CHECK_MESSAGE(nn::LayerTable::builtin().find(op), op);
}

TEST_CASE("every layer kind the families write has a reader") {
    // The layers a NeuralNetwork holds are read by the family that writes them; a kind with no
    // reader makes readModel refuse the file, naming the layer.
    const auto kinds = nn::LayerTable::builtin().layerKinds();
    const std::set<nn::LayerTable::LayerKind> readable(kinds.begin(), kinds.end());
    for (auto kind :
         {spec::NeuralNetworkLayer::kConvolution, spec::NeuralNetworkLayer::kBranch, spec::NeuralNetworkLayer::kLoop,
          spec::NeuralNetworkLayer::kCopy, spec::NeuralNetworkLayer::kCustom, spec::NeuralNetworkLayer::kActivation})
        CHECK_MESSAGE(readable.count(kind), nn::layerKindName(kind));
}
