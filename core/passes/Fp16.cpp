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

// Moves the ops `builder` appended to `block` from index `from` on to index `at`; returns how many.
size_t moveAppended(std::vector<std::unique_ptr<mil::Operation>>& ops, size_t from, size_t at) {
    std::vector<std::unique_ptr<mil::Operation>> added;
    for (size_t k = from; k < ops.size(); ++k) added.push_back(std::move(ops[k]));
    ops.resize(from);
    ops.insert(ops.begin() + static_cast<long>(at), std::make_move_iterator(added.begin()),
               std::make_move_iterator(added.end()));
    return added.size();
}

// `v` cast to `dtype` by ops inserted at index `at` of `block`; `at` moves past them.
mil::Value* castAt(mil::Block& block, mil::Builder& builder, size_t& at, mil::Value* v, const char* dtype) {
    auto& ops = mil::IRAccess::operations(block);
    const size_t before = ops.size();
    mil::Builder::BlockScope scope(builder, block);
    mil::Value* cast = builder.add("cast", {{"x", v}, {"dtype", dtype}});
    at += moveAppended(ops, before, at);
    return cast;
}

// Every use of `from` in the ops of `block` from index `first` on (and their nested blocks), and
// among the block's results, reads `to` instead.
void replaceUses(mil::Block& block, size_t first, const mil::Value* from, mil::Value* to) {
    auto& ops = mil::IRAccess::operations(block);
    for (size_t k = first; k < ops.size(); ++k) {
        for (auto& [name, values] : mil::IRAccess::inputs(*ops[k]))
            for (auto& v : values)
                if (v == from) v = to;
        for (auto& nested : mil::IRAccess::blocks(*ops[k])) replaceUses(*nested, 0, from, to);
    }
    for (auto& v : block.outputs())
        if (v == from) v = to;
}

// Op `i` reads fp16 values in inputs its schema takes in fp32 only (lstm, gru, rnn): it computes
// in fp32 between casts, as Core ML's fp16 programs run such ops. Returns the op's new index.
size_t computeInFp32(mil::Block& block, size_t i, const mil::OpSchema& schema, mil::Builder& builder) {
    auto& ops = mil::IRAccess::operations(block);
    mil::Operation& op = *ops[i];
    bool cast = false;
    for (auto& [name, values] : mil::IRAccess::inputs(op)) {
        const mil::InputSpec* spec = schema.findInput(name);
        if (!spec || (spec->dtypes & bit(DType::Float16)) || !(spec->dtypes & bit(DType::Float32))) continue;
        for (auto& v : values)
            if (v->type().dtype == DType::Float16) {
                v = castAt(block, builder, i, v, "fp32");
                cast = true;
            }
    }
    if (!cast) return i;
    std::vector<TensorType> types = schema.infer(mil::OpView(op, schema));
    size_t at = i + 1;
    for (size_t k = 0; k < types.size() && k < op.outputs().size(); ++k) {
        op.output(k)->setType(types[k]);
        if (types[k].dtype != DType::Float32) continue;
        mil::Value* back = castAt(block, builder, at, op.output(k), "fp16");
        replaceUses(block, at, op.output(k), back);
        // The fp16 value keeps the name (a program output's name stays the output's).
        const std::string name = op.output(k)->name();
        op.output(k)->setName(name + "_fp32");
        back->setName(name);
    }
    return at - 1;
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
        i = computeInFp32(block, i, *schema, builder);
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
