// Reading a NeuralNetwork `.mlmodel` (layers, weights inside the protobuf) into a MIL program.
// Its own file so that the NeuralNetwork backend's issue fills it in without touching the
// package reader.
#pragma once

#include "runtime/ModelReader.h"

#include "Model.pb.h"

namespace ts2coreml::runtime {

/// Translates the model's layers into MIL ops the executor runs; throws ModelReadError naming
/// `path` for what it cannot translate.
std::unique_ptr<mil::Program> readNeuralNetwork(const spec::Model& model, const std::string& path);

}  // namespace ts2coreml::runtime
