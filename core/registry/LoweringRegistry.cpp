#include "registry/LoweringRegistry.h"

#include <algorithm>
#include <stdexcept>

namespace ts2coreml {

void LoweringRegistry::add(const std::string& key, LoweringFn fn, LoweringOptions options) {
    if (key.find("::") == std::string::npos)
        throw std::invalid_argument("op key '" + key + "' must be qualified, like 'aten::glu'");
    if (!fn) throw std::invalid_argument("lowering for '" + key + "' is empty");
    auto& list = entries_[key];
    auto same = std::find_if(list.begin(), list.end(),
                             [&](const LoweringEntry& e) { return e.options.minTarget == options.minTarget; });
    LoweringEntry entry{key, std::move(fn), options, provider_, {}};
    if (same != list.end()) {
        if (!options.replaces)
            throw std::invalid_argument("'" + key + "' is already registered by " + same->provider +
                                        " (set override to replace it)");
        entry.overrode = same->provider;
        *same = std::move(entry);
        return;
    }
    list.push_back(std::move(entry));
}

void LoweringRegistry::declareTorchOp(const std::string& schema) { declared_.push_back(schema); }

const LoweringEntry* LoweringRegistry::find(const std::string& name, const std::string& overload, Target target) const {
    auto pick = [&](const std::string& key) -> const LoweringEntry* {
        auto it = entries_.find(key);
        if (it == entries_.end()) return nullptr;
        const LoweringEntry* best = nullptr;
        for (const auto& e : it->second)
            if (e.options.minTarget <= target && (!best || e.options.minTarget > best->options.minTarget)) best = &e;
        return best;
    };
    if (!overload.empty())
        if (auto* e = pick(name + "." + overload)) return e;
    if (auto* e = pick(name)) return e;
    // In-place variants (aten::relu_) reach the functional lowering.
    if (name.size() > 1 && name.back() == '_' && name[name.size() - 2] != '_') {
        const std::string functional = name.substr(0, name.size() - 1);
        if (!overload.empty())
            if (auto* e = pick(functional + "." + overload)) return e;
        return pick(functional);
    }
    return nullptr;
}

bool LoweringRegistry::hasKey(const std::string& name) const { return entries_.count(name) != 0; }

std::vector<const LoweringEntry*> LoweringRegistry::entries() const {
    std::vector<const LoweringEntry*> out;
    for (const auto& [key, list] : entries_)
        for (const auto& e : list) out.push_back(&e);
    return out;
}

LoweringRegistry LoweringRegistry::withBuiltins() {
    LoweringRegistry r;
    r.setProvider("built-in");
    registerBuiltinLowerings(r);
    return r;
}

}  // namespace ts2coreml
