// random_uniform, random_normal and random_bernoulli <-> the RandomUniform / RandomNormal /
// RandomBernoulli layers: the Static form when the shape is a constant (outputShape), the Dynamic
// form reading the shape from a blob; random_categorical <-> CategoricalDistribution (numSamples,
// isLogits, Core ML's default eps 1e-10 and temperature 1).
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

using L = spec::NeuralNetworkLayer;

float param(const LayerWriter& w, const char* name) { return static_cast<float>(w.params().getDouble(name)); }

// `fill` sets the distribution's parameters on the Static or the Dynamic message.
template <typename Static, typename Dynamic, typename Fill>
void writeRandom(LayerWriter& w, Static* (L::*staticLayer)(), Dynamic* (L::*dynamicLayer)(), Fill fill) {
    const int64_t seed = w.params().getInt("seed");
    if (w.isConst("shape")) {
        auto* p = (w.layer({}).*staticLayer)();
        p->set_seed(seed);
        fill(*p);
        for (int64_t s : w.params().getInts("shape")) p->add_outputshape(static_cast<uint64_t>(s));
    } else {
        auto* p = (w.layer({w.in("shape")}).*dynamicLayer)();
        p->set_seed(seed);
        fill(*p);
    }
}

// The op with the layer's parameters, its seed, and the shape: outputShape, or the input blob.
template <typename Params>
void readRandom(LayerReader& r, const std::string& op, const Params& p, mil::OperandList parameters) {
    mil::Value* shape = r.inputs() > 0 ? r.asInt(r.in()) : nullptr;
    if constexpr (std::is_same_v<Params, spec::RandomUniformStaticLayerParams> ||
                  std::is_same_v<Params, spec::RandomNormalStaticLayerParams> ||
                  std::is_same_v<Params, spec::RandomBernoulliStaticLayerParams>)
        shape = r.builder().ints(r.ints(p.outputshape()));
    if (!shape) r.fail("needs the shape blob as its input");
    parameters.push_back({"shape", shape});
    parameters.push_back({"seed", static_cast<int64_t>(p.seed())});
    r.out(r.add(op, parameters));
}

}  // namespace

void populateRandomLayers(LayerTable& t) {
    t.add("random_uniform", [](LayerWriter& w) {
        writeRandom(w, &L::mutable_randomuniformstatic, &L::mutable_randomuniformdynamic, [&](auto& p) {
            p.set_minval(param(w, "low"));
            p.set_maxval(param(w, "high"));
        });
    });
    t.add("random_normal", [](LayerWriter& w) {
        writeRandom(w, &L::mutable_randomnormalstatic, &L::mutable_randomnormaldynamic, [&](auto& p) {
            p.set_mean(param(w, "mean"));
            p.set_stddev(param(w, "stddev"));
        });
    });
    t.add("random_bernoulli", [](LayerWriter& w) {
        writeRandom(w, &L::mutable_randombernoullistatic, &L::mutable_randombernoullidynamic,
                    [&](auto& p) { p.set_prob(param(w, "prob")); });
    });
    t.add("random_categorical", [](LayerWriter& w) {
        auto* p = w.layer({w.in("x")}).mutable_categoricaldistribution();
        p->set_seed(w.params().getInt("seed"));
        p->set_numsamples(w.params().getInt("size"));
        p->set_islogits(w.params().getString("mode") == "logits");
        p->set_eps(1e-10f);
        p->set_temperature(1.0f);
    });
    t.reads(L::kCategoricalDistribution, [](LayerReader& r) {
        const auto& p = r.layer().categoricaldistribution();
        if (p.temperature() != 0 && p.temperature() != 1)
            r.fail("temperature " + std::to_string(p.temperature()) + " is not supported (only 1)");
        r.out(r.add("random_categorical", {{"x", r.in()},
                                           {"mode", std::string(p.islogits() ? "logits" : "probs")},
                                           {"size", static_cast<int64_t>(p.numsamples())},
                                           {"seed", static_cast<int64_t>(p.seed())}}));
    });
    auto uniform = [](const auto& p) {
        return mil::OperandList{{"low", double{p.minval()}}, {"high", double{p.maxval()}}};
    };
    auto normal = [](const auto& p) {
        return mil::OperandList{{"mean", double{p.mean()}}, {"stddev", double{p.stddev()}}};
    };
    auto bernoulli = [](const auto& p) { return mil::OperandList{{"prob", double{p.prob()}}}; };
    t.reads(L::kRandomUniformStatic, [=](LayerReader& r) {
        readRandom(r, "random_uniform", r.layer().randomuniformstatic(), uniform(r.layer().randomuniformstatic()));
    });
    t.reads(L::kRandomUniformDynamic, [=](LayerReader& r) {
        readRandom(r, "random_uniform", r.layer().randomuniformdynamic(), uniform(r.layer().randomuniformdynamic()));
    });
    t.reads(L::kRandomNormalStatic, [=](LayerReader& r) {
        readRandom(r, "random_normal", r.layer().randomnormalstatic(), normal(r.layer().randomnormalstatic()));
    });
    t.reads(L::kRandomNormalDynamic, [=](LayerReader& r) {
        readRandom(r, "random_normal", r.layer().randomnormaldynamic(), normal(r.layer().randomnormaldynamic()));
    });
    t.reads(L::kRandomBernoulliStatic, [=](LayerReader& r) {
        readRandom(r, "random_bernoulli", r.layer().randombernoullistatic(),
                   bernoulli(r.layer().randombernoullistatic()));
    });
    t.reads(L::kRandomBernoulliDynamic, [=](LayerReader& r) {
        readRandom(r, "random_bernoulli", r.layer().randombernoullidynamic(),
                   bernoulli(r.layer().randombernoullidynamic()));
    });
}

TS2COREML_FAMILY(LayerTable, Random, populateRandomLayers)

}  // namespace ts2coreml::nn
