// Control flow: `cond` and `while_loop`. Their outputs follow from their nested blocks, which
// Builder::cond / Builder::whileLoop build before the op's types are inferred (OpView::op() gives
// the blocks). In Core ML:
//   cond(pred)             blocks [then, else], no block inputs; both return values of the same
//                          types, which become the op's outputs.
//   while_loop(loop_vars)  blocks [condition, body], each taking the loop variables as block
//                          inputs; the condition returns one bool scalar, the body the next
//                          values of the loop variables. The outputs are the final values.
#include "mil/Families.h"
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;
using namespace shapes;

namespace {

constexpr DTypeSet kAny = kFloatsInt32Bool;

}  // namespace

TensorType joinTypes(const TensorType& a, const TensorType& b, const std::string& what) {
    if (a.dtype != b.dtype || a.rank() != b.rank())
        throw ShapeError(what + ": " + a.str() + " and " + b.str() + " differ in dtype or rank");
    TensorType out = a;
    for (size_t i = 0; i < a.rank(); ++i) {
        const Dim& x = a.shape[i];
        const Dim& y = b.shape[i];
        if (shapes::sameDim(x, y)) continue;
        Dim d = shapes::freshDim();
        d.lower = std::min(x.lower, y.lower);
        d.upper = x.upper < 0 || y.upper < 0 ? -1 : std::max(x.upper, y.upper);
        out.shape[i] = d;
    }
    return out;
}

void populateControlFlowSchemas(SchemaTable& t) {
    declare(
        t, "cond", {input("pred", kBool)},
        [](const OpView& v) -> std::vector<TensorType> {
            if (v.type("pred").rank() != 0) v.fail("pred must be a bool scalar, got " + v.type("pred").str());
            const auto& blocks = v.op().blocks();
            if (blocks.size() != 2)
                v.fail("needs a then block and an else block, has " + std::to_string(blocks.size()));
            const auto& a = blocks[0]->outputs();
            const auto& b = blocks[1]->outputs();
            if (a.size() != b.size())
                v.fail("the then block returns " + std::to_string(a.size()) + " values, the else block " +
                       std::to_string(b.size()));
            std::vector<TensorType> out;
            for (size_t i = 0; i < a.size(); ++i)
                out.push_back(
                    joinTypes(a[i]->type(), b[i]->type(), "output " + std::to_string(i) + " of the branches"));
            return out;
        },
        "runs the then block when pred is true, else the else block; returns that block's values");
    declare(
        t, "while_loop", {variadic("loop_vars", kAny)},
        [](const OpView& v) -> std::vector<TensorType> {
            const auto& blocks = v.op().blocks();
            if (blocks.size() != 2)
                v.fail("needs a condition block and a body block, has " + std::to_string(blocks.size()));
            const auto vars = v.values("loop_vars");
            const mil::Block& condition = *blocks[0];
            const mil::Block& body = *blocks[1];
            if (condition.inputs().size() != vars.size() || body.inputs().size() != vars.size())
                v.fail("both blocks must take the " + std::to_string(vars.size()) + " loop variables as inputs");
            if (condition.outputs().size() != 1 || condition.outputs()[0]->type().dtype != DType::Bool ||
                condition.outputs()[0]->type().rank() != 0)
                v.fail("the condition block must return one bool scalar");
            if (body.outputs().size() != vars.size())
                v.fail("the body returns " + std::to_string(body.outputs().size()) + " values for " +
                       std::to_string(vars.size()) + " loop variables");
            std::vector<TensorType> out;
            for (size_t i = 0; i < vars.size(); ++i) {
                const TensorType& declared = body.inputs()[i]->type();
                // The block inputs must cover the initial values and every value the body returns.
                for (const TensorType* other : {&vars[i]->type(), &body.outputs()[i]->type()}) {
                    const TensorType joined = joinTypes(declared, *other, "loop variable " + std::to_string(i));
                    for (size_t d = 0; d < joined.rank(); ++d)
                        if (!joined.shape[d].isStatic() && declared.shape[d].isStatic())
                            v.fail("loop variable " + std::to_string(i) + " is declared " + declared.str() +
                                   " in the body but takes " + other->str());
                }
                out.push_back(declared);
            }
            return out;
        },
        "runs the body on the loop variables while the condition block returns true");
}

TS2COREML_FAMILY(SchemaTable, ControlFlow, populateControlFlowSchemas)

}  // namespace ts2coreml::mil
