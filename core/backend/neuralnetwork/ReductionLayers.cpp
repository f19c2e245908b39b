// reduce_* -> the ND reduction layers; reduce_argmax / reduce_argmin -> ArgMax / ArgMin.
#include "backend/neuralnetwork/LayerWriter.h"

namespace ts2coreml::nn {

namespace {

// Every reduction layer has axes, keepDims and reduceAll (axes omitted: all of them).
template <typename Params>
void fillReduce(LayerWriter& w, Params& p) {
    if (w.params().has("axes")) {
        for (int64_t a : w.params().getInts("axes")) p.add_axes(a);
    } else {
        p.set_reduceall(true);
    }
    p.set_keepdims(w.params().getBool("keep_dims"));
}

template <typename Params>
void reduction(LayerTable& t, const std::string& op, Params* (spec::NeuralNetworkLayer::*mut)()) {
    t.add(op, [mut](LayerWriter& w) { fillReduce(w, *(w.layer({w.in("x")}).*mut)()); });
}

}  // namespace

void populateReductionLayers(LayerTable& t) {
    using L = spec::NeuralNetworkLayer;
    reduction(t, "reduce_sum", &L::mutable_reducesum);
    reduction(t, "reduce_mean", &L::mutable_reducemean);
    reduction(t, "reduce_max", &L::mutable_reducemax);
    reduction(t, "reduce_min", &L::mutable_reducemin);
    reduction(t, "reduce_prod", &L::mutable_reduceprod);
    reduction(t, "reduce_l1_norm", &L::mutable_reducel1);
    reduction(t, "reduce_l2_norm", &L::mutable_reducel2);
    reduction(t, "reduce_log_sum", &L::mutable_reducelogsum);
    reduction(t, "reduce_sum_square", &L::mutable_reducesumsquare);
    reduction(t, "reduce_log_sum_exp", &L::mutable_reducelogsumexp);
    t.add("reduce_argmax", [](LayerWriter& w) {
        auto* a = w.layer({w.in("x")}).mutable_argmax();
        a->set_axis(w.params().getInt("axis"));
        a->set_removedim(!w.params().getBool("keep_dims"));
    });
    t.add("reduce_argmin", [](LayerWriter& w) {
        auto* a = w.layer({w.in("x")}).mutable_argmin();
        a->set_axis(w.params().getInt("axis"));
        a->set_removedim(!w.params().getBool("keep_dims"));
    });
}

}  // namespace ts2coreml::nn
