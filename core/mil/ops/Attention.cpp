// Attention MIL ops (coremltools ops/defs/iOS18/transformers.py).
#include <cstdint>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

// query [*B, L, E], key [*B, S, E], value [*B, S, EV] -> [*B, L, EV];
// softmax(query @ key^T / sqrt(E) + mask) @ value.
std::vector<TensorType> inferAttention(const OpView& v) {
    const TensorType& q = v.type("query");
    const TensorType& k = v.type("key");
    const TensorType& val = v.type("value");
    if (q.rank() < 3 || k.rank() != q.rank() || val.rank() != q.rank())
        v.fail("query " + q.str() + ", key " + k.str() + " and value " + val.str() +
               " must share one rank of at least 3 ([*batch, sequence, embedding])");
    const size_t r = q.rank();
    for (size_t i = 0; i + 2 < r; ++i)
        if (!shapes::compatibleDim(q.shape[i], k.shape[i]) || !shapes::compatibleDim(q.shape[i], val.shape[i]))
            v.fail("query " + q.str() + ", key " + k.str() + " and value " + val.str() + " differ in batch dimension " +
                   std::to_string(i));
    if (!shapes::compatibleDim(q.shape[r - 1], k.shape[r - 1]))
        v.fail("query " + q.str() + " and key " + k.str() + " differ in embedding size");
    if (!shapes::compatibleDim(k.shape[r - 2], val.shape[r - 2]))
        v.fail("key " + k.str() + " and value " + val.str() + " differ in sequence length");
    if (v.has("attn_mask")) {
        const TensorType& mask = v.type("attn_mask");
        if (mask.rank() == 0 || !shapes::compatibleDim(mask.shape.back(), k.shape[r - 2]))
            v.fail("attn_mask " + mask.str() + " must end in the key sequence length " + shapes::str({k.shape[r - 2]}));
        shapes::broadcast(Shape(q.shape.begin(), q.shape.end() - 1), Shape(mask.shape.begin(), mask.shape.end() - 1));
    }
    Shape out(q.shape.begin(), q.shape.end() - 1);
    out.push_back(val.shape.back());
    return {tensor(q.dtype, out)};
}

}  // namespace

void populateAttentionSchemas(SchemaTable& t) {
    declare(t, "scaled_dot_product_attention",
            {input("query", kFloats, "T"), input("key", kFloats, "T"), input("value", kFloats, "T"),
             optionalInput("attn_mask", kFloats | kBool)},
            inferAttention,
            "softmax(query @ key^T / sqrt(E) + mask) @ value; a bool attn_mask keeps the positions that are true",
            Target::iOS18);
}

TS2COREML_FAMILY(SchemaTable, Attention, populateAttentionSchemas)

}  // namespace ts2coreml::mil
