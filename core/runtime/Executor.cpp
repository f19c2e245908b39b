#include "runtime/Executor.h"

#include "mil/Families.h"

#include "runtime/TensorSupport.h"

#include <c10/util/Exception.h>

#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace ts2coreml::runtime {

// ---- KernelContext ------------------------------------------------------------------------------

KernelContext::KernelContext(const mil::Operation& op, const mil::OpSchema& schema, Lookup lookup)
    : op_(op), view_(op, schema), lookup_(std::move(lookup)) {}

void KernelContext::fail(const std::string& message) const { throw ExecutionError(message); }

const at::Tensor& KernelContext::bound(const std::string& name) const {
    const mil::Value* v = op_.input(name);
    if (!v) fail("input '" + name + "' is required");
    const at::Tensor& t = lookup_(v);
    if (!t.defined()) fail("input '" + name + "' is not a tensor (a string?)");
    return t;
}

namespace {
at::Tensor computeType(const at::Tensor& t) { return t.scalar_type() == at::kHalf ? t.to(at::kFloat) : t; }
}  // namespace

at::Tensor KernelContext::input(const std::string& name) const { return computeType(bound(name)); }

std::optional<at::Tensor> KernelContext::optionalInput(const std::string& name) const {
    if (!op_.input(name)) return std::nullopt;
    return input(name);
}

std::vector<at::Tensor> KernelContext::inputs(const std::string& name) const {
    std::vector<at::Tensor> out;
    for (const mil::Value* v : view_.values(name)) {
        const at::Tensor& t = lookup_(v);
        if (!t.defined()) fail("input '" + name + "' holds a value that is not a tensor");
        out.push_back(computeType(t));
    }
    return out;
}

at::Tensor KernelContext::raw(const std::string& name) const { return bound(name); }

int64_t KernelContext::getInt(const std::string& name) const {
    if (!op_.input(name)) return view_.getInt(name);
    const at::Tensor& t = bound(name);
    if (t.numel() != 1) fail("input '" + name + "' must be a single value, got " + sizesText(t.sizes()));
    return t.to(at::kLong).item<int64_t>();
}

double KernelContext::getDouble(const std::string& name) const {
    if (!op_.input(name)) return view_.getDouble(name);
    const at::Tensor& t = bound(name);
    if (t.numel() != 1) fail("input '" + name + "' must be a single value, got " + sizesText(t.sizes()));
    return t.to(at::kDouble).item<double>();
}

bool KernelContext::getBool(const std::string& name) const {
    if (!op_.input(name)) return view_.getBool(name);
    const at::Tensor& t = bound(name);
    if (t.numel() != 1) fail("input '" + name + "' must be a single value, got " + sizesText(t.sizes()));
    return t.to(at::kDouble).item<double>() != 0.0;
}

std::string KernelContext::getString(const std::string& name) const { return view_.getString(name); }

std::vector<int64_t> KernelContext::getInts(const std::string& name) const {
    if (!op_.input(name)) return view_.getInts(name);
    const at::Tensor t = bound(name).to(at::kLong).contiguous();
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

std::vector<double> KernelContext::getDoubles(const std::string& name) const {
    if (!op_.input(name)) return view_.getDoubles(name);
    const at::Tensor t = bound(name).to(at::kDouble).contiguous();
    return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

std::optional<std::vector<int64_t>> KernelContext::optionalInts(const std::string& name) const {
    if (op_.input(name)) return getInts(name);
    const mil::InputSpec* spec = view_.schema().findInput(name);
    if (spec && std::holds_alternative<std::vector<int64_t>>(spec->defaultValue))
        return std::get<std::vector<int64_t>>(spec->defaultValue);
    return std::nullopt;
}

// ---- KernelTable --------------------------------------------------------------------------------

const KernelTable& KernelTable::builtin() {
    static const KernelTable* table = [] {
        auto* t = new KernelTable;  // never destroyed, like the schema table
        Families<KernelTable>::populate(*t);
        return t;
    }();
    return *table;
}

void KernelTable::add(const std::string& opType, Kernel kernel) {
    addMulti(opType,
             [kernel = std::move(kernel)](const KernelContext& k) { return std::vector<at::Tensor>{kernel(k)}; });
}

void KernelTable::addMulti(const std::string& opType, MultiKernel kernel) {
    if (!kernels_.emplace(opType, std::move(kernel)).second)
        throw std::logic_error("a kernel for MIL op '" + opType + "' is registered twice");
}

const MultiKernel* KernelTable::find(const std::string& opType) const {
    auto it = kernels_.find(opType);
    return it == kernels_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelTable::opTypes() const {
    std::vector<std::string> out;
    for (const auto& [name, kernel] : kernels_) out.push_back(name);
    return out;
}

// ---- execution ----------------------------------------------------------------------------------

namespace {

std::string describe(const mil::Operation& op) {
    std::string s = "MIL op '" + op.type() + "'";
    if (!op.outputs().empty()) s += " (output '" + op.output()->name() + "'";
    if (!op.location().empty() && op.location() != op.output()->name()) s += ", from " + op.location();
    if (!op.outputs().empty()) s += ")";
    return s;
}

/// Fails unless `t` fits `type`: rank, static sizes, bounds of symbolic dims.
std::string shapeMismatch(const at::Tensor& t, const TensorType& type) {
    if (static_cast<size_t>(t.dim()) != type.rank())
        return "has shape " + sizesText(t.sizes()) + ", expected " + type.str();
    for (size_t i = 0; i < type.rank(); ++i) {
        const Dim& d = type.shape[i];
        const int64_t n = t.size(static_cast<int64_t>(i));
        const bool ok = d.isStatic() ? n == d.size : n >= d.lower && (d.upper < 0 || n <= d.upper);
        if (!ok) return "has shape " + sizesText(t.sizes()) + ", expected " + type.str();
    }
    return {};
}

at::Tensor bindInput(const mil::Value& in, const at::Tensor& given) {
    if (!given.defined()) throw std::invalid_argument("input '" + in.name() + "' is an undefined tensor");
    const std::string problem = shapeMismatch(given, in.type());
    if (!problem.empty()) throw std::invalid_argument("input '" + in.name() + "' " + problem);
    return given.to(scalarType(in.type().dtype)).contiguous();
}

}  // namespace

namespace {

/// Every value an op reads, its nested blocks' reads included.
void collectReads(const mil::Operation& op, std::vector<const mil::Value*>& out) {
    for (const auto& [name, values] : op.inputs()) out.insert(out.end(), values.begin(), values.end());
    for (const auto& b : op.blocks()) {
        for (const auto& inner : b->operations()) collectReads(*inner, out);
        out.insert(out.end(), b->outputs().begin(), b->outputs().end());
    }
}

/// Runs blocks against one environment of computed values. Nested blocks (cond branches, loop
/// bodies) read the values of the blocks around them; a block frees the values it defines after
/// their last use, so large models never hold every activation.
class Runner {
public:
    Runner(const KernelTable& kernels, const ExecutionOptions& options) : kernels_(kernels), options_(options) {}

    void bind(const mil::Value* v, at::Tensor t) { env_[v] = std::move(t); }

    std::vector<at::Tensor> runBlock(const mil::Block& block) {
        const auto& ops = block.operations();
        std::unordered_map<const mil::Value*, size_t> lastUse;
        for (size_t i = 0; i < ops.size(); ++i) {
            std::vector<const mil::Value*> reads;
            collectReads(*ops[i], reads);
            for (const mil::Value* v : reads) lastUse[v] = i;
        }
        for (const mil::Value* v : block.outputs()) lastUse[v] = ops.size();
        auto definedHere = [&block](const mil::Value* v) {
            if (v->producer()) return v->producer()->parent() == &block;
            for (const auto& in : block.inputs())
                if (in.get() == v) return true;
            return false;
        };

        for (size_t i = 0; i < ops.size(); ++i) {
            runOp(*ops[i]);
            std::vector<const mil::Value*> reads;
            collectReads(*ops[i], reads);
            for (const mil::Value* v : reads)
                if (lastUse[v] == i && definedHere(v)) env_.erase(v);
        }
        std::vector<at::Tensor> outputs;
        for (const mil::Value* v : block.outputs()) outputs.push_back(lookup(v));
        for (const mil::Value* v : block.outputs())
            if (definedHere(v)) env_.erase(v);
        for (const auto& in : block.inputs()) env_.erase(in.get());
        return outputs;
    }

    const at::Tensor& lookup(const mil::Value* v) const {
        auto it = env_.find(v);
        if (it == env_.end()) throw ExecutionError("value '" + v->name() + "' is used before it is computed");
        return it->second;
    }

private:
    /// cond and while_loop run their blocks; every other op runs its kernel.
    std::vector<at::Tensor> runControlFlow(const mil::Operation& op) {
        if (op.type() == "cond") {
            const bool pred = lookup(op.input("pred")).item<bool>();
            return runBlock(*op.blocks().at(pred ? 0 : 1));
        }
        // while_loop: the condition and the body each take the loop variables as block inputs.
        const mil::Block& condition = *op.blocks().at(0);
        const mil::Block& body = *op.blocks().at(1);
        std::vector<at::Tensor> vars;
        for (const mil::Value* v : *op.inputList("loop_vars")) vars.push_back(lookup(v));
        constexpr size_t kMaxIterations = 10'000'000;
        for (size_t iteration = 0;; ++iteration) {
            if (iteration == kMaxIterations)
                throw ExecutionError(describe(op) + ": still looping after " + std::to_string(kMaxIterations) +
                                     " iterations");
            for (size_t i = 0; i < vars.size(); ++i) bindBlockInput(*condition.inputs()[i], vars[i]);
            if (!runBlock(condition).at(0).item<bool>()) break;
            for (size_t i = 0; i < vars.size(); ++i) bindBlockInput(*body.inputs()[i], vars[i]);
            vars = runBlock(body);
        }
        return vars;
    }

    void bindBlockInput(const mil::Value& in, const at::Tensor& t) {
        const std::string problem = shapeMismatch(t, in.type());
        if (!problem.empty()) throw ExecutionError("block input '" + in.name() + "' " + problem);
        env_[&in] = t;
    }

    /// A custom layer runs its class's reference kernel; without one it is skipped (its outputs
    /// become unavailable) when the options say so, else it fails.
    std::optional<std::vector<at::Tensor>> runCustomLayer(const mil::Operation& op) {
        const mil::CustomLayer* layer = op.customLayer().get();
        if (!layer) throw ExecutionError(describe(op) + " carries no custom layer description");
        std::vector<at::Tensor> inputs;
        for (const mil::Value* v : *op.inputList("inputs")) {
            const at::Tensor& t = lookup(v);
            if (!t.defined()) throw ExecutionError(describe(op) + ": input '" + v->name() + "' is not a tensor");
            inputs.push_back(t.to(at::kFloat));
        }
        const CustomLayerKernels* kernels = options_.customKernels;
        auto it = kernels ? kernels->find(layer->className) : CustomLayerKernels::const_iterator{};
        if (!kernels || it == kernels->end()) {
            if (!options_.onCustomLayerWithoutKernel)
                throw ExecutionError("custom layer '" + op.output()->name() + "' (class " + layer->className +
                                     ") has no reference kernel: the reference runtime cannot execute it");
            options_.onCustomLayerWithoutKernel(op, inputs);
            return std::nullopt;
        }
        try {
            return it->second(*layer, inputs);
        } catch (const c10::Error& e) {
            throw ExecutionError(describe(op) + " (class " + layer->className + "): " + e.what_without_backtrace());
        } catch (const std::exception& e) {
            throw ExecutionError(describe(op) + " (class " + layer->className + "): " + e.what());
        }
    }

    /// True when the op reads a value that is unavailable (computed from a skipped custom layer).
    bool readsUnavailable(const mil::Operation& op) const {
        if (unavailable_.empty()) return false;
        std::vector<const mil::Value*> reads;
        collectReads(op, reads);
        for (const mil::Value* v : reads)
            if (unavailable_.count(v)) return true;
        return false;
    }

    void markUnavailable(const mil::Operation& op) {
        for (const auto& out : op.outputs()) {
            unavailable_.insert(out.get());
            env_[out.get()] = at::Tensor();
        }
    }

    void runOp(const mil::Operation& op) {
        if (op.type() == "const") {
            if (!op.constData()) throw ExecutionError(describe(op) + " has no value");
            env_[op.output()] = tensorFromConst(*op.constData());
            return;
        }
        if (readsUnavailable(op)) return markUnavailable(op);
        std::vector<at::Tensor> results;
        if (op.type() == "cond" || op.type() == "while_loop") {
            results = runControlFlow(op);
        } else if (op.type() == mil::kCustomLayerOp) {
            auto custom = runCustomLayer(op);
            if (!custom) return markUnavailable(op);
            results = std::move(*custom);
        } else {
            const MultiKernel* kernel = kernels_.find(op.type());
            if (!kernel)
                throw ExecutionError("no kernel for MIL op '" + op.type() + "': the reference runtime cannot execute " +
                                     describe(op));
            const mil::OpSchema* schema = mil::SchemaTable::instance().find(op.type());
            if (!schema) throw ExecutionError(describe(op) + " has no declared schema");
            try {
                results = (*kernel)(
                    KernelContext(op, *schema, [this](const mil::Value* v) -> const at::Tensor& { return lookup(v); }));
            } catch (const ExecutionError&) {
                throw;
            } catch (const c10::Error& e) {
                throw ExecutionError(describe(op) + ": " + e.what_without_backtrace());
            } catch (const std::exception& e) {
                throw ExecutionError(describe(op) + ": " + e.what());
            }
        }
        if (results.size() != op.outputs().size())
            throw ExecutionError(describe(op) + ": the kernel produced " + std::to_string(results.size()) +
                                 " outputs, the program declares " + std::to_string(op.outputs().size()));
        for (size_t k = 0; k < results.size(); ++k) {
            const mil::Value* out = op.outputs()[k].get();
            const std::string problem = shapeMismatch(results[k], out->type());
            if (!problem.empty())
                throw ExecutionError(describe(op) + ": output '" + out->name() + "' " + problem +
                                     " (the kernel and the program's type disagree)");
            // Rounds fp16 results: Core ML stores fp16 activations between ops.
            env_[out] = results[k].to(scalarType(out->type().dtype)).contiguous();
        }
        if (options_.observer) {
            std::vector<at::Tensor> stored;
            for (const auto& out : op.outputs()) stored.push_back(env_[out.get()]);
            options_.observer(op, stored);
        }
    }

    const KernelTable& kernels_;
    const ExecutionOptions& options_;
    std::unordered_map<const mil::Value*, at::Tensor> env_;
    std::unordered_set<const mil::Value*> unavailable_;  ///< computed from a custom layer without kernel
};

}  // namespace

std::vector<at::Tensor> execute(const mil::Program& program, const std::map<std::string, at::Tensor>& inputs,
                                const ExecutionOptions& options) {
    const KernelTable& kernels = options.kernels ? *options.kernels : KernelTable::builtin();
    auto fn = program.functions.find("main");
    if (fn == program.functions.end()) throw ExecutionError("the program has no 'main' function");
    const mil::Block& body = fn->second.body;

    Runner runner(kernels, options);
    std::set<std::string> used;
    for (const auto& in : body.inputs()) {
        auto it = inputs.find(in->name());
        if (it == inputs.end()) {
            std::string names;
            for (const auto& i : body.inputs()) names += (names.empty() ? "" : ", ") + i->name();
            throw std::invalid_argument("missing input '" + in->name() + "' (the program's inputs: " + names + ")");
        }
        runner.bind(in.get(), bindInput(*in, it->second));
        used.insert(in->name());
    }
    for (const auto& [name, t] : inputs)
        if (!used.count(name)) throw std::invalid_argument("the program has no input named '" + name + "'");
    return runner.runBlock(body);
}

std::map<std::string, at::Tensor> executeByName(const mil::Program& program,
                                                const std::map<std::string, at::Tensor>& inputs,
                                                const ExecutionOptions& options) {
    const std::vector<at::Tensor> outs = execute(program, inputs, options);
    std::map<std::string, at::Tensor> named;
    const auto& values = program.main().body.outputs();
    for (size_t i = 0; i < outs.size(); ++i) named[values[i]->name()] = outs[i];
    return named;
}

std::vector<std::string> unsupportedOps(const mil::Program& program, const KernelTable& kernels) {
    std::set<std::string> missing;
    mil::walk(program.main().body, [&](const mil::Operation& op) {
        if (op.type() != "const" && op.type() != "cond" && op.type() != "while_loop" &&
            op.type() != mil::kCustomLayerOp && !kernels.find(op.type()))
            missing.insert(op.type());
    });
    return {missing.begin(), missing.end()};
}

}  // namespace ts2coreml::runtime
