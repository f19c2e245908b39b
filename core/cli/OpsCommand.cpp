#include "cli/Commands.h"
#include "cli/Worker.h"
#include "registry/LoweringRegistry.h"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

namespace po = boost::program_options;

namespace ts2coreml::cli {

int opsCommand(const std::vector<std::string>& args) {
    po::options_description opts(
        "usage: ts2coreml ops [--plugin-path DIR ...] [--ops FILE ...] [--json]\n\n"
        "Lists every registered lowering: key, provider (built-in, FILE:LINE of a composite, or plugin file), minimum "
        "target, and what\n"
        "it overrode; then the custom torch ops plugins and composite files declare.\n\noptions");
    RegistryOptions registryOptions;
    opts.add_options()("help,h", "show this help")(
        "json", "print JSON for tools: {\"lowerings\": [...], \"torch_ops\": [...]}");
    addRegistryOptions(opts, registryOptions);
    po::variables_map vm;
    if (auto exitCode = parseCommandLine("ops", args, opts, opts, po::positional_options_description(), vm))
        return *exitCode;
    std::vector<std::string> problems;
    checkRegistryOptions(registryOptions, problems);
    // Plugins load in a worker, so that one that crashes while loading is reported (cli/Worker.h).
    return runInWorker("ops", "", [&](WorkerReport& report) {
        const LoweringRegistry registry =
            hostRegistry(registryOptions, problems, [&](const std::string& file) { report.loadingPlugin(file); });
        if (!problems.empty()) {
            printProblems("ops", problems);
            return 2;
        }
        const auto entries = registry.entries();
        const auto& declared = registry.declaredTorchOps();
        if (vm.count("json")) {
            nlohmann::json lowerings = nlohmann::json::array(), torchOps = nlohmann::json::array();
            for (const auto* e : entries)
                lowerings.push_back(
                    {{"key", e->key},
                     {"provider", e->provider},
                     {"plugin", e->plugin.empty() ? nlohmann::json() : nlohmann::json(e->plugin)},
                     {"min_target", targetName(e->options.minTarget)},
                     {"overrode", e->overrode.empty() ? nlohmann::json() : nlohmann::json(e->overrode)}});
            for (const auto& d : declared) torchOps.push_back({{"schema", d.schema}, {"provider", d.provider}});
            std::cout << nlohmann::json{{"lowerings", lowerings}, {"torch_ops", torchOps}}.dump(2) << "\n";
            return 0;
        }
        for (const auto* e : entries) {
            std::cout << std::left << std::setw(36) << e->key << " " << std::setw(10) << e->provider << " "
                      << targetName(e->options.minTarget);
            if (!e->overrode.empty()) std::cout << "  (overrides " << e->overrode << ")";
            std::cout << "\n";
        }
        std::cout << entries.size() << " lowerings\n";
        for (const auto& d : declared) std::cout << "torch op " << d.schema << "  " << d.provider << "\n";
        if (!declared.empty()) std::cout << declared.size() << " declared torch ops\n";
        return 0;
    });
}

}  // namespace ts2coreml::cli
