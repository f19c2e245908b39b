// cond and while_loop -> BranchLayer and LoopLayer. A NeuralNetwork has one namespace of blobs,
// which nested networks read and write: a branch hands its results to the layers after it by
// writing them into blobs named after the cond's outputs, and a loop keeps its variables in blobs
// named after the while_loop's outputs, which the body overwrites at the end of each iteration.
// CopyLayer is the one layer allowed to overwrite a blob that already exists.
#include "backend/neuralnetwork/LayerWriter.h"

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

}  // namespace ts2coreml::nn
