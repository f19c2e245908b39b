// Tensor-creation and sorting kernels (core/runtime/kernels/TensorCreation.cpp, Sorting.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

TEST_CASE("fill, fill_like, range_1d, one_hot") {
    const at::Tensor f = runOp({}, [](mil::Builder& b, const std::vector<mil::Value*>&) {
        return b.add("fill", {{"shape", std::vector<int64_t>{2, 3}}, {"value", 1.5}});
    });
    CHECK(at::equal(f, at::full({2, 3}, 1.5f)));
    const at::Tensor like = runOp({at::zeros({4}, at::kInt)}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("fill_like", {{"ref_tensor", in[0]}, {"value", 7}});
    });
    CHECK(at::equal(like, at::full({4}, 7, at::kInt)));
    const at::Tensor r = runOp({}, [](mil::Builder& b, const std::vector<mil::Value*>&) {
        return b.add("range_1d", {{"start", 1.0}, {"end", 2.0}, {"step", 0.25}});
    });
    CHECK(at::equal(r, at::tensor({1.0f, 1.25f, 1.5f, 1.75f})));
    const at::Tensor ri =
        runOp({at::scalar_tensor(7, at::kInt)}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.add("range_1d", {{"start", 10}, {"end", in[0]}, {"step", -2}});
        });
    CHECK(at::equal(ri, at::tensor({10, 8}, at::kInt)));
    const at::Tensor idx = at::tensor({2, 0, 5}, at::kInt);
    const at::Tensor oh = runOp({idx}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("one_hot", {{"indices", in[0]}, {"one_hot_vector_size", 3}, {"axis", 0}});
    });
    REQUIRE(oh.sizes() == at::IntArrayRef({3, 3}));
    CHECK(at::equal(oh,
                    at::tensor({0, 1, 0, 0, 0, 0, 1, 0, 0}, at::kInt).reshape({3, 3})));  // 5 is out of range: all off
}

TEST_CASE("topk and argsort") {
    const at::Tensor x = at::tensor({3.0f, 1.0f, 4.0f, 1.0f, 5.0f, 9.0f}).reshape({2, 3});
    const auto top = runProgram({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.addOp("topk", {{"x", in[0]}, {"k", 2}});
    });
    REQUIRE(top.size() == 2);
    CHECK(at::equal(top[0], at::tensor({4.0f, 3.0f, 9.0f, 5.0f}).reshape({2, 2})));
    CHECK(at::equal(top[1], at::tensor({2, 0, 2, 1}, at::kInt).reshape({2, 2})));
    const auto low = runProgram({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.addOp("topk", {{"x", in[0]}, {"k", 1}, {"axis", 0}, {"ascending", true}});
    });
    CHECK(at::equal(low[0], at::tensor({1.0f, 1.0f, 4.0f}).reshape({1, 3})));
    const at::Tensor order = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("argsort", {{"x", in[0]}, {"ascending", true}});
    });
    CHECK(at::equal(order, at::tensor({1, 0, 2, 0, 1, 2}, at::kInt).reshape({2, 3})));
}
