#include "registry/LoweringRegistry.h"

#include "lowerings/Builtins.h"
#include "registry/TorchOps.h"

#include <algorithm>
#include <stdexcept>

namespace ts2coreml {

LoweringRegistry LoweringRegistry::withBuiltins() {
    LoweringRegistry r;
    registerBuiltinLowerings(r);
    return r;
}

LoweringRegistry LoweringRegistry::staging() {
    LoweringRegistry r;
    r.staging_ = true;
    return r;
}

void LoweringRegistry::setProvider(std::string provider, std::string plugin, std::shared_ptr<const void> library) {
    provider_ = std::move(provider);
    plugin_ = std::move(plugin);
    library_ = std::move(library);
}

namespace {

std::string alreadyRegistered(const std::string& key, const LoweringEntry& existing) {
    return "'" + key + "' (" + targetName(existing.options.minTarget) + ") is already registered by " +
           existing.provider + " (set LoweringOptions::replaces to override it)";
}

}  // namespace

void LoweringRegistry::add(const std::string& key, LoweringFn fn, LoweringOptions options) {
    if (key.find("::") == std::string::npos)
        throw std::invalid_argument("op key '" + key + "' must be qualified, like 'aten::glu'");
    if (!fn) throw std::invalid_argument("lowering for '" + key + "' is empty");
    auto& list = entries_[key];
    auto same = std::find_if(list.begin(), list.end(),
                             [&](const LoweringEntry& e) { return e.options.minTarget == options.minTarget; });
    LoweringEntry entry{key, library_, std::move(fn), options, provider_, {}, plugin_};
    if (same != list.end()) {
        if (!options.replaces) throw std::invalid_argument(alreadyRegistered(key, *same));
        entry.overrode = same->provider;
        *same = std::move(entry);
        return;
    }
    list.push_back(std::move(entry));
}

void LoweringRegistry::declareTorchOp(const std::string& schema) {
    if (staging_) {
        if (std::string error = checkTorchOpSchema(schema); !error.empty()) throw std::invalid_argument(error);
    } else {
        declareTorchOpSchema(schema);
    }
    declared_.push_back({schema, provider_});
}

std::string LoweringRegistry::mergeConflict(const LoweringRegistry& staged) const {
    for (const auto& [key, list] : staged.entries_) {
        auto here = entries_.find(key);
        if (here == entries_.end()) continue;
        for (const LoweringEntry& e : list) {
            if (e.options.replaces) continue;
            for (const LoweringEntry& existing : here->second)
                if (existing.options.minTarget == e.options.minTarget) return alreadyRegistered(key, existing);
        }
    }
    for (const TorchOpDeclaration& d : staged.declared_)
        if (std::string error = checkTorchOpSchema(d.schema); !error.empty()) return error;
    return {};
}

void LoweringRegistry::merge(LoweringRegistry&& staged) {
    if (std::string conflict = mergeConflict(staged); !conflict.empty()) throw std::invalid_argument(conflict);
    for (const TorchOpDeclaration& d : staged.declared_) {
        if (!staging_) declareTorchOpSchema(d.schema);
        declared_.push_back(d);
    }
    for (auto& [key, list] : staged.entries_) {
        for (LoweringEntry& e : list) {
            auto& here = entries_[key];
            auto same = std::find_if(here.begin(), here.end(), [&](const LoweringEntry& x) {
                return x.options.minTarget == e.options.minTarget;
            });
            if (same == here.end()) {
                here.push_back(std::move(e));
            } else {
                e.overrode = same->provider;
                *same = std::move(e);
            }
        }
    }
    staged.entries_.clear();
    staged.declared_.clear();
}

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

}  // namespace ts2coreml
