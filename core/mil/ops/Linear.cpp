// Linear-algebra MIL ops (coremltools ops/defs/iOS15/linear.py): linear, matmul, einsum.
#include <map>
#include "mil/Families.h"

#include "mil/ops/SchemaSupport.h"

namespace ts2coreml::mil {

using namespace schema;

namespace {

std::vector<TensorType> inferLinear(const OpView& v) {
    requireRank(v, "x", 1, SIZE_MAX);
    requireRank(v, "weight", 2);
    const TensorType& x = v.type("x");
    const Shape& w = v.type("weight").shape;
    if (!shapes::compatibleDim(x.shape.back(), w[1]))
        v.fail("the last dimension of x " + x.str() + " must equal dimension 1 of weight " + v.type("weight").str() +
               " ([D_out, D_in])");
    if (v.has("bias")) {
        requireRank(v, "bias", 1);
        if (!shapes::compatibleDim(v.type("bias").shape[0], w[0]))
            v.fail("bias " + v.type("bias").str() + " must have D_out = " + shapes::str({w[0]}) + " values");
    }
    Shape out = x.shape;
    out.back() = w[0];
    return {tensor(x.dtype, out)};
}

std::vector<TensorType> inferMatmul(const OpView& v) {
    const TensorType& x = v.type("x");
    const TensorType& y = v.type("y");
    const bool tx = boolParam(v, "transpose_x"), ty = boolParam(v, "transpose_y");
    if (x.rank() == 0 || y.rank() == 0) v.fail("x " + x.str() + " and y " + y.str() + " must have rank 1 or more");
    if (x.rank() == 1 && tx) v.fail("transpose_x needs x of rank 2 or more, got " + x.str());
    if (y.rank() == 1 && ty) v.fail("transpose_y needs y of rank 2 or more, got " + y.str());
    Shape xs = x.shape, ys = y.shape;
    if (tx) std::swap(xs[xs.size() - 1], xs[xs.size() - 2]);
    if (ty) std::swap(ys[ys.size() - 1], ys[ys.size() - 2]);
    // A rank-1 x is a row [1, K], a rank-1 y a column [K, 1]; the added dimension is dropped again.
    if (x.rank() == 1) xs.insert(xs.begin(), Dim::fixed(1));
    if (y.rank() == 1) ys.push_back(Dim::fixed(1));
    const Dim& kx = xs[xs.size() - 1];
    const Dim& ky = ys[ys.size() - 2];
    if (!shapes::compatibleDim(kx, ky))
        v.fail("x " + x.str() + " and y " + y.str() + " have different inner dimensions (" + shapes::str({kx}) +
               " vs " + shapes::str({ky}) + ")");
    Shape out = shapes::broadcast(Shape(xs.begin(), xs.end() - 2), Shape(ys.begin(), ys.end() - 2));
    out.push_back(xs[xs.size() - 2]);
    out.push_back(ys.back());
    if (y.rank() == 1) out.pop_back();
    if (x.rank() == 1) out.erase(out.end() - (y.rank() == 1 ? 1 : 2));
    return {tensor(x.dtype, out)};
}

// Core ML's einsum covers two equations: "nchw,nwhr->nchr" (rank 4) and "chw,whr->chr" (rank 3),
// up to renaming of the letters.
std::vector<TensorType> inferEinsum(const OpView& v) {
    const std::vector<Value*> values = v.values("values");
    if (values.size() != 2) v.fail("values must hold exactly two tensors, got " + std::to_string(values.size()));
    const std::string equation = stringParam(v, "equation");
    const auto arrow = equation.find("->");
    const auto comma = equation.find(',');
    if (arrow == std::string::npos || comma == std::string::npos || comma > arrow)
        v.fail("equation '" + equation + "' must have the form 'a,b->c'");
    const std::string terms[] = {equation.substr(0, comma), equation.substr(comma + 1, arrow - comma - 1),
                                 equation.substr(arrow + 2)};
    std::map<char, int> ids;
    std::vector<int> coded[3];
    for (int i = 0; i < 3; ++i)
        for (char c : terms[i]) coded[i].push_back(ids.emplace(c, static_cast<int>(ids.size())).first->second);
    const bool rank4 = coded[0] == std::vector<int>{0, 1, 2, 3} && coded[1] == std::vector<int>{0, 3, 2, 4} &&
                       coded[2] == std::vector<int>{0, 1, 2, 4};
    const bool rank3 = coded[0] == std::vector<int>{0, 1, 2} && coded[1] == std::vector<int>{2, 1, 3} &&
                       coded[2] == std::vector<int>{0, 1, 3};
    if (!rank4 && !rank3)
        v.fail("equation '" + equation + "' is not supported (only 'nchw,nwhr->nchr' and 'chw,whr->chr' forms)");

    const Shape& xs = values[0]->type().shape;
    const Shape& ys = values[1]->type().shape;
    const size_t rank = rank4 ? 4 : 3;
    if (xs.size() != rank || ys.size() != rank)
        v.fail("equation '" + equation + "' needs two tensors of rank " + std::to_string(rank) + ", got " +
               values[0]->type().str() + " and " + values[1]->type().str());
    // Dimensions named alike must agree, the batch-like ones up to broadcasting.
    auto at = [](const Shape& s, int fromEnd) -> const Dim& { return s[s.size() - fromEnd]; };
    if (!shapes::compatibleDim(at(xs, 1), at(ys, 3)))
        v.fail("the contracted dimensions differ: " + shapes::str(xs) + " and " + shapes::str(ys));
    Shape out(rank, Dim::fixed(1));
    out[rank - 1] = at(ys, 1);
    out[rank - 3] = at(xs, 3);
    out[rank - 2] = shapes::broadcast({at(xs, 2)}, {at(ys, 2)})[0];
    if (rank4) out[0] = shapes::broadcast({xs[0]}, {ys[0]})[0];
    return {tensor(values[0]->type().dtype, out)};
}

}  // namespace

void populateLinearSchemas(SchemaTable& t) {
    declare(t, "linear",
            {input("x", kFloatsInt32, "T"), constInput("weight", kFloatsInt32, "T"),
             optionalConst("bias", kFloatsInt32, {}, "T")},
            inferLinear, "x @ weight^T + bias; x [*D, D_in], weight [D_out, D_in], bias [D_out] (default zeros)");

    declare(t, "matmul",
            {input("x", kFloatsInt32, "T"), input("y", kFloatsInt32, "T"), optionalConst("transpose_x", kBool, false),
             optionalConst("transpose_y", kBool, false)},
            inferMatmul,
            "numpy matmul of x and y (each optionally transposed in its last two dimensions); batch "
            "dimensions broadcast");

    declare(t, "einsum", {variadic("values", kFloats, "T"), constInput("equation", kStr)}, inferEinsum,
            "einsum of two tensors: 'nchw,nwhr->nchr' or 'chw,whr->chr' up to renaming");
}

TS2COREML_FAMILY(SchemaTable, Linear, populateLinearSchemas)

}  // namespace ts2coreml::mil
