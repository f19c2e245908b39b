// Attention MIL ops (coremltools ops/defs/iOS18/transformers.py).
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

#include <cmath>
#include <limits>

namespace ts2coreml::runtime {

namespace {

// softmax(query @ key^T / sqrt(E) + mask) @ value; a bool mask keeps the positions that are true.
at::Tensor scaledDotProductAttention(const KernelContext& k) {
    const at::Tensor q = k.input("query"), key = k.input("key"), value = k.input("value");
    at::Tensor scores = at::matmul(q, key.transpose(-1, -2)) / std::sqrt(static_cast<double>(q.size(-1)));
    if (auto mask = k.optionalInput("attn_mask")) {
        if (mask->scalar_type() == at::kBool)
            scores = scores.masked_fill(mask->logical_not(), -std::numeric_limits<double>::infinity());
        else
            scores = scores + *mask;
    }
    return at::matmul(at::softmax(scores, -1), value);
}

}  // namespace

void populateAttentionKernels(KernelTable& t) { t.add("scaled_dot_product_attention", scaledDotProductAttention); }

TS2COREML_FAMILY(KernelTable, Attention, populateAttentionKernels)

}  // namespace ts2coreml::runtime
