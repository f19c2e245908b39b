// Convolution MIL ops (coremltools ops/defs/iOS15/conv.py): 1-D to 3-D conv and conv_transpose on
// x of shape [N, C_in, *D_in].
#include "mil/Families.h"
#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

// Kernel sizes: weight dimensions 2.., which must be static.
std::vector<int64_t> kernelOf(const OpView& v) {
    std::vector<int64_t> kernel;
    const Shape& w = v.type("weight").shape;
    for (size_t i = 2; i < w.size(); ++i) {
        if (!w[i].isStatic()) v.fail("weight " + v.type("weight").str() + " must have static kernel sizes");
        kernel.push_back(w[i].size);
    }
    return kernel;
}

int64_t groupsOf(const OpView& v) {
    const int64_t groups = intParam(v, "groups");
    if (groups < 1) v.fail("groups must be positive, got " + std::to_string(groups));
    return groups;
}

void checkBias(const OpView& v, const Dim& cOut) {
    if (!v.has("bias")) return;
    requireRank(v, "bias", 1);
    const Dim& n = v.type("bias").shape[0];
    if (!shapes::compatibleDim(n, cOut))
        v.fail("bias has " + std::to_string(n.size) + " values but there are " + std::to_string(cOut.size) +
               " output channels");
}

std::vector<TensorType> inferConv(const OpView& v) {
    requireRank(v, "x", 3, 5);
    const TensorType& x = v.type("x");
    const TensorType& weight = v.type("weight");
    if (weight.rank() != x.rank())
        v.fail("weight " + weight.str() + " must have the rank of x " + x.str() + " ([C_out, C_in / groups, *K])");
    const int64_t groups = groupsOf(v);
    const Dim& cIn = x.shape[1];
    const Dim& cOut = weight.shape[0];
    if (cIn.isStatic()) {
        if (cIn.size % groups != 0)
            v.fail("x has " + std::to_string(cIn.size) + " input channels, not divisible by groups " +
                   std::to_string(groups));
        if (weight.shape[1].isStatic() && weight.shape[1].size != cIn.size / groups)
            v.fail("weight " + weight.str() + " expects " + std::to_string(weight.shape[1].size * groups) +
                   " input channels (dimension 1 times groups " + std::to_string(groups) + "), x " + x.str() + " has " +
                   std::to_string(cIn.size));
    }
    if (cOut.isStatic() && cOut.size % groups != 0)
        v.fail("weight has " + std::to_string(cOut.size) + " output channels, not divisible by groups " +
               std::to_string(groups));
    checkBias(v, cOut);

    const shapes::Window w = windowParams(v, kernelOf(v), true);
    for (int64_t d : w.dilations)
        if (d > 1 && !isConstDerived(v.value("weight")))
            v.fail("dilations need a constant weight (Core ML has no dilated convolution with a computed weight)");
    Shape out{x.shape[0], cOut};
    const Shape spatial = shapes::windowOutput(Shape(x.shape.begin() + 2, x.shape.end()), w);
    out.insert(out.end(), spatial.begin(), spatial.end());
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferConvTranspose(const OpView& v) {
    requireRank(v, "x", 3, 5);
    const TensorType& x = v.type("x");
    const TensorType& weight = v.type("weight");
    if (weight.rank() != x.rank())
        v.fail("weight " + weight.str() + " must have the rank of x " + x.str() + " ([C_in, C_out / groups, *K])");
    const int64_t groups = groupsOf(v);
    const Dim& cIn = x.shape[1];
    if (!shapes::compatibleDim(cIn, weight.shape[0]))
        v.fail("weight " + weight.str() + " expects " + std::to_string(weight.shape[0].size) +
               " input channels (dimension 0), x " + x.str() + " has " + std::to_string(cIn.size));
    if (cIn.isStatic() && cIn.size % groups != 0)
        v.fail("x has " + std::to_string(cIn.size) + " input channels, not divisible by groups " +
               std::to_string(groups));
    const Dim cOut = shapes::mapDim(
        weight.shape[1], [groups](int64_t n) { return n * groups; }, groups == 1);
    checkBias(v, cOut);

    const shapes::Window w = windowParams(v, kernelOf(v), true);
    if (v.has("output_shape")) {
        const std::vector<int64_t> given = intsParam(v, "output_shape");
        if (given.size() != x.rank())
            v.fail("output_shape has " + std::to_string(given.size()) +
                   " values, expected the full output shape of rank " + std::to_string(x.rank()));
        if (!shapes::compatibleDim(Dim::fixed(given[0]), x.shape[0]) ||
            !shapes::compatibleDim(Dim::fixed(given[1]), cOut))
            v.fail("output_shape must start with [N, C_out] = " + shapes::str({x.shape[0], cOut}));
        for (int64_t d : given)
            if (d <= 0) v.fail("output_shape sizes must be positive");
        Shape out{x.shape[0], cOut};
        for (size_t i = 2; i < given.size(); ++i) out.push_back(Dim::fixed(given[i]));
        return {tensor(x.dtype, out)};
    }
    Shape out{x.shape[0], cOut};
    const Shape spatial = shapes::transposedWindowOutput(Shape(x.shape.begin() + 2, x.shape.end()), w);
    out.insert(out.end(), spatial.begin(), spatial.end());
    return {tensor(x.dtype, out)};
}

// Inputs shared by conv and conv_transpose; strides, pad and dilations default to ones / zeros of
// the spatial rank.
std::vector<InputSpec> windowInputs() {
    return {optionalConst("strides", kInt32), optionalConst("pad_type", kStr, std::string("valid")),
            optionalConst("pad", kInt32), optionalConst("dilations", kInt32),
            optionalConst("groups", kInt32, int64_t{1})};
}

}  // namespace

void populateConvolutionSchemas(SchemaTable& t) {
    std::vector<InputSpec> conv{input("x", kFloats, "T"), input("weight", kFloats, "T"),
                                optionalConst("bias", kFloats, {}, "T")};
    for (auto& in : windowInputs()) conv.push_back(std::move(in));
    declare(t, "conv", std::move(conv), inferConv,
            "convolution of x [N, C_in, *D] with weight [C_out, C_in / groups, *K]; pad_type valid | same | custom "
            "(same_lower from iOS16); the weight may be computed (iOS17 also lets weight and bias differ from x in "
            "dtype and bias be computed)");

    std::vector<InputSpec> transpose{input("x", kFloats, "T"), constInput("weight", kFloats, "T"),
                                     optionalConst("bias", kFloats, {}, "T"), optionalConst("output_shape", kInt32)};
    for (auto& in : windowInputs()) transpose.push_back(std::move(in));
    declare(t, "conv_transpose", std::move(transpose), inferConvTranspose,
            "transposed convolution of x [N, C_in, *D] with weight [C_in, C_out / groups, *K]; output_shape, when "
            "given, is the full output shape (the weight may be computed from iOS17)");
}

TS2COREML_FAMILY(SchemaTable, Convolution, populateConvolutionSchemas)

}  // namespace ts2coreml::mil
