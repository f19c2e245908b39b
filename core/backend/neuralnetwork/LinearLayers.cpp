// linear and matmul -> BatchedMatMulLayerParams.
#include "backend/neuralnetwork/LayerWriter.h"

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

}  // namespace

void populateLinearLayers(LayerTable& t) {
    t.add("linear", linear);
    t.add("matmul", matmul);
}

}  // namespace ts2coreml::nn
