// Index-based MIL op schemas: slices, gathers, scatters.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("slice_by_index: numpy slices with masks") {
    MilFixture f;
    Value* x = f.fp32({"n", 10, 8});
    // x[:, 2:8:2, -3:]
    Value* y = f.b.add("slice_by_index", {{"x", x},
                                          {"begin", {0, 2, -3}},
                                          {"end", {0, 8, 0}},
                                          {"stride", {1, 2, 1}},
                                          {"begin_mask", f.bools({true, false, false})},
                                          {"end_mask", f.bools({true, false, true})}});
    CHECK(y->type().str() == "fp32[n,3,3]");
    // x[0, :, 1] squeezes two dimensions.
    Value* z = f.b.add("slice_by_index", {{"x", x},
                                          {"begin", {0, 0, 1}},
                                          {"end", {1, 0, 2}},
                                          {"end_mask", f.bools({false, true, false})},
                                          {"squeeze_mask", f.bools({true, false, true})}});
    CHECK(z->type().str() == "fp32[10]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("slice_by_index", {{"x", x}, {"begin", {0, 0}}, {"end", {1, 1}}});
                   }),
                   {"'slice_by_index'", "'begin'", "one value per dimension"}));
    CHECK(mentions(
        errorOf([&] {
            f.b.add("slice_by_index", {{"x", x}, {"begin", {0, 0, 0}}, {"end", {1, 1, 1}}, {"begin_mask", {1, 0, 0}}});
        }),
        {"'slice_by_index'", "'begin_mask'", "bool"}));
}

TEST_CASE("slice_by_index: computed begin and end") {
    MilFixture f;
    Value* x = f.fp32({4, 10});
    Value* begin = f.input(DType::Int32, {2});
    Value* y = f.b.add("slice_by_index", {{"x", x},
                                          {"begin", begin},
                                          {"end", {0, 0}},
                                          {"end_mask", f.bools({true, true})},
                                          {"begin_mask", f.bools({true, false})}});
    CHECK(y->type().shape[0].size == 4);
    CHECK(!y->type().shape[1].isStatic());
}

TEST_CASE("slice_by_size") {
    MilFixture f;
    Value* x = f.fp32({4, 10});
    CHECK(f.b.add("slice_by_size", {{"x", x}, {"begin", {1, 2}}, {"size", {2, -1}}})->type().str() == "fp32[2,8]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("slice_by_size", {{"x", x}, {"begin", {3, 0}}, {"size", {2, 1}}});
                   }),
                   {"'slice_by_size'", "outside"}));
}

TEST_CASE("gather and friends") {
    MilFixture f;
    Value* table = f.fp32({1000, 64});
    Value* ids = f.input(DType::Int32, {"b", 7});
    CHECK(f.b.add("gather", {{"x", table}, {"indices", ids}})->type().str() == "fp32[b,7,64]");
    CHECK(f.b.add("gather", {{"x", f.fp32({2, 5, 3})}, {"indices", 4}, {"axis", 1}})->type().str() == "fp32[2,3]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("gather", {{"x", table}, {"indices", ids}, {"axis", 2}});
                   }),
                   {"'gather'", "axis 2"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("gather", {{"x", table}, {"indices", f.fp32({3})}});
                   }),
                   {"'gather'", "'indices'"}));
    // batch_dims (iOS16): x [2, 5, 3], indices [2, 4] along axis 1 -> [2, 4, 3].
    CHECK(
        f.b.add("gather",
                {{"x", f.fp32({2, 5, 3})}, {"indices", f.input(DType::Int32, {2, 4})}, {"axis", 1}, {"batch_dims", 1}})
            ->type()
            .str() == "fp32[2,4,3]");

    CHECK(f.b.add("gather_along_axis", {{"x", f.fp32({3, 5})}, {"indices", f.input(DType::Int32, {3, 2})}, {"axis", 1}})
              ->type()
              .str() == "fp32[3,2]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("gather_along_axis",
                               {{"x", f.fp32({3, 5})}, {"indices", f.input(DType::Int32, {4, 2})}, {"axis", 1}});
                   }),
                   {"'gather_along_axis'", "dimension 0"}));
    CHECK(f.b.add("gather_nd", {{"x", f.fp32({4, 5, 6})}, {"indices", f.input(DType::Int32, {7, 2})}})->type().str() ==
          "fp32[7,6]");
}

TEST_CASE("scatter family checks the updates' shape") {
    MilFixture f;
    Value* data = f.fp32({5, 3});
    Value* idx = f.input(DType::Int32, {2});
    CHECK(f.b.add("scatter", {{"data", data}, {"indices", idx}, {"updates", f.fp32({2, 3})}, {"mode", "update"}})
              ->type()
              .str() == "fp32[5,3]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("scatter", {{"data", data}, {"indices", idx}, {"updates", f.fp32({3, 3})}});
                   }),
                   {"'scatter'", "updates", "[2,3]"}));
    CHECK(mentions(
        errorOf([&] {
            f.b.add("scatter", {{"data", data}, {"indices", idx}, {"updates", f.fp32({2, 3})}, {"mode", "avg"}});
        }),
        {"'scatter'", "'mode'"}));
    Value* idx2 = f.input(DType::Int32, {5, 1});
    CHECK(f.b.add("scatter_along_axis", {{"data", data}, {"indices", idx2}, {"updates", f.fp32({5, 1})}, {"axis", 1}})
              ->type()
              .str() == "fp32[5,3]");
    CHECK(
        f.b.add("scatter_nd", {{"data", data}, {"indices", f.input(DType::Int32, {4, 1})}, {"updates", f.fp32({4, 3})}})
            ->type()
            .str() == "fp32[5,3]");
}

TEST_CASE("slice_update (iOS18), non_zero, band_part") {
    MilFixture f18(Target::iOS18);
    Value* x = f18.fp32({4, 6});
    CHECK(f18.b
              .add("slice_update", {{"x", x},
                                    {"update", f18.fp32({2, 6})},
                                    {"begin", {1, 0}},
                                    {"end", {3, 0}},
                                    {"end_mask", f18.bools({false, true})}})
              ->type()
              .str() == "fp32[4,6]");
    CHECK(mentions(
        errorOf([&] {
            f18.b.add("slice_update", {{"x", x}, {"update", f18.fp32({2, 5})}, {"begin", {1, 0}}, {"end", {3, 6}}});
        }),
        {"'slice_update'", "[2,6]"}));
    MilFixture f;
    Value* nz = f.b.add("non_zero", {{"x", f.fp32({3, 4})}});
    CHECK(nz->type().dtype == DType::Int32);
    CHECK(!nz->type().shape[0].isStatic());
    CHECK(nz->type().shape[1].size == 2);
    CHECK(f.b.add("non_zero", {{"x", f.b.ints({0, 3, 0, 5})}})->type().str() == "int32[2,1]");
    CHECK(f.b.add("band_part", {{"x", f.fp32({4, 4})}, {"lower", 0}})->type().str() == "fp32[4,4]");
}
