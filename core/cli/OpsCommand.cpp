#include "cli/Commands.h"
#include "registry/LoweringRegistry.h"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

namespace ts2coreml::cli {

int opsCommand(const std::vector<std::string>& args) {
    bool json = false;
    for (const auto& a : args) {
        if (a == "--json") {
            json = true;
        } else if (a == "--help" || a == "-h") {
            std::cout << "usage: ts2coreml ops [--json]\n\nLists every registered lowering: key, provider, minimum "
                         "target, and what it overrode.\n";
            return 0;
        } else {
            std::cerr << "ts2coreml ops: error: unknown argument '" << a << "'\n";
            return 2;
        }
    }
    LoweringRegistry registry = LoweringRegistry::withBuiltins();
    auto entries = registry.entries();
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto* e : entries)
            out.push_back({{"key", e->key},
                           {"provider", e->provider},
                           {"min_target", targetName(e->options.minTarget)},
                           {"overrode", e->overrode.empty() ? nlohmann::json() : nlohmann::json(e->overrode)}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    for (const auto* e : entries) {
        std::cout << std::left << std::setw(36) << e->key << " " << std::setw(10) << e->provider << " "
                  << targetName(e->options.minTarget);
        if (!e->overrode.empty()) std::cout << "  (overrides " << e->overrode << ")";
        std::cout << "\n";
    }
    std::cout << entries.size() << " lowerings\n";
    return 0;
}

}  // namespace ts2coreml::cli
