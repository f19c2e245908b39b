// Composite ops declared in YAML (ops.yaml, --ops FILE): a torch op defined as steps that call MIL
// ops or other torch ops, or mapped to a custom layer. The loader (CompositeLoader.cpp) reads and
// checks a file; registerComposites (CompositeLowering.cpp) turns each composite into a lowering.
// The file format is documented in the README ("Composite ops in YAML").
#pragma once

#include "registry/LoweringRegistry.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ts2coreml::composite {

/// A place in a YAML file, 1-based.
struct Mark {
    int line = 0;
    int column = 0;
};

/// What a name or literal holds, as far as the loader can tell before conversion.
enum class Kind { Any, Tensor, TensorList, Int, Float, Number, Bool, String, IntList, FloatList, None };
const char* kindName(Kind k);

/// One argument value of a step: `$name`, a literal, or a list of either.
struct Operand {
    enum class Form { Ref, Literal, List };
    Form form = Form::Literal;
    std::string ref;                ///< Ref: the name, without `$`
    mil::Literal literal;           ///< Literal
    std::vector<Operand> elements;  ///< List
    Mark mark;
};

/// One step: a MIL op (`mil: clip`) or a torch op through the registry (`torch: aten::sigmoid`).
struct Step {
    bool isMil = true;
    std::string op;  ///< "clip" or "aten::sigmoid"
    std::vector<std::pair<std::string, Operand>> args;
    std::vector<std::string> outs;  ///< names bound to the step's outputs, in order
    Mark mark, opMark;
};

/// An output of a custom layer: the shape and dtype of an input value (`like: $x`).
struct CustomOutput {
    Operand like;
};

struct CustomLayerSpec {
    std::string className;
    std::string description;
    std::vector<std::pair<std::string, Operand>> parameters;
    std::vector<Operand> inputs;
    std::vector<Operand> weights;  ///< constant tensor arguments stored as the layer's weights
    std::vector<CustomOutput> outputs;
    Mark mark;
};

/// One composite of a file.
struct Composite {
    std::string key;   ///< "aten::softsign" or "aten::add.Scalar"
    std::string file;  ///< the file as it was named
    Mark mark;         ///< of the entry
    std::string doc;
    std::string schema;  ///< a declared custom torch op schema, or empty
    Target minTarget = Target::iOS13;
    bool override = false;
    std::vector<std::pair<std::string, mil::Literal>> require;  ///< constant arguments the steps assume
    std::vector<Step> steps;
    std::vector<Operand> outputs;  ///< empty: the last step's outputs
    std::optional<CustomLayerSpec> customLayer;

    /// "ops.yaml:12": where `ts2coreml ops` and diagnostics say the composite comes from.
    std::string provider() const { return file + ":" + std::to_string(mark.line); }
};

/// "FILE:LINE:COL: error: MESSAGE".
std::string diagnostic(const std::string& file, const Mark& m, const std::string& message);

/// Reads and checks one composite file: syntax, unknown keys, unknown MIL and torch ops, wrong
/// attribute types, undefined names. Every problem is appended to `errors` (all of them, not the
/// first); composites with problems are left out of the result.
std::vector<Composite> loadCompositeFile(const std::string& path, std::vector<std::string>& errors);

/// Loads `files` in order and registers their composites into `registry` (each file's provider is
/// "FILE:LINE"), declaring their custom torch op schemas. Checks what needs every file at once:
/// cycles between composites, and keys already registered without `override: true`. Returns every
/// problem; when there is any, nothing is registered.
std::vector<std::string> registerCompositeFiles(const std::vector<std::string>& files, LoweringRegistry& registry);

/// The lowering that runs `composite` (exposed for tests).
LoweringFn compositeLowering(std::shared_ptr<const Composite> composite);

/// The composite file shipped with ts2coreml: $TS2COREML_OPS if set, else share/ts2coreml/ops.yaml
/// beside the executable's prefix, else the source tree's ops.yaml. Empty if none exists.
std::string defaultOpsFile();

}  // namespace ts2coreml::composite
