// NeuralNetwork backend: writes a MIL program as a `.mlmodel` of NeuralNetwork layers, weights
// inside the protobuf. The format of iOS 13 / 14 devices, and the only one with custom layers.
#pragma once

#include "backend/ModelOptions.h"

#include <ts2coreml/Mil.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ts2coreml {

/// A protobuf message cannot exceed 2 GiB, and a NeuralNetwork model is one message.
constexpr uint64_t kProtobufLimit = (uint64_t{1} << 31) - 1;

struct NeuralNetworkOptions {
    /// The user chose the target: a layer needing a later one is an error. Otherwise the target
    /// (`ModelOptions::target`, the lowest) is raised to what the layers need.
    bool targetIsExplicit = false;
    bool fp16Weights = false;  ///< weights stored as fp16 (computation stays fp32)
    uint64_t sizeLimit = kProtobufLimit;
};

struct NeuralNetworkStats {
    size_t layerCount = 0;     ///< nested networks' layers included
    uint64_t weightBytes = 0;  ///< bytes of constant payload in the file
    uint64_t fileBytes = 0;
    Target target = Target::iOS13;  ///< the target the written layers need
};

/// One problem that stops a NeuralNetwork conversion: an op without a layer (at its torch source
/// location), or the size limit (at the output path).
struct NeuralNetworkProblem {
    std::string location;
    std::string message;
};

class NeuralNetworkError : public std::runtime_error {
public:
    explicit NeuralNetworkError(std::vector<NeuralNetworkProblem> problems);
    const std::vector<NeuralNetworkProblem>& problems() const { return problems_; }

private:
    std::vector<NeuralNetworkProblem> problems_;
};

/// Bytes the constants and custom-layer weights will take in the file: an upper bound of the
/// weights, computed from the types alone, before anything is materialized.
uint64_t estimateWeightBytes(const mil::Program& program, bool fp16Weights);

/// Writes `program` to `path` atomically. Checks the size estimate against the limit and every
/// op against the layer table before writing anything; throws NeuralNetworkError listing all
/// problems (nothing is written then).
NeuralNetworkStats writeNeuralNetwork(const mil::Program& program, const ModelOptions& options, const std::string& path,
                                      const NeuralNetworkOptions& nnOptions = {});

}  // namespace ts2coreml
