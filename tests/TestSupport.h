// Helpers shared by the test suites.
#pragma once

#include "frontend/Frontend.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ts2coreml::test {

/// Directory of the sample models made by samples/make_models.py for the tests.
inline std::string modelsDir() { return TS2COREML_TEST_MODELS; }

/// A scripted module whose forward is `source` (a full `def forward(self, ...):` definition).
torch::jit::Module scriptModule(const std::string& source);

/// Lowers a module with the built-in registry; inputs are fp32 tensors of the given sizes unless
/// given as full ModelInputs.
LoweredModel lower(torch::jit::Module module, const std::vector<std::vector<int64_t>>& inputSizes,
                   Target target = Target::iOS15);
LoweredModel lower(torch::jit::Module module, const std::vector<ModelInput>& inputs, Target target = Target::iOS15);

/// Count of each MIL op type in the program's main function (nested blocks included; const ops too).
std::map<std::string, int> opHistogram(const mil::Program& program);

/// When TS2COREML_KEEP_MODELS names a directory, copies every .mlmodel and .mlpackage under `dir`
/// there before a test deletes `dir`, so that tests/applecheck.sh can run Apple's validator over
/// everything the suite writes. Nothing otherwise.
void keepWrittenModels(const std::filesystem::path& dir);

/// Output types of main.
std::vector<TensorType> outputTypes(const mil::Program& program);

}  // namespace ts2coreml::test
