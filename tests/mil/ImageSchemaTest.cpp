// Image MIL op schemas: resizing, cropping, non-maximum suppression.
#include "MilTestSupport.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
using namespace ts2coreml::mil::test;

TEST_CASE("upsample: floor(size * scale) of the last two dimensions") {
    MilFixture f;
    Value* x = f.fp32({1, 3, 10, 15});
    CHECK(f.b.add("upsample_nearest_neighbor", {{"x", x}, {"scale_factor_height", 2}, {"scale_factor_width", 2}})
              ->type()
              .str() == "fp32[1,3,20,30]");
    CHECK(f.b.add("upsample_bilinear",
                  {{"x", x}, {"scale_factor_height", 1.5}, {"scale_factor_width", 0.5}, {"align_corners", false}})
              ->type()
              .str() == "fp32[1,3,15,7]");
    CHECK(f.b.add("upsample_bilinear", {{"x", x}})->type().str() == "fp32[1,3,10,15]");
    // The two scale factors share a dtype (type variable U).
    CHECK(mentions(
        errorOf([&] {
            f.b.add("upsample_nearest_neighbor", {{"x", x}, {"scale_factor_height", 2}, {"scale_factor_width", 2.0}});
        }),
        {"'upsample_nearest_neighbor'", "'scale_factor_width'"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("upsample_bilinear", {{"x", f.fp32({4, 4})}});
                   }),
                   {"'upsample_bilinear'", "rank"}));
    CHECK(mentions(errorOf([&] {
                       f.b.add("upsample_bilinear", {{"x", x}, {"scale_factor_height", 0}});
                   }),
                   {"'upsample_bilinear'", "positive"}));
}

TEST_CASE("upsample: symbolic sizes") {
    MilFixture f;
    Value* y = f.b.add("upsample_nearest_neighbor",
                       {{"x", f.fp32({1, 3, "h", "w"})}, {"scale_factor_height", 2}, {"scale_factor_width", 1}});
    CHECK(!y->type().shape[2].isStatic());
    CHECK(y->type().shape[2].symbol != "h");
    CHECK(y->type().shape[3].symbol == "w");
}

TEST_CASE("resize ops take target sizes") {
    MilFixture f;
    Value* x = f.fp32({1, 3, 10, 15});
    CHECK(f.b.add("resize_bilinear",
                  {{"x", x}, {"target_size_height", 32}, {"target_size_width", 48}, {"sampling_mode", "ALIGN_CORNERS"}})
              ->type()
              .str() == "fp32[1,3,32,48]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("resize_bilinear", {{"x", x}, {"target_size_height", 3}, {"sampling_mode", "BICUBIC"}});
                   }),
                   {"'resize_bilinear'", "'BICUBIC'"}));
    CHECK(f.b.add("resize_nearest_neighbor", {{"x", x}, {"target_size_height", 5}, {"target_size_width", 6}})
              ->type()
              .str() == "fp32[1,3,5,6]");
}

TEST_CASE("crop and crop_resize") {
    MilFixture f;
    Value* x = f.fp32({2, 3, 10, 15});
    CHECK(f.b.add("crop", {{"x", x}, {"crop_height", {1, 2}}, {"crop_width", {0, 5}}})->type().str() ==
          "fp32[2,3,7,10]");
    CHECK(
        f.b.add("crop_resize", {{"x", x}, {"roi", f.fp32({4, 1, 4, 1, 1})}, {"target_height", 7}, {"target_width", 7}})
            ->type()
            .str() == "fp32[4,2,3,7,7]");
    CHECK(
        f.b.add("crop_resize", {{"x", x}, {"roi", f.fp32({4, 1, 5, 1, 1})}, {"target_height", 7}, {"target_width", 7}})
            ->type()
            .str() == "fp32[4,1,3,7,7]");
    CHECK(mentions(errorOf([&] {
                       f.b.add("crop_resize", {{"x", x}, {"roi", f.fp32({4, 4})}});
                   }),
                   {"'crop_resize'", "'roi'"}));
}

TEST_CASE("non_maximum_suppression: four outputs padded to max_boxes") {
    MilFixture f;
    auto outs = f.b.addOp("non_maximum_suppression", {{"boxes", f.fp32({1, 100, 4})},
                                                      {"scores", f.fp32({1, 100, 80})},
                                                      {"iou_threshold", 0.5},
                                                      {"score_threshold", 0.05},
                                                      {"max_boxes", 20}});
    REQUIRE(outs.size() == 4);
    CHECK(outs[0]->type().str() == "fp32[1,20,4]");
    CHECK(outs[1]->type().str() == "fp32[1,20,80]");
    CHECK(outs[2]->type().str() == "int32[1,20]");
    CHECK(outs[3]->type().str() == "int32[1]");
    CHECK(mentions(errorOf([&] {
                       f.b.addOp("non_maximum_suppression", {{"boxes", f.fp32({1, 100, 4})},
                                                             {"scores", f.fp32({1, 99, 80})},
                                                             {"iou_threshold", 0.5},
                                                             {"score_threshold", 0.05},
                                                             {"max_boxes", 20}});
                   }),
                   {"'non_maximum_suppression'", "scores"}));
}
