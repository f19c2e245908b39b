#include "runtime/NeuralNetworkReader.h"

namespace ts2coreml::runtime {

std::unique_ptr<mil::Program> readNeuralNetwork(const spec::Model& model, const std::string& path) {
    // The NeuralNetwork backend is another issue; until it lands there is no layer translation.
    const int layers = model.has_neuralnetwork()             ? model.neuralnetwork().layers_size()
                       : model.has_neuralnetworkclassifier() ? model.neuralnetworkclassifier().layers_size()
                                                             : model.neuralnetworkregressor().layers_size();
    throw ModelReadError(path, "a NeuralNetwork model (" + std::to_string(layers) +
                                   " layers) cannot be executed yet: the reference runtime reads ML Programs "
                                   "(.mlpackage) only");
}

}  // namespace ts2coreml::runtime
