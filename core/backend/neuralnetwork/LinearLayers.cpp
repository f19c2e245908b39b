// linear and matmul -> BatchedMatMulLayerParams.
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

// y = x W^T + b. The layer's weight matrix is [X1 = C_in, X2 = C_out] stored column-major, which
// is MIL's row-major [C_out, C_in]: the values are copied as they are.
void linear(LayerWriter& w) {
    const mil::ConstData& weight = w.constant("weight");
    if (weight.sizes.size() != 2) w.unsupported("linear needs a 2-D weight");
    auto* mm = w.layer({w.in("x")}).mutable_batchedmatmul();
    mm->set_weightmatrixfirstdimension(static_cast<uint64_t>(weight.sizes[1]));
    mm->set_weightmatrixseconddimension(static_cast<uint64_t>(weight.sizes[0]));
    w.weights(*mm->mutable_weights(), "weight");
    if (w.op().input("bias")) {
        mm->set_hasbias(true);
        w.weights(*mm->mutable_bias(), "bias");
    }
}

void matmul(LayerWriter& w) {
    auto* mm = w.layer({w.in("x"), w.in("y")}).mutable_batchedmatmul();
    mm->set_transposea(w.params().getBool("transpose_x"));
    mm->set_transposeb(w.params().getBool("transpose_y"));
}

// BatchedMatMulLayerParams -> matmul of two blobs, or linear with the layer's weights: the
// [X1, X2] weight stored column-major is MIL linear's row-major [X2, X1].
void readBatchedMatmul(LayerReader& r) {
    const auto& p = r.layer().batchedmatmul();
    if (r.inputs() >= 2) {
        r.out(
            r.add("matmul",
                  {{"x", r.in(0)}, {"y", r.in(1)}, {"transpose_x", p.transposea()}, {"transpose_y", p.transposeb()}}));
        return;
    }
    const auto x1 = static_cast<int64_t>(p.weightmatrixfirstdimension());
    const auto x2 = static_cast<int64_t>(p.weightmatrixseconddimension());
    mil::OperandList ops{{"x", r.in()}, {"weight", r.weights(p.weights(), {x2, x1}, "weights")}};
    if (p.hasbias()) ops.push_back({"bias", r.weights(p.bias(), {x2}, "bias")});
    r.out(r.add("linear", ops));
}

}  // namespace

void populateLinearLayers(LayerTable& t) {
    t.add("linear", linear);
    t.add("matmul", matmul);
    t.reads(spec::NeuralNetworkLayer::kBatchedMatmul, readBatchedMatmul);
}

TS2COREML_FAMILY(LayerTable, Linear, populateLinearLayers)

}  // namespace ts2coreml::nn
