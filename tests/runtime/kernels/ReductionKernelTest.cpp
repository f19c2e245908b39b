// Reduction kernels (core/runtime/kernels/Reduction.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

at::Tensor reduce(const std::string& op, const at::Tensor& x, mil::OperandList params) {
    return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        mil::OperandList ops{{"x", in[0]}};
        ops.insert(ops.end(), params.begin(), params.end());
        return b.add(op, ops);
    });
}

using V = std::vector<int64_t>;

}  // namespace

TEST_CASE("reductions over axes, keep_dims, all axes by default") {
    const at::Tensor x = at::rand({2, 3, 4}) + 0.5;
    CHECK(close(reduce("reduce_sum", x, {{"axes", V{1}}}), x.sum(1)));
    CHECK(close(reduce("reduce_sum", x, {{"axes", V{-1, 0}}, {"keep_dims", true}}),
                x.sum(std::vector<int64_t>{0, 2}, true)));
    CHECK(close(reduce("reduce_mean", x, {}), x.mean()));
    CHECK(close(reduce("reduce_prod", x, {{"axes", V{0, 2}}}), x.prod(2).prod(0), 1e-5));
    CHECK(close(reduce("reduce_max", x, {{"axes", V{2}}, {"keep_dims", true}}), std::get<0>(x.max(2, true))));
    CHECK(close(reduce("reduce_min", x, {{"axes", V{0, 1}}}), at::amin(x, {0, 1})));
    CHECK(close(reduce("reduce_l1_norm", x - 1, {{"axes", V{1}}}), at::abs(x - 1).sum(1)));
    CHECK(close(reduce("reduce_l2_norm", x, {{"axes", V{1}}}), at::sqrt((x * x).sum(1))));
    CHECK(close(reduce("reduce_log_sum", x, {{"axes", V{1}}}), at::log(x.sum(1))));
    CHECK(close(reduce("reduce_log_sum_exp", x, {{"axes", V{1}}}), at::logsumexp(x, 1)));
    CHECK(close(reduce("reduce_sum_square", x, {{"axes", V{1}}}), (x * x).sum(1)));
    CHECK(reduce("reduce_sum", x, {}).dim() == 0);
    const at::Tensor i = at::tensor({1, 2, 3, 4}, at::kInt).reshape({2, 2});
    CHECK(at::equal(reduce("reduce_sum", i, {{"axes", V{1}}}), at::tensor({3, 7}, at::kInt)));
    CHECK(at::equal(reduce("reduce_mean", i, {{"axes", V{1}}}), at::tensor({1, 3}, at::kInt)));
}

TEST_CASE("argmax, argmin and cumsum") {
    const at::Tensor x = at::tensor({1.0f, 5.0f, 5.0f, 0.0f, -1.0f, 3.0f}).reshape({2, 3});
    const at::Tensor am = reduce("reduce_argmax", x, {{"axis", 1}});
    CHECK((am.scalar_type() == at::kInt));
    CHECK(at::equal(am, at::tensor({1, 2}, at::kInt)));  // the first of equal maxima
    CHECK(at::equal(reduce("reduce_argmin", x, {{"axis", 0}, {"keep_dims", true}}),
                    at::tensor({1, 1, 1}, at::kInt).reshape({1, 3})));
    const at::Tensor v = at::tensor({1.0f, 2.0f, 3.0f, 4.0f});
    CHECK(at::equal(reduce("cumsum", v, {}), at::tensor({1.0f, 3.0f, 6.0f, 10.0f})));
    CHECK(at::equal(reduce("cumsum", v, {{"exclusive", true}}), at::tensor({0.0f, 1.0f, 3.0f, 6.0f})));
    CHECK(at::equal(reduce("cumsum", v, {{"reverse", true}}), at::tensor({10.0f, 9.0f, 7.0f, 4.0f})));
    CHECK(
        at::equal(reduce("cumsum", v, {{"reverse", true}, {"exclusive", true}}), at::tensor({9.0f, 7.0f, 4.0f, 0.0f})));
}
