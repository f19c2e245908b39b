#include "passes/Passes.h"

#include <set>
#include <unordered_set>

namespace ts2coreml::passes {

namespace {
void rename(mil::Block& block, std::set<std::string>& used, const std::unordered_set<const mil::Value*>& keep) {
    auto visit = [&](mil::Value* v) {
        if (keep.count(v)) return;
        std::string base = v->name().empty() ? "var" : v->name();
        std::string name = base;
        for (int i = 1; used.count(name); ++i) name = base + "_" + std::to_string(i);
        used.insert(name);
        v->setName(name);
    };
    for (const auto& in : block.inputs()) visit(in.get());
    for (auto& op : block.operations()) {
        for (const auto& out : op->outputs()) visit(out.get());
        for (auto& b : op->blocks()) rename(*b, used, keep);
    }
}
}  // namespace

void uniquifyNames(mil::Program& program) {
    for (auto& [fname, fn] : program.functions) {
        std::set<std::string> used;
        std::unordered_set<const mil::Value*> keep;
        for (const auto& in : fn.body.inputs()) {
            used.insert(in->name());
            keep.insert(in.get());
        }
        for (const mil::Value* v : fn.body.outputs()) {
            used.insert(v->name());
            keep.insert(v);
        }
        rename(fn.body, used, keep);
    }
}

}  // namespace ts2coreml::passes
