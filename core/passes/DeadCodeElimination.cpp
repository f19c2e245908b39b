#include "passes/Passes.h"

#include "mil/IRAccess.h"

#include <unordered_set>

namespace ts2coreml::passes {

namespace {
void collectUses(const mil::Block& block, std::unordered_set<const mil::Value*>& used) {
    for (const mil::Value* v : block.outputs()) used.insert(v);
    for (const auto& op : block.operations()) {
        for (const auto& [name, values] : op->inputs())
            for (const mil::Value* v : values) used.insert(v);
        for (const auto& b : op->blocks()) collectUses(*b, used);
    }
}

size_t sweep(mil::Block& block, const std::unordered_set<const mil::Value*>& used) {
    size_t removed = 0;
    auto& ops = mil::IRAccess::operations(block);
    std::vector<std::unique_ptr<mil::Operation>> kept;
    kept.reserve(ops.size());
    for (auto& op : ops) {
        bool live = !op->blocks().empty();  // control flow is kept whole
        for (const auto& out : op->outputs()) live = live || used.count(out.get());
        if (live) {
            for (auto& b : op->blocks()) removed += sweep(*b, used);
            kept.push_back(std::move(op));
        } else {
            ++removed;
        }
    }
    ops = std::move(kept);
    return removed;
}
}  // namespace

size_t eliminateDeadCode(mil::Program& program) {
    size_t total = 0;
    for (;;) {
        size_t removed = 0;
        for (auto& [name, fn] : program.functions) {
            std::unordered_set<const mil::Value*> used;
            collectUses(fn.body, used);
            removed += sweep(fn.body, used);
        }
        total += removed;
        if (removed == 0) return total;
    }
}

}  // namespace ts2coreml::passes
