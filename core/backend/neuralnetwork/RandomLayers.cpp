// random_uniform and random_normal <-> RandomUniform / RandomNormal layers: the Static form when
// the shape is a constant (outputShape), the Dynamic form reading the shape from a blob.
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

using L = spec::NeuralNetworkLayer;

// Fills the parameters shared by the Static and Dynamic messages of one distribution: seed and
// the two parameters (minVal/maxVal, or mean/stdDev).
template <typename Params>
void fillParameters(LayerWriter& w, Params& p, const char* first, const char* second) {
    p.set_seed(w.params().getInt("seed"));
    const auto a = static_cast<float>(w.params().getDouble(first));
    const auto b = static_cast<float>(w.params().getDouble(second));
    if constexpr (std::is_same_v<Params, spec::RandomUniformStaticLayerParams> ||
                  std::is_same_v<Params, spec::RandomUniformDynamicLayerParams>) {
        p.set_minval(a);
        p.set_maxval(b);
    } else {
        p.set_mean(a);
        p.set_stddev(b);
    }
}

template <typename Static, typename Dynamic>
void writeRandom(LayerWriter& w, Static* (L::*staticLayer)(), Dynamic* (L::*dynamicLayer)(), const char* first,
                 const char* second) {
    if (w.isConst("shape")) {
        auto* p = (w.layer({}).*staticLayer)();
        fillParameters(w, *p, first, second);
        for (int64_t s : w.params().getInts("shape")) p->add_outputshape(static_cast<uint64_t>(s));
    } else {
        fillParameters(w, *(w.layer({w.in("shape")}).*dynamicLayer)(), first, second);
    }
}

void readRandom(LayerReader& r, const std::string& op, const std::string& first, double a, const std::string& second,
                double b, int64_t seed, mil::Value* shape) {
    r.out(r.add(op, {{"shape", shape}, {first, a}, {second, b}, {"seed", seed}}));
}

}  // namespace

void populateRandomLayers(LayerTable& t) {
    t.add("random_uniform", [](LayerWriter& w) {
        writeRandom(w, &L::mutable_randomuniformstatic, &L::mutable_randomuniformdynamic, "low", "high");
    });
    t.add("random_normal", [](LayerWriter& w) {
        writeRandom(w, &L::mutable_randomnormalstatic, &L::mutable_randomnormaldynamic, "mean", "stddev");
    });
    t.reads(L::kRandomUniformStatic, [](LayerReader& r) {
        const auto& p = r.layer().randomuniformstatic();
        readRandom(r, "random_uniform", "low", p.minval(), "high", p.maxval(), p.seed(),
                   r.builder().ints(r.ints(p.outputshape())));
    });
    t.reads(L::kRandomUniformDynamic, [](LayerReader& r) {
        const auto& p = r.layer().randomuniformdynamic();
        readRandom(r, "random_uniform", "low", p.minval(), "high", p.maxval(), p.seed(), r.asInt(r.in()));
    });
    t.reads(L::kRandomNormalStatic, [](LayerReader& r) {
        const auto& p = r.layer().randomnormalstatic();
        readRandom(r, "random_normal", "mean", p.mean(), "stddev", p.stddev(), p.seed(),
                   r.builder().ints(r.ints(p.outputshape())));
    });
    t.reads(L::kRandomNormalDynamic, [](LayerReader& r) {
        const auto& p = r.layer().randomnormaldynamic();
        readRandom(r, "random_normal", "mean", p.mean(), "stddev", p.stddev(), p.seed(), r.asInt(r.in()));
    });
}

TS2COREML_FAMILY(LayerTable, Random, populateRandomLayers)

}  // namespace ts2coreml::nn
