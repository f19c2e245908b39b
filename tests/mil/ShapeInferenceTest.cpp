// Shape arithmetic behind the MIL schemas, on its own.
#include "MilTestSupport.h"
#include "mil/ops/ShapeInference.h"

using namespace ts2coreml;
using namespace ts2coreml::mil;
namespace shapes = ts2coreml::mil::shapes;

namespace {
Shape S(std::initializer_list<test::D> dims) { return test::typeOf(DType::Float32, dims).shape; }
}  // namespace

TEST_CASE("shapes: broadcasting aligns at the last dimension") {
    CHECK(shapes::str(shapes::broadcast(S({2, 1, 4}), S({3, 1}))) == "[2,3,4]");
    CHECK(shapes::str(shapes::broadcast(S({}), S({5}))) == "[5]");
    CHECK_THROWS_AS(shapes::broadcast(S({2, 3}), S({4})), shapes::ShapeError);
}

TEST_CASE("shapes: broadcasting keeps symbols where it can") {
    CHECK(shapes::str(shapes::broadcast(S({"s0", 4}), S({1, 4}))) == "[s0,4]");
    CHECK(shapes::str(shapes::broadcast(S({"s0", 4}), S({"s0", 1}))) == "[s0,4]");
    CHECK(shapes::str(shapes::broadcast(S({"s0"}), S({3}))) == "[3]");  // s0 must be 1 or 3
    const Shape fresh = shapes::broadcast(S({"s0"}), S({"s1"}));
    CHECK(!fresh[0].isStatic());
    CHECK(fresh[0].symbol != "s0");
    CHECK(fresh[0].symbol != "s1");
}

TEST_CASE("shapes: axes normalize within -rank..rank-1") {
    CHECK(shapes::normalizeAxis(-1, 4) == 3);
    CHECK(shapes::normalizeAxis(0, 4) == 0);
    CHECK_THROWS_AS(shapes::normalizeAxis(4, 4), shapes::ShapeError);
    CHECK_THROWS_AS(shapes::normalizeAxis(-5, 4), shapes::ShapeError);
    CHECK(shapes::normalizeAxes({-1, 0}, 3) == std::vector<int64_t>{2, 0});
    CHECK_THROWS_AS(shapes::normalizeAxes({1, -2}, 3), shapes::ShapeError);
}

TEST_CASE("shapes: window output sizes for valid, custom, same and ceil mode") {
    shapes::Window w;
    w.kernel = {7, 7};
    w.strides = {2, 2};
    w.dilations = {1, 1};
    w.padType = "custom";
    w.pad = {3, 3, 3, 3};
    CHECK(shapes::str(shapes::windowOutput(S({224, 224}), w)) == "[112,112]");

    w.padType = "valid";
    w.pad = {0, 0, 0, 0};
    CHECK(shapes::str(shapes::windowOutput(S({224, 224}), w)) == "[109,109]");

    w.padType = "same";
    CHECK(shapes::str(shapes::windowOutput(S({225, 7}), w)) == "[113,4]");

    // 3x3 stride 2 max pool over 112: floor 55 (+1 = 56 with pad 1); ceil mode over 6 (PyTorch: 3).
    shapes::Window pool;
    pool.kernel = {3};
    pool.strides = {2};
    pool.dilations = {1};
    pool.padType = "valid";
    CHECK(shapes::windowOutput(S({6}), pool)[0].size == 2);
    pool.ceilMode = true;
    CHECK(shapes::windowOutput(S({6}), pool)[0].size == 3);
    // With padding, ceil mode drops a window that would start in the right padding.
    pool.padType = "custom";
    pool.pad = {1, 1};
    pool.kernel = {2};
    CHECK(shapes::windowOutput(S({4}), pool)[0].size == 3);  // torch: floor((4+2-2+1)/2)+1 = 3, last starts at 4 < 4+1
    pool.ceilMode = false;
    CHECK(shapes::windowOutput(S({4}), pool)[0].size == 3);

    shapes::Window dilated = w;
    dilated.padType = "valid";
    dilated.kernel = {3, 3};
    dilated.strides = {1, 1};
    dilated.dilations = {2, 2};
    CHECK(shapes::str(shapes::windowOutput(S({10, 10}), dilated)) == "[6,6]");
}

TEST_CASE("shapes: window errors") {
    shapes::Window w;
    w.kernel = {5};
    w.strides = {1};
    w.dilations = {1};
    CHECK_THROWS_AS(shapes::windowOutput(S({3}), w), shapes::ShapeError);  // kernel larger than input
    w.strides = {0};
    CHECK_THROWS_AS(shapes::windowOutput(S({8}), w), shapes::ShapeError);
    w.strides = {1};
    w.padType = "custom";
    w.pad = {1};
    CHECK_THROWS_AS(shapes::windowOutput(S({8}), w), shapes::ShapeError);
    w.padType = "reflect";
    CHECK_THROWS_AS(shapes::windowOutput(S({8}), w), shapes::ShapeError);
}

TEST_CASE("shapes: a symbolic spatial dimension gives a bounded symbol, or itself when the window is 1x1") {
    shapes::Window w;
    w.kernel = {3};
    w.strides = {2};
    w.dilations = {1};
    Shape in = S({"s0"});
    in[0].lower = 10;
    in[0].upper = 20;
    const Dim out = shapes::windowOutput(in, w)[0];
    CHECK(!out.isStatic());
    CHECK(out.lower == 4);
    CHECK(out.upper == 9);
    w.kernel = {1};
    w.strides = {1};
    CHECK(shapes::windowOutput(in, w)[0].symbol == "s0");
}

TEST_CASE("shapes: transposed window output sizes") {
    shapes::Window w;
    w.kernel = {4, 4};
    w.strides = {2, 2};
    w.dilations = {1, 1};
    w.padType = "custom";
    w.pad = {1, 1, 1, 1};
    CHECK(shapes::str(shapes::transposedWindowOutput(S({16, 8}), w)) == "[32,16]");
    w.padType = "valid";
    w.pad = {0, 0, 0, 0};
    CHECK(shapes::str(shapes::transposedWindowOutput(S({16, 8}), w)) == "[34,18]");
    w.padType = "same";
    CHECK(shapes::str(shapes::transposedWindowOutput(S({16, 8}), w)) == "[32,16]");
}

TEST_CASE("shapes: slicing follows numpy") {
    const Dim ten = Dim::fixed(10);
    CHECK(shapes::sliceDim(ten, 2, 8, 1, false, false).size == 6);
    CHECK(shapes::sliceDim(ten, 2, 8, 3, false, false).size == 2);
    CHECK(shapes::sliceDim(ten, -3, 0, 1, false, true).size == 3);     // x[-3:]
    CHECK(shapes::sliceDim(ten, 0, 0, -1, true, true).size == 10);     // x[::-1]
    CHECK(shapes::sliceDim(ten, 8, 2, -2, false, false).size == 3);    // x[8:2:-2] = 8, 6, 4
    CHECK(shapes::sliceDim(ten, 0, 100, 1, false, false).size == 10);  // clamped
    CHECK(shapes::sliceDim(ten, 5, 3, 1, false, false).size == 0);
    CHECK_THROWS_AS(shapes::sliceDim(ten, 0, 1, 0, false, false), shapes::ShapeError);
    // Unknown bounds (computed at run time).
    CHECK(!shapes::sliceDim(ten, std::nullopt, 5, 1, false, false).isStatic());
}

TEST_CASE("shapes: slicing a symbolic dimension") {
    const Dim s = Dim::symbolic("s0");
    CHECK(shapes::sliceDim(s, 0, 0, 1, true, true).symbol == "s0");  // x[:]
    CHECK(shapes::sliceDim(s, 3, 4, 1, false, false).size == 1);     // x[3:4]
    CHECK(shapes::sliceDim(s, -1, 0, 1, false, true).size == 1);     // x[-1:]
    CHECK(!shapes::sliceDim(s, 1, 0, 1, false, true).isStatic());    // x[1:]
}

TEST_CASE("shapes: reshape with 0 and -1") {
    CHECK(shapes::str(shapes::reshape(S({2, 3, 4}), {-1, 4})) == "[6,4]");
    CHECK(shapes::str(shapes::reshape(S({2, 3, 4}), {0, -1, 2})) == "[2,6,2]");
    CHECK(shapes::str(shapes::reshape(S({2, 3, 4}), {0, 0, 4})) == "[2,3,4]");
    CHECK_THROWS_AS(shapes::reshape(S({2, 3, 4}), {0, -1}), shapes::ShapeError);  // 0 needs the input's rank
    CHECK_THROWS_AS(shapes::reshape(S({2, 3, 4}), {5, -1}), shapes::ShapeError);  // 24 is not a multiple of 5
    CHECK_THROWS_AS(shapes::reshape(S({2, 3, 4}), {4, 7}), shapes::ShapeError);   // 24 vs 28 elements
    CHECK_THROWS_AS(shapes::reshape(S({2, 3, 4}), {-1, -1}), shapes::ShapeError);
    CHECK_THROWS_AS(shapes::reshape(S({2, 3, 4}), {-2, 12}), shapes::ShapeError);
}

TEST_CASE("shapes: reshape keeps symbols it can account for") {
    CHECK(shapes::str(shapes::reshape(S({"s0", 3, 4}), {0, -1, 2})) == "[s0,6,2]");
    CHECK(shapes::str(shapes::reshape(S({"s0", 3, 4}), {-1, 12})) == "[s0,12]");  // -1 is exactly s0
    const Shape unknown = shapes::reshape(S({"s0", 3, 4}), {-1, 6});
    CHECK(!unknown[0].isStatic());
    CHECK(unknown[0].symbol != "s0");
    CHECK(unknown[1].size == 6);
}

TEST_CASE("shapes: product of dimensions") {
    CHECK(shapes::product(S({2, 3, 4})).size == 24);
    CHECK(shapes::product(S({})).size == 1);
    CHECK(shapes::product(S({1, "s0", 1})).symbol == "s0");
    CHECK(!shapes::product(S({2, "s0"})).isStatic());
}
