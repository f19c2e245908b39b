// reduce_* -> the ND reduction layers; reduce_argmax / reduce_argmin -> ArgMax / ArgMin.
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

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

// A reduce_* op <-> its reduction layer.
template <typename Params>
void reduction(LayerTable& t, const std::string& op, spec::NeuralNetworkLayer::LayerCase kind,
               Params* (spec::NeuralNetworkLayer::*mut)(), const Params& (spec::NeuralNetworkLayer::*get)() const) {
    t.add(op, [mut](LayerWriter& w) { fillReduce(w, *(w.layer({w.in("x")}).*mut)()); });
    t.reads(kind, [op, get](LayerReader& r) {
        const Params& p = (r.layer().*get)();
        mil::OperandList operands{{"x", r.in()}, {"keep_dims", p.keepdims()}};
        if (!p.reduceall()) operands.push_back({"axes", r.ints(p.axes())});
        r.out(r.add(op, operands));
    });
}

}  // namespace

void populateReductionLayers(LayerTable& t) {
    using L = spec::NeuralNetworkLayer;
    reduction(t, "reduce_sum", L::kReduceSum, &L::mutable_reducesum, &L::reducesum);
    reduction(t, "reduce_mean", L::kReduceMean, &L::mutable_reducemean, &L::reducemean);
    reduction(t, "reduce_max", L::kReduceMax, &L::mutable_reducemax, &L::reducemax);
    reduction(t, "reduce_min", L::kReduceMin, &L::mutable_reducemin, &L::reducemin);
    reduction(t, "reduce_prod", L::kReduceProd, &L::mutable_reduceprod, &L::reduceprod);
    reduction(t, "reduce_l1_norm", L::kReduceL1, &L::mutable_reducel1, &L::reducel1);
    reduction(t, "reduce_l2_norm", L::kReduceL2, &L::mutable_reducel2, &L::reducel2);
    reduction(t, "reduce_log_sum", L::kReduceLogSum, &L::mutable_reducelogsum, &L::reducelogsum);
    reduction(t, "reduce_sum_square", L::kReduceSumSquare, &L::mutable_reducesumsquare, &L::reducesumsquare);
    reduction(t, "reduce_log_sum_exp", L::kReduceLogSumExp, &L::mutable_reducelogsumexp, &L::reducelogsumexp);
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
    t.reads(L::kArgMax, [](LayerReader& r) {
        const auto& a = r.layer().argmax();
        r.out(r.add("reduce_argmax", {{"x", r.in()}, {"axis", a.axis()}, {"keep_dims", !a.removedim()}}));
    });
    t.reads(L::kArgMin, [](LayerReader& r) {
        const auto& a = r.layer().argmin();
        r.out(r.add("reduce_argmin", {{"x", r.in()}, {"axis", a.axis()}, {"keep_dims", !a.removedim()}}));
    });
}

TS2COREML_FAMILY(LayerTable, Reduction, populateReductionLayers)

}  // namespace ts2coreml::nn
