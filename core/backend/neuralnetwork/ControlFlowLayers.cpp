// cond and while_loop -> BranchLayer and LoopLayer. A NeuralNetwork has one namespace of blobs,
// which nested networks read and write: a branch hands its results to the layers after it by
// writing them into blobs named after the cond's outputs, and a loop keeps its variables in blobs
// named after the while_loop's outputs, which the body overwrites at the end of each iteration.
// CopyLayer is the one layer allowed to overwrite a blob that already exists.
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"

#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

void copy(NetworkState& net, const std::string& from, const std::string& to) {
    auto& l = net.addLayer();
    l.set_name(net.freshLayerName(to + "__copy"));
    l.add_input(from);
    l.add_output(to);
    l.mutable_copy();
}

/// Assigns every `from[i]` to `to[i]` as if at once: a source that is itself one of the targets
/// is saved first, so that no copy reads a blob an earlier copy of this set has overwritten.
void copyAll(NetworkState& net, std::vector<std::string> from, const std::vector<std::string>& to) {
    const std::set<std::string> targets(to.begin(), to.end());
    for (size_t i = 0; i < from.size(); ++i) {
        if (from[i] == to[i] || !targets.count(from[i])) continue;
        const std::string saved = to[i] + "__next";
        copy(net, from[i], saved);
        from[i] = saved;
    }
    for (size_t i = 0; i < from.size(); ++i)
        if (from[i] != to[i]) copy(net, from[i], to[i]);
}

std::vector<std::string> outputNames(const mil::Operation& op) {
    std::vector<std::string> names;
    for (const auto& v : op.outputs()) names.push_back(v->name());
    return names;
}

std::vector<std::string> blobsOf(NetworkState& net, const std::vector<mil::Value*>& values) {
    std::vector<std::string> names;
    for (const mil::Value* v : values) names.push_back(net.blob(*v));
    return names;
}

std::string layerBase(const mil::Operation& op, const char* kind) {
    return op.outputs().empty() ? std::string(kind) : op.output()->name() + "__" + kind;
}

}  // namespace

void writeCond(NetworkState& net, const mil::Operation& op, const BlockWriter& writeBlock) {
    const mil::Value* pred = op.input("pred");
    if (!pred || op.blocks().size() != 2) throw LayerError("cond needs a predicate and two blocks");
    const std::string predicate = net.blob(*pred);
    const std::vector<std::string> results = outputNames(op);
    spec::BranchLayerParams branch;
    for (size_t which = 0; which < 2; ++which) {
        spec::NeuralNetwork& network = which == 0 ? *branch.mutable_ifbranch() : *branch.mutable_elsebranch();
        NetworkState::NestedNetwork nested(net, network);
        const mil::Block& block = *op.blocks()[which];
        writeBlock(block);
        copyAll(net, blobsOf(net, block.outputs()), results);
    }
    auto& l = net.addLayer();
    l.set_name(net.freshLayerName(layerBase(op, "branch")));
    l.add_input(predicate);
    l.mutable_branch()->Swap(&branch);
}

void writeWhileLoop(NetworkState& net, const mil::Operation& op, const BlockWriter& writeBlock) {
    const std::vector<mil::Value*>* vars = op.inputList("loop_vars");
    if (!vars || op.blocks().size() != 2) throw LayerError("while_loop needs loop variables and two blocks");
    const mil::Block& condition = *op.blocks()[0];
    const mil::Block& body = *op.blocks()[1];
    if (condition.inputs().size() != vars->size() || body.inputs().size() != vars->size() ||
        condition.outputs().size() != 1 || body.outputs().size() != vars->size())
        throw LayerError("while_loop blocks do not match its loop variables");
    const std::vector<std::string> state = outputNames(op);
    copyAll(net, blobsOf(net, *vars), state);
    for (size_t i = 0; i < state.size(); ++i) {
        net.alias(*condition.inputs()[i], state[i]);
        net.alias(*body.inputs()[i], state[i]);
    }

    spec::LoopLayerParams loop;
    {
        NetworkState::NestedNetwork nested(net, *loop.mutable_conditionnetwork());
        writeBlock(condition);
        // conditionVar must be produced by the condition network itself.
        const mil::Value& result = *condition.outputs().front();
        std::string var = net.blob(result);
        if (!result.producer() || result.producer()->parent() != &condition || result.constant()) {
            const std::string own = layerBase(op, "condition");
            copy(net, var, own);
            var = own;
        }
        loop.set_conditionvar(var);
    }
    {
        NetworkState::NestedNetwork nested(net, *loop.mutable_bodynetwork());
        writeBlock(body);
        copyAll(net, blobsOf(net, body.outputs()), state);
    }
    // maxLoopIterations 0 and a condition network: a while loop bounded by its condition alone.
    auto& l = net.addLayer();
    l.set_name(net.freshLayerName(layerBase(op, "loop")));
    l.mutable_loop()->Swap(&loop);
}

// ---- Reading back. Nested networks share the network's blobs: a branch or loop body reads the
// blobs defined before it and may overwrite them (with copy layers). In MIL the blobs a nested
// network overwrites become the outputs of cond, or the variables of while_loop.

namespace {

using Layer = spec::NeuralNetworkLayer;

/// Every blob the layers write, nested networks included.
void collectWritten(const LayerReader::Layers& layers, std::set<std::string>& out) {
    for (const Layer& l : layers) {
        for (const auto& o : l.output()) out.insert(o);
        if (l.has_branch()) {
            collectWritten(l.branch().ifbranch().layers(), out);
            collectWritten(l.branch().elsebranch().layers(), out);
        }
        if (l.has_loop()) {
            collectWritten(l.loop().conditionnetwork().layers(), out);
            collectWritten(l.loop().bodynetwork().layers(), out);
        }
    }
}

// BranchLayer -> cond. Its results: blobs that exist before the branch, or that both branches
// define. A branch without an else network passes its blobs through unchanged. The predicate is
// true when |x| > 1e-6, as in Apple's spec.
void readBranch(LayerReader& r) {
    const auto& p = r.layer().branch();
    mil::Value* pred = r.truth(r.in());
    std::set<std::string> thenWrites, elseWrites;
    collectWritten(p.ifbranch().layers(), thenWrites);
    collectWritten(p.elsebranch().layers(), elseWrites);
    const auto before = r.blobs();
    std::set<std::string> all = thenWrites;
    all.insert(elseWrites.begin(), elseWrites.end());
    std::vector<std::string> results;
    for (const auto& n : all)
        if (before.count(n) || (thenWrites.count(n) && elseWrites.count(n))) results.push_back(n);
    auto run = [&](const spec::NeuralNetwork& net) {
        return [&, net = &net]() {
            r.setBlobs(before);
            r.readLayers(net->layers());
            return r.blobsNamed(results);
        };
    };
    const auto outs = r.builder().cond(pred, run(p.ifbranch()), run(p.elsebranch()));
    r.setBlobs(before);
    for (size_t i = 0; i < results.size(); ++i) r.define(results[i], outs[i]);
}

// LoopLayer -> while_loop. Its variables: blobs that exist before the loop and that it overwrites;
// a loop counted by maxLoopIterations or by an input gets an iteration-count variable too.
void readLoop(LayerReader& r) {
    const auto& p = r.layer().loop();
    const bool conditional = !p.conditionvar().empty();
    const bool counted = r.inputs() > 0 || p.maxloopiterations() > 0;
    if (conditional != p.has_conditionnetwork()) r.fail("conditionVar and conditionNetwork must be given together");
    if (!conditional && !counted) r.fail("a loop needs a condition network or an iteration count");
    std::set<std::string> writes;
    collectWritten(p.conditionnetwork().layers(), writes);
    collectWritten(p.bodynetwork().layers(), writes);
    const auto before = r.blobs();
    std::vector<std::string> carried;
    for (const auto& n : writes)
        if (before.count(n)) carried.push_back(n);
    std::vector<mil::Value*> vars = r.blobsNamed(carried);
    mil::Builder& b = r.builder();
    mil::Value* limit = nullptr;
    if (counted) {
        limit = r.inputs() > 0 ? r.single(r.in()) : b.scalar(static_cast<float>(p.maxloopiterations()));
        vars.push_back(b.scalar(0.0f));  // the iteration count
    }
    auto bind = [&](const std::vector<mil::Value*>& values) {
        auto blobs = before;
        for (size_t i = 0; i < carried.size(); ++i) blobs[carried[i]] = values[i];
        r.setBlobs(std::move(blobs));
    };
    auto condition = [&](const std::vector<mil::Value*>& values) -> std::vector<mil::Value*> {
        bind(values);
        mil::Value* go = nullptr;
        if (conditional) {
            r.readLayers(p.conditionnetwork().layers());
            go = r.truth(r.blob(p.conditionvar()));
        }
        if (counted) {
            mil::Value* more = b.add("less", {{"x", values.back()}, {"y", limit}});
            go = go ? b.add("logical_and", {{"x", go}, {"y", more}}) : more;
        }
        return {go};
    };
    auto body = [&](const std::vector<mil::Value*>& values) {
        bind(values);
        r.readLayers(p.bodynetwork().layers());
        std::vector<mil::Value*> next = r.blobsNamed(carried);
        if (counted) next.push_back(b.add("add", {{"x", values.back()}, {"y", 1.0}}));
        return next;
    };
    const auto outs = b.whileLoop(vars, condition, body);
    r.setBlobs(before);
    for (size_t i = 0; i < carried.size(); ++i) r.define(carried[i], outs[i]);
}

}  // namespace

// cond and while_loop are written by the network writer itself (writeCond, writeWhileLoop: they
// recurse into blocks); their layers read back here.
void populateControlFlowLayers(LayerTable& t) {
    t.reads(Layer::kBranch, readBranch);
    t.reads(Layer::kLoop, readLoop);
    t.reads(Layer::kCopy, [](LayerReader& r) { r.out(r.add("identity", {{"x", r.in()}})); });
}

TS2COREML_FAMILY(LayerTable, ControlFlow, populateControlFlowLayers)

}  // namespace ts2coreml::nn
