#include "registry/TorchOps.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/frontend/function_schema_parser.h>

#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace ts2coreml {

namespace {

/// The first line of a torch message, without the " here:" that introduces its source excerpt.
std::string firstLineOf(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    const std::string here = " here:";
    if (line.size() > here.size() && line.compare(line.size() - here.size(), here.size(), here) == 0)
        line.resize(line.size() - here.size());
    return line;
}

/// Parses a schema, or returns the parser's complaint in `error`.
std::optional<c10::FunctionSchema> parse(const std::string& schema, std::string& error) {
    try {
        c10::FunctionSchema s = torch::jit::parseSchema(schema);
        if (s.name().find("::") == std::string::npos) {
            error = "torch op schema '" + schema + "' needs a namespace, like 'mylib::fancy(Tensor x) -> Tensor'";
            return std::nullopt;
        }
        return s;
    } catch (const c10::Error& e) {
        error = "torch op schema '" + schema + "' does not parse: " + firstLineOf(e.what_without_backtrace());
    } catch (const std::exception& e) {
        error = "torch op schema '" + schema + "' does not parse: " + firstLineOf(e.what());
    }
    return std::nullopt;
}

std::string qualified(const c10::FunctionSchema& s) {
    return s.overload_name().empty() ? s.name() : s.name() + "." + s.overload_name();
}

// Handles of the schemas we registered. Deliberately never destroyed: the dispatcher outlives
// every plugin (a schema holds no plugin code), and deregistering at exit would race libtorch's
// own static destruction.
std::mutex& registrationMutex() {
    static std::mutex m;
    return m;
}
std::map<std::string, c10::RegistrationHandleRAII>& registrations() {
    static auto* handles = new std::map<std::string, c10::RegistrationHandleRAII>();
    return *handles;
}

std::string check(const std::string& schema, std::optional<c10::FunctionSchema>& parsed) {
    std::string error;
    parsed = parse(schema, error);
    if (!parsed) return error;
    auto existing = c10::Dispatcher::singleton().findSchema(parsed->operator_name());
    if (existing && !(existing->schema() == *parsed)) {
        std::ostringstream os;
        os << existing->schema();
        return "torch op '" + qualified(*parsed) + "' is already defined as '" + os.str() + "', not '" + schema + "'";
    }
    return {};
}

}  // namespace

std::string torchOpName(const std::string& schema) {
    std::string error;
    auto s = parse(schema, error);
    return s ? qualified(*s) : std::string();
}

std::string checkTorchOpSchema(const std::string& schema) {
    std::optional<c10::FunctionSchema> parsed;
    return check(schema, parsed);
}

void declareTorchOpSchema(const std::string& schema) {
    std::lock_guard<std::mutex> lock(registrationMutex());
    std::optional<c10::FunctionSchema> parsed;
    if (std::string error = check(schema, parsed); !error.empty()) throw std::invalid_argument(error);
    if (c10::Dispatcher::singleton().findSchema(parsed->operator_name())) return;  // same schema: known
    const std::string name = qualified(*parsed);
    // What the schema says, as torch's own TORCH_LIBRARY def assumes: an op without `Tensor(a!)`
    // writes nothing. Left CONSERVATIVE, freezing would keep every parameter such an op reads as a
    // module attribute (it might be mutated) instead of folding it into a constant.
    parsed->setAliasAnalysis(c10::AliasAnalysisKind::FROM_SCHEMA);
    registrations().emplace(
        name, c10::Dispatcher::singleton().registerDef(std::move(*parsed), "declared by a ts2coreml plugin"));
}

}  // namespace ts2coreml
