// What an executor kernel sees: one MIL operation, its inputs read BY NAME as ATen tensors, its
// constant parameters with Core ML's defaults applied from the op's schema. Kernels are small free
// functions, one per MIL op, registered by op name into a KernelTable by one populate function per
// op family (kernels/<Family>.cpp) — nothing else needs editing to add an op.
#pragma once

#include <ts2coreml/OpSchema.h>

#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ts2coreml::runtime {

/// A failure while executing a program: the message names the op type, its output and where the
/// op came from.
class ExecutionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class KernelContext {
public:
    using Lookup = std::function<const at::Tensor&(const mil::Value*)>;
    KernelContext(const mil::Operation& op, const mil::OpSchema& schema, Lookup lookup);

    const mil::Operation& op() const { return op_; }
    const mil::OpView& view() const { return view_; }

    /// True when the input is bound (not left to its default).
    bool has(const std::string& name) const { return view_.has(name); }

    /// A required input, in its COMPUTE type: fp16 tensors come as fp32. ATen's CPU kernels compute
    /// fp16 in float internally (or not at all: conv, matmul), so each kernel computes in fp32 and
    /// the executor rounds every fp16 result back to fp16 — what Core ML stores between ops.
    at::Tensor input(const std::string& name) const;
    /// An optional input in its compute type, or nullopt when omitted.
    std::optional<at::Tensor> optionalInput(const std::string& name) const;
    /// A variadic input's tensors, in their compute type.
    std::vector<at::Tensor> inputs(const std::string& name) const;
    /// An input exactly as stored (fp16 stays fp16).
    at::Tensor raw(const std::string& name) const;

    /// Parameters: the bound value — a constant, or an int tensor computed at run time — else the
    /// schema's default; fails naming the input when there is neither.
    int64_t getInt(const std::string& name) const;
    double getDouble(const std::string& name) const;
    bool getBool(const std::string& name) const;
    std::string getString(const std::string& name) const;
    std::vector<int64_t> getInts(const std::string& name) const;
    std::vector<double> getDoubles(const std::string& name) const;
    /// A bound int list, or nullopt when omitted (for parameters whose default depends on x).
    std::optional<std::vector<int64_t>> optionalInts(const std::string& name) const;

    /// Declared types of an input and of the outputs.
    const TensorType& inputType(const std::string& name) const { return view_.type(name); }
    const TensorType& outputType(size_t i = 0) const { return op_.output(i)->type(); }
    size_t numOutputs() const { return op_.outputs().size(); }

    [[noreturn]] void fail(const std::string& message) const;

private:
    const at::Tensor& bound(const std::string& name) const;
    const mil::Operation& op_;
    mil::OpView view_;
    Lookup lookup_;
};

/// A kernel computing all outputs of an op, in order.
using MultiKernel = std::function<std::vector<at::Tensor>(const KernelContext&)>;
/// A kernel of a single-output op.
using Kernel = std::function<at::Tensor(const KernelContext&)>;

class KernelTable {
public:
    /// The built-in kernels, every family populated.
    static const KernelTable& builtin();

    void add(const std::string& opType, Kernel kernel);
    void addMulti(const std::string& opType, MultiKernel kernel);
    const MultiKernel* find(const std::string& opType) const;
    std::vector<std::string> opTypes() const;

private:
    std::map<std::string, MultiKernel> kernels_;
};

}  // namespace ts2coreml::runtime
