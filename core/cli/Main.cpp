#include "cli/Commands.h"
#include "mil/ErrorReason.h"

#include <iostream>
#include <map>

namespace {
const char* kUsage =
    "usage: ts2coreml <command> [options]\n"
    "\n"
    "commands:\n"
    "  convert MODEL.pt -o OUT.mlpackage   convert a TorchScript model to Core ML (or -o OUT.mlmodel)\n"
    "  verify MODEL.pt OUT.mlpackage       run the written model on the CPU and compare with LibTorch\n"
    "  inspect OUT.mlpackage               show inputs, outputs, metadata, op histogram, weights, custom layers\n"
    "  ops                                 list every registered lowering and its provider\n"
    "  stubs OUT.mlmodel -o DIR            write a Swift MLCustomLayer skeleton for each custom layer class\n"
    "\n"
    "'ts2coreml <command> --help' describes a command's options.\n";
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string command = argv[1];
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << kUsage;
        return 0;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    using Fn = int (*)(const std::vector<std::string>&);
    static const std::map<std::string, Fn> commands = {
        {"convert", ts2coreml::cli::convertCommand}, {"verify", ts2coreml::cli::verifyCommand},
        {"inspect", ts2coreml::cli::inspectCommand}, {"ops", ts2coreml::cli::opsCommand},
        {"stubs", ts2coreml::cli::stubsCommand},
    };
    auto it = commands.find(command);
    if (it == commands.end()) {
        std::cerr << "ts2coreml: error: unknown command '" << command << "'\n" << kUsage;
        return 2;
    }
    try {
        return it->second(args);
    } catch (const std::exception& e) {
        std::cerr << "ts2coreml: error: " << ts2coreml::errorReason(e) << "\n";
        return 1;
    }
}
