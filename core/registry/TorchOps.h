// Custom torch op schemas declared by plugins and composites (Registry::declareTorchOp), registered with LibTorch
// (schema only, no kernel) so that torch::jit::load accepts a model calling them.
#pragma once

#include <string>

namespace ts2coreml {

/// Why `schema` cannot be declared (a syntax error, or an op of that name and overload torch already
/// knows with a different schema); empty when it can. Declaring an op torch already knows with the
/// same schema is allowed (a no-op).
std::string checkTorchOpSchema(const std::string& schema);

/// Registers `schema` with the c10 dispatcher (its JIT listener makes it a TorchScript builtin), for
/// the rest of the process. Throws std::invalid_argument when checkTorchOpSchema objects.
void declareTorchOpSchema(const std::string& schema);

/// "mylib::fancy" (with ".overload" when it has one) of a schema string; empty on a syntax error.
std::string torchOpName(const std::string& schema);

}  // namespace ts2coreml
