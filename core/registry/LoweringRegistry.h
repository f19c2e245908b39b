// The host's registry: keys -> lowerings, with provenance, target selection and overrides.
#pragma once

#include <ts2coreml/Lowering.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml {

/// One registered lowering and where it came from.
struct LoweringEntry {
    std::string key;        ///< "aten::add" or "aten::add.Scalar"
    LoweringFn fn;
    LoweringOptions options;
    std::string provider;   ///< "built-in", "ops.yaml:12", "/path/libfoo.so"
    std::string overrode;   ///< provider of the entry this one replaced, if any
};

class LoweringRegistry : public Registry {
public:
    /// Provider recorded for registrations from now on.
    void setProvider(std::string provider) { provider_ = std::move(provider); }

    void add(const std::string& key, LoweringFn fn, LoweringOptions options = {}) override;
    void declareTorchOp(const std::string& schema) override;

    /// The lowering for an op and overload at a target: the exact "name.overload" key first, then
    /// "name"; an in-place key ("aten::relu_") falls back to its functional form. Among entries of a
    /// key, the one with the highest minimum target not above `target`.
    const LoweringEntry* find(const std::string& name, const std::string& overload, Target target) const;
    bool hasKey(const std::string& name) const;

    /// Every entry, sorted by key.
    std::vector<const LoweringEntry*> entries() const;
    const std::vector<std::string>& declaredTorchOps() const { return declared_; }

    /// A registry holding every built-in lowering.
    static LoweringRegistry withBuiltins();

private:
    std::map<std::string, std::vector<LoweringEntry>> entries_;
    std::vector<std::string> declared_;
    std::string provider_ = "built-in";
};

/// Registers the built-in lowerings (core/lowerings/*.cpp) through the same call plugins use.
void registerBuiltinLowerings(Registry& registry);

}  // namespace ts2coreml
