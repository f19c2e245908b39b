// The host's registry: keys -> lowerings, with provenance, target selection and overrides.
#pragma once

#include <ts2coreml/Lowering.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ts2coreml {

/// One registered lowering and where it came from.
struct LoweringEntry {
    std::string key;  ///< "aten::add" or "aten::add.Scalar"
    /// Keeps the plugin library holding `fn`'s code loaded; declared before `fn` so that `fn` (whose
    /// destructor may be plugin code) is destroyed first.
    std::shared_ptr<const void> library;
    LoweringFn fn;
    LoweringOptions options;
    std::string provider;  ///< "built-in", "ops.yaml:12", "/path/libfoo.so"
    std::string overrode;  ///< provider of the entry this one replaced, if any
    std::string plugin;    ///< the plugin's name when a plugin registered it, else empty
};

/// A custom torch op schema a provider declared.
struct TorchOpDeclaration {
    std::string schema;  ///< "mylib::fancy(Tensor x, float alpha=1.) -> Tensor"
    std::string provider;
};

class LoweringRegistry : public Registry {
public:
    /// A registry that only collects: declared torch ops are checked but not yet registered with
    /// LibTorch, so that merging it (or dropping it) is all or nothing. Plugins register into one.
    static LoweringRegistry staging();

    /// Provider recorded for registrations from now on (and the plugin name and library, if any).
    void setProvider(std::string provider, std::string plugin = {}, std::shared_ptr<const void> library = nullptr);

    void add(const std::string& key, LoweringFn fn, LoweringOptions options = {}) override;
    void declareTorchOp(const std::string& schema) override;

    /// Why `staged` cannot be merged (its first key already registered here without `replaces`, or a
    /// torch op schema that conflicts); empty when it can.
    std::string mergeConflict(const LoweringRegistry& staged) const;
    /// Moves every entry and declaration of `staged` here, registering its torch ops with LibTorch.
    /// Throws std::invalid_argument, changing nothing, when mergeConflict objects.
    void merge(LoweringRegistry&& staged);

    /// The lowering for an op and overload at a target: the exact "name.overload" key first, then
    /// "name"; an in-place key ("aten::relu_") falls back to its functional form. Among entries of a
    /// key, the one with the highest minimum target not above `target`.
    const LoweringEntry* find(const std::string& name, const std::string& overload, Target target) const;
    bool hasKey(const std::string& name) const;

    /// Every entry, sorted by key.
    std::vector<const LoweringEntry*> entries() const;
    const std::vector<TorchOpDeclaration>& declaredTorchOps() const { return declared_; }

    /// A registry holding every built-in lowering (core/lowerings), registered through the same
    /// Registry calls plugins use.
    static LoweringRegistry withBuiltins();

private:
    std::map<std::string, std::vector<LoweringEntry>> entries_;
    std::vector<TorchOpDeclaration> declared_;
    std::string provider_ = "built-in";
    std::string plugin_;
    std::shared_ptr<const void> library_;
    bool staging_ = false;
};

}  // namespace ts2coreml
