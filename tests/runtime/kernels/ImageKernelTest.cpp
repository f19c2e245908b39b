// Image kernels (core/runtime/kernels/Image.cpp): resize grids as Apple documents them, and
// upsampling against ATen's interpolation.
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

/// resize_bilinear of [0, 1] (so each output is its own source coordinate) to `out` samples.
at::Tensor grid(const std::string& mode, int64_t out) {
    const at::Tensor x = at::tensor({0.0f, 1.0f}).reshape({1, 1, 2});
    return runOp(
               {x},
               [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
                   return b.add(
                       "resize_bilinear",
                       {{"x", in[0]}, {"target_size_height", 1}, {"target_size_width", out}, {"sampling_mode", mode}});
               })
        .reshape({-1});
}

at::Tensor values(std::vector<float> v) { return at::tensor(v); }

}  // namespace

TEST_CASE("resize_bilinear samples at the grids Apple documents (Xin = 2)") {
    CHECK(close(grid("UNALIGN_CORNERS", 5), values({0, 0.1f, 0.5f, 0.9f, 1})));
    CHECK(close(grid("STRICT_ALIGN_CORNERS", 5), values({0, 0.25f, 0.5f, 0.75f, 1})));
    CHECK(close(grid("ALIGN_CORNERS", 5), values({0, 0.25f, 0.5f, 0.75f, 1})));
    CHECK(close(grid("DEFAULT", 5), values({0, 0.4f, 0.8f, 1, 1})));
    CHECK(close(grid("OFFSET_CORNERS", 5), values({0.1f, 0.3f, 0.5f, 0.7f, 0.9f})));
    CHECK(close(grid("UNALIGN_CORNERS", 6), values({0, 0, 1 / 3.0f, 2 / 3.0f, 1, 1})));
    CHECK(close(grid("DEFAULT", 6), values({0, 1 / 3.0f, 2 / 3.0f, 1, 1, 1})));
    CHECK(close(grid("OFFSET_CORNERS", 6), values({1 / 12.0f, 0.25f, 5 / 12.0f, 7 / 12.0f, 0.75f, 11 / 12.0f})));
    // A single output sample: the centre for ALIGN_CORNERS, the first pixel for STRICT.
    CHECK(close(grid("ALIGN_CORNERS", 1), values({0.5f})));
    CHECK(close(grid("STRICT_ALIGN_CORNERS", 1), values({0})));
}

TEST_CASE("upsample_bilinear matches torch's bilinear interpolation") {
    const at::Tensor x = at::randn({1, 2, 5, 7});
    auto up = [&](double sh, double sw, bool align, std::optional<bool> halfPixel = std::nullopt) {
        return runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
            mil::OperandList ops{
                {"x", in[0]}, {"scale_factor_height", sh}, {"scale_factor_width", sw}, {"align_corners", align}};
            if (halfPixel) ops.emplace_back("half_pixel_centers", *halfPixel);
            return b.add("upsample_bilinear", ops);
        });
    };
    CHECK(close(up(2, 3, true), at::upsample_bilinear2d(x, {10, 21}, true), 1e-5));
    CHECK(close(up(2, 3, false), at::upsample_bilinear2d(x, {10, 21}, false), 1e-5));
    // Fractional scales: the spacing comes from the sizes (recompute_scale_factor=True).
    CHECK(close(up(1.5, 2.5, false), at::upsample_bilinear2d(x, {7, 17}, false), 1e-5));
    // Neither corners nor half pixels: TF's asymmetric mapping, src = dst * in / out.
    const at::Tensor asym = up(2, 2, false, false);
    CHECK(close(asym.select(2, 0).select(2, 1), (x.select(2, 0).select(2, 0) + x.select(2, 0).select(2, 1)) / 2));
}

TEST_CASE("nearest-neighbour upsampling and resizing") {
    const at::Tensor x = at::randn({2, 3, 4, 5});
    const at::Tensor up = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("upsample_nearest_neighbor",
                     {{"x", in[0]}, {"scale_factor_height", 2}, {"scale_factor_width", 3}});
    });
    CHECK(at::equal(up, at::upsample_nearest2d(x, {8, 15})));
    const at::Tensor resized = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("resize_nearest_neighbor", {{"x", in[0]}, {"target_size_height", 7}, {"target_size_width", 3}});
    });
    CHECK(at::equal(resized, at::upsample_nearest2d(x, {7, 3})));
}

TEST_CASE("crop and crop_resize") {
    const at::Tensor x = at::arange(2 * 1 * 5 * 6, at::kFloat).reshape({2, 1, 5, 6});
    const at::Tensor c = runOp({x}, [](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add(
            "crop",
            {{"x", in[0]}, {"crop_height", std::vector<int64_t>{1, 2}}, {"crop_width", std::vector<int64_t>{0, 3}}});
    });
    CHECK(at::equal(c, x.narrow(2, 1, 2).narrow(3, 0, 3)));
    // One box [y1, x1, y2, x2] = [1, 2, 3, 4] over both images, 3x3 samples at the corners and midpoints.
    const at::Tensor roi = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({1, 1, 4, 1, 1});
    const at::Tensor r = runOp({x}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
        return b.add("crop_resize", {{"x", in[0]},
                                     {"roi", constantOf(b, roi)},
                                     {"target_height", 3},
                                     {"target_width", 3},
                                     {"sampling_mode", "ALIGN_CORNERS"}});
    });
    REQUIRE(r.sizes() == at::IntArrayRef({1, 2, 1, 3, 3}));
    // x[n, 0, y, x] = n * 30 + 6 y + x is linear, so bilinear samples are exact.
    CHECK(r[0][1][0][0][0].item<float>() == doctest::Approx(30 + 6 + 2));
    CHECK(r[0][0][0][2][2].item<float>() == doctest::Approx(6 * 3 + 4));
    CHECK(r[0][0][0][1][1].item<float>() == doctest::Approx(6 * 2 + 3));
}

TEST_CASE("non_maximum_suppression keeps boxes greedily by score and pads to max_boxes") {
    // Center-size boxes: 0 and 1 overlap with IoU 0.6 (10x10 shifted by 2.5), 2 is apart.
    const at::Tensor boxes =
        at::tensor({5.0f, 5.0f, 10.0f, 10.0f, 7.5f, 5.0f, 10.0f, 10.0f, 50.0f, 50.0f, 4.0f, 4.0f}).reshape({1, 3, 4});
    const at::Tensor scores = at::tensor({0.5f, 0.9f, 0.7f}).reshape({1, 3, 1});
    auto run = [&](double iou, int64_t maxBoxes) {
        return runProgram({boxes, scores}, [&](mil::Builder& b, const std::vector<mil::Value*>& in) {
            return b.addOp("non_maximum_suppression", {{"boxes", in[0]},
                                                       {"scores", in[1]},
                                                       {"iou_threshold", iou},
                                                       {"score_threshold", 0.0},
                                                       {"max_boxes", maxBoxes}});
        });
    };
    auto suppressing = run(0.5, 4);
    CHECK(at::equal(suppressing[2], at::tensor({1, 2, -1, -1}, at::kInt).reshape({1, 4})));
    CHECK(suppressing[3].item<int>() == 2);
    CHECK(close(suppressing[1].reshape({-1}), values({0.9f, 0.7f, 0.f, 0.f})));
    CHECK(close(suppressing[0][0][0], boxes[0][1]));
    auto keepingAll = run(0.7, 2);  // IoU 0.6 is not above 0.7; max_boxes cuts at 2
    CHECK(at::equal(keepingAll[2], at::tensor({1, 2}, at::kInt).reshape({1, 2})));
    CHECK(keepingAll[3].item<int>() == 2);
}
