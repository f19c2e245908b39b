// Indexing kernels (core/runtime/kernels/Indexing.cpp).
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

using V = std::vector<int64_t>;

mil::Value* mask(mil::Builder& b, std::vector<bool> m) {
    const auto n = static_cast<int64_t>(m.size());
    return b.constant(mil::ConstData::fromBools(m, {n}));
}

}  // namespace

TEST_CASE("slice_by_index: numpy slicing with masks, negative strides and squeezes") {
    const at::Tensor x = at::arange(4 * 6, at::kFloat).reshape({4, 6});
    auto slice = [&](V begin, V end, V stride, std::vector<bool> bm, std::vector<bool> em, std::vector<bool> sm) {
        return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.add("slice_by_index", {{"x", in[0]},
                                            {"begin", begin},
                                            {"end", end},
                                            {"stride", stride},
                                            {"begin_mask", mask(b, bm)},
                                            {"end_mask", mask(b, em)},
                                            {"squeeze_mask", mask(b, sm)}});
        });
    };
    // x[1:3, ::2]
    CHECK(at::equal(slice({1, 0}, {3, 0}, {1, 2}, {false, true}, {false, true}, {false, false}),
                    x.slice(0, 1, 3).slice(1, 0, 6, 2)));
    // x[::-1, 4:0:-2]  -> rows 3..0, columns 4, 2
    const at::Tensor rev = slice({0, 4}, {0, 0}, {-1, -2}, {true, false}, {true, false}, {false, false});
    CHECK(at::equal(rev, x.flip(0).index_select(1, at::tensor({4, 2}, at::kLong))));
    // x[-1, 1:-1]: the row squeezed
    CHECK(
        at::equal(slice({-1, 1}, {0, -1}, {1, 1}, {false, false}, {false, false}, {true, false}), x[3].slice(0, 1, 5)));
    // begin/end clamp like Python: x[2:100, -100:2]
    CHECK(at::equal(slice({2, -100}, {100, 2}, {1, 1}, {false, false}, {false, false}, {false, false}),
                    x.slice(0, 2).slice(1, 0, 2)));
    // An empty slice.
    CHECK(slice({3, 0}, {1, 6}, {1, 1}, {false, false}, {false, false}, {false, false}).size(0) == 0);
}

TEST_CASE("slice_by_size and slice_update") {
    const at::Tensor x = at::arange(4 * 6, at::kFloat).reshape({4, 6});
    const at::Tensor s = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("slice_by_size", {{"x", in[0]}, {"begin", V{1, -4}}, {"size", V{-1, 2}}});
    });
    CHECK(at::equal(s, x.slice(0, 1).slice(1, 2, 4)));
    // x[3:0:-2, 1] = update  (rows 3 and 1)
    const at::Tensor update = at::tensor({100.0f, 200.0f});
    const at::Tensor u = runOp({x, update}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("slice_update", {{"x", in[0]},
                                      {"update", in[1]},
                                      {"begin", V{3, 1}},
                                      {"end", V{0, 2}},
                                      {"stride", V{-2, 1}},
                                      {"squeeze_mask", mask(b, {false, true})}});
    });
    at::Tensor want = x.clone();
    want[3][1] = 100;
    want[1][1] = 200;
    CHECK(at::equal(u, want));
}

TEST_CASE("gather, gather_along_axis, gather_nd") {
    const at::Tensor x = at::randn({3, 4, 5});
    const at::Tensor idx = at::tensor({2, -1, 0}, at::kInt);
    const at::Tensor g = runOp({x, idx}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("gather", {{"x", in[0]}, {"indices", in[1]}, {"axis", 1}});
    });
    CHECK(at::equal(g, x.index_select(1, at::tensor({2, 3, 0}, at::kLong))));
    // batch_dims 1: each of the 3 batch entries picks its own columns.
    const at::Tensor bidx = at::tensor({0, 1, 1, 2, 3, 3}, at::kInt).reshape({3, 2});
    const at::Tensor gb = runOp({x, bidx}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("gather", {{"x", in[0]}, {"indices", in[1]}, {"axis", 1}, {"batch_dims", 1}});
    });
    REQUIRE(gb.sizes() == at::IntArrayRef({3, 2, 5}));
    CHECK(at::equal(gb[2][0], x[2][3]));
    const at::Tensor along = at::randint(0, 4, {3, 2, 5}, at::kInt);
    const at::Tensor ga = runOp({x, along}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("gather_along_axis", {{"x", in[0]}, {"indices", in[1]}, {"axis", 1}});
    });
    CHECK(at::equal(ga, at::gather(x, 1, along.to(at::kLong))));
    const at::Tensor nd = at::tensor({2, 3, 0, -1}, at::kInt).reshape({2, 2});
    const at::Tensor gn = runOp({x, nd}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("gather_nd", {{"x", in[0]}, {"indices", in[1]}});
    });
    REQUIRE(gn.sizes() == at::IntArrayRef({2, 5}));
    CHECK(at::equal(gn[0], x[2][3]));
    CHECK(at::equal(gn[1], x[0][3]));
}

TEST_CASE("scatter modes") {
    const at::Tensor data = at::ones({4, 2});
    const at::Tensor idx = at::tensor({3, 1, 3}, at::kInt);
    const at::Tensor upd = at::full({3, 2}, 2.0f);
    auto scatter = [&](const std::string& mode) {
        return runOp({data, idx, upd}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.add("scatter", {{"data", in[0]}, {"indices", in[1]}, {"updates", in[2]}, {"mode", mode}});
        });
    };
    CHECK(scatter("add")[3][0].item<float>() == 5);
    CHECK(scatter("sub")[3][0].item<float>() == -3);
    CHECK(scatter("mul")[3][0].item<float>() == 4);
    CHECK(scatter("div")[3][0].item<float>() == 0.25f);
    CHECK(scatter("max")[1][1].item<float>() == 2);
    CHECK(scatter("min")[1][1].item<float>() == 1);
    CHECK(scatter("update")[1][1].item<float>() == 2);
    CHECK(scatter("add")[0][0].item<float>() == 1);

    const at::Tensor along = at::tensor({1, 0}, at::kInt).reshape({1, 2});
    const at::Tensor sa =
        runOp({data, along, at::full({1, 2}, 5.0f)}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.add("scatter_along_axis",
                         {{"data", in[0]}, {"indices", in[1]}, {"updates", in[2]}, {"axis", 0}, {"mode", "update"}});
        });
    CHECK(sa[1][0].item<float>() == 5);
    CHECK(sa[0][1].item<float>() == 5);
    CHECK(sa[0][0].item<float>() == 1);

    const at::Tensor ndIdx = at::tensor({1, 0, 3, 1}, at::kInt).reshape({2, 2});
    const at::Tensor snd =
        runOp({data, ndIdx, at::tensor({7.0f, 9.0f})}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.add("scatter_nd", {{"data", in[0]}, {"indices", in[1]}, {"updates", in[2]}});
        });
    CHECK(snd[1][0].item<float>() == 8);
    CHECK(snd[3][1].item<float>() == 10);
}

TEST_CASE("non_zero and band_part") {
    const at::Tensor x = at::tensor({0.0f, 2.0f, 0.0f, 3.0f}).reshape({2, 2});
    const at::Tensor nz = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("non_zero", {{"x", in[0]}});
    });
    CHECK((nz.scalar_type() == at::kInt));
    CHECK(at::equal(nz, at::tensor({0, 1, 1, 1}, at::kInt).reshape({2, 2})));
    const at::Tensor m = at::randn({2, 4, 4});
    const at::Tensor band = runOp({m}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("band_part", {{"x", in[0]}, {"lower", 1}, {"upper", 0}});
    });
    CHECK(at::equal(band, at::tril(m) - at::tril(m, -2)));
    const at::Tensor upper = runOp({m}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("band_part", {{"x", in[0]}, {"lower", 0}});
    });
    CHECK(at::equal(upper, at::triu(m)));
}
