// Baseline for the conversion benchmark: a bare torch::jit::load of a model, nothing else.
#include <torch/script.h>

#include <iostream>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: ts2coreml_bare_load MODEL.pt\n";
        return 2;
    }
    torch::jit::Module m = torch::jit::load(argv[1]);
    size_t params = 0;
    for (const auto& p : m.parameters()) params += static_cast<size_t>(p.numel());
    std::cout << params << " parameters\n";
    return 0;
}
