// Reading a NeuralNetwork `.mlmodel` (layers, weights inside the protobuf) into a MIL program:
// the model's inputs, preprocessing and outputs here; each layer through the reader its family
// declares (LayerTable::reads in core/backend/neuralnetwork/<Family>Layers.cpp).
#pragma once

#include "backend/ModelReader.h"

#include "Model.pb.h"

namespace ts2coreml::backend {

/// Translates the model's layers into MIL ops the executor runs, in NeuralNetwork semantics:
/// every blob is fp32 (an op needing int32 or bool inputs gets a cast, and its int32 or bool
/// results are cast back), and an image input's preprocessing (scale, per-channel bias) becomes
/// ops after the input, so the program takes pixels. Fills `out.program`, the image inputs'
/// preprocessing, the class labels and whether weights are stored as fp16. A custom layer becomes
/// a `custom_layer` op carrying its class, description, parameters and weights (each a flat fp32
/// list: the file keeps no weight shapes). Throws ModelReadError naming `path` and the layer for
/// what it cannot translate.
void readNeuralNetwork(const spec::Model& model, const std::string& path, ReadModel& out);

}  // namespace ts2coreml::backend
