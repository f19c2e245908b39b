#include "passes/Passes.h"

#include "mil/IRAccess.h"

#include <ts2coreml/Builder.h>
#include <ts2coreml/OpSchema.h>

#include <unordered_map>

namespace ts2coreml::passes {

namespace {

using Uses = std::unordered_map<const mil::Value*, std::vector<std::pair<const mil::Operation*, std::string>>>;

void collectUses(const mil::Block& block, Uses& uses) {
    for (const auto& op : block.operations()) {
        for (const auto& [name, values] : op->inputs())
            for (const mil::Value* v : values) uses[v].emplace_back(op.get(), name);
        for (const auto& b : op->blocks()) collectUses(*b, uses);
    }
}

bool acceptsFp16Everywhere(const mil::Value* v, const Uses& uses) {
    auto it = uses.find(v);
    if (it == uses.end()) return true;
    for (const auto& [op, input] : it->second) {
        const mil::OpSchema* schema = mil::SchemaTable::instance().find(op->type());
        const mil::InputSpec* spec = schema ? schema->findInput(input) : nullptr;
        if (spec && !(spec->dtypes & bit(DType::Float16))) return false;
    }
    return true;
}

void retype(mil::Block& block, const Uses& uses, mil::Builder& builder) {
    auto& ops = mil::IRAccess::operations(block);
    for (size_t i = 0; i < ops.size(); ++i) {
        mil::Operation& op = *ops[i];
        if (op.type() == "const") {
            mil::Value* out = op.output();
            if (out->type().dtype == DType::Float32 && acceptsFp16Everywhere(out, uses)) {
                TensorType t = out->type();
                t.dtype = DType::Float16;
                out->setType(t);
            }
            continue;
        }
        if (op.type() == "cast") {
            // cast(x, dtype="fp32") computes in fp16 under fp16 precision.
            mil::Value* dtype = op.input("dtype");
            if (dtype && dtype->constant() && !dtype->constant()->strings.empty() &&
                dtype->constant()->strings.front() == "fp32") {
                mil::Builder::BlockScope scope(builder, block);
                mil::Value* fp16 = builder.constant(mil::Literal(std::string("fp16")));
                // The new const was appended at the end; move it before this op.
                auto c = std::move(ops.back());
                ops.pop_back();
                ops.insert(ops.begin() + static_cast<long>(i), std::move(c));
                ++i;
                for (auto& [name, values] : mil::IRAccess::inputs(*ops[i]))
                    if (name == "dtype") values = {fp16};
            }
        }
        mil::Operation& cur = *ops[i];
        if (cur.type() == "while_loop") {
            // The blocks' inputs take the loop variables' (possibly now fp16) dtypes.
            const auto* vars = cur.inputList("loop_vars");
            for (auto& b : cur.blocks())
                for (size_t k = 0; vars && k < b->inputs().size() && k < vars->size(); ++k) {
                    TensorType t = b->inputs()[k]->type();
                    t.dtype = (*vars)[k]->type().dtype;
                    b->inputs()[k]->setType(t);
                }
        }
        for (auto& b : cur.blocks()) retype(*b, uses, builder);
        const mil::OpSchema* schema = mil::SchemaTable::instance().find(cur.type());
        if (!schema || !schema->infer) continue;
        std::vector<TensorType> types = schema->infer(mil::OpView(cur, *schema));
        for (size_t k = 0; k < types.size() && k < cur.outputs().size(); ++k) cur.output(k)->setType(types[k]);
    }
}

}  // namespace

void castToFp16(mil::Program& program) {
    for (auto& [fname, fn] : program.functions) {
        mil::Block& body = fn.body;
        mil::Builder builder(body, Target::iOS18);
        // Entry casts: every consumer of an fp32 input now reads its fp16 copy.
        std::vector<std::unique_ptr<mil::Operation>> prologue;
        for (const auto& in : body.inputs()) {
            if (in->type().dtype != DType::Float32) continue;
            auto& ops = mil::IRAccess::operations(body);
            const size_t before = ops.size();
            mil::Value* cast = builder.add("cast", {{"x", in.get()}, {"dtype", "fp16"}});
            cast->setName(in->name() + "_to_fp16");
            for (size_t k = before; k < ops.size(); ++k) prologue.push_back(std::move(ops[k]));
            ops.resize(before);
            for (auto& op : ops)
                for (auto& [name, values] : mil::IRAccess::inputs(*op))
                    for (auto& v : values)
                        if (v == in.get()) v = cast;
            for (auto& v : body.outputs())
                if (v == in.get()) v = cast;
        }
        auto& ops = mil::IRAccess::operations(body);
        ops.insert(ops.begin(), std::make_move_iterator(prologue.begin()), std::make_move_iterator(prologue.end()));
        Uses uses;
        collectUses(body, uses);
        retype(body, uses, builder);
        // Exit casts: outputs stay fp32 under their own names.
        for (auto& v : body.outputs()) {
            if (v->type().dtype != DType::Float16) continue;
            const std::string name = v->name();
            v->setName(name + "_fp16");
            mil::Value* cast = builder.add("cast", {{"x", v}, {"dtype", "fp32"}});
            cast->setName(name);
            v = cast;
        }
    }
}

}  // namespace ts2coreml::passes
