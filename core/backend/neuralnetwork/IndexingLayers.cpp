// slice_by_index / slice_by_size -> SliceStatic or SliceDynamic (+ Squeeze); gather family ->
// Gather, GatherAlongAxis, GatherND; scatter family -> Scatter, ScatterAlongAxis, ScatterND;
// range_1d -> RangeDynamic.
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

std::vector<bool> mask(LayerWriter& w, const std::string& name, size_t rank) {
    std::vector<bool> m(rank, false);
    if (w.isConst(name)) {
        const auto v = w.constant(name).toInts();
        for (size_t i = 0; i < rank && i < v.size(); ++i) m[i] = v[i] != 0;
    }
    return m;
}

template <typename Params>
void fillSlice(Params& p, const std::vector<int64_t>* begin, const std::vector<bool>& beginMask,
               const std::vector<int64_t>& end, const std::vector<bool>& endMask, const std::vector<int64_t>& stride) {
    for (size_t i = 0; i < endMask.size(); ++i) {
        if constexpr (std::is_same_v<Params, spec::SliceStaticLayerParams>) p.add_beginids((*begin)[i]);
        p.add_beginmasks(beginMask[i]);
        p.add_endids(end[i]);
        p.add_endmasks(endMask[i]);
        p.add_strides(stride[i]);
    }
}

// x[begin:end:stride]; a squeezed axis is sliced to [begin, begin + 1) and then squeezed.
void sliceByIndex(LayerWriter& w) {
    const size_t rank = w.rank("x");
    const std::vector<int64_t> stride =
        w.isConst("stride") ? w.constant("stride").toInts() : std::vector<int64_t>(rank, 1);
    const std::vector<bool> beginMask = mask(w, "begin_mask", rank);
    std::vector<bool> endMask = mask(w, "end_mask", rank);
    const std::vector<bool> squeeze = mask(w, "squeeze_mask", rank);
    bool anySqueeze = false;
    for (bool s : squeeze) anySqueeze = anySqueeze || s;
    const bool staticEnd = w.isConst("end");
    if (!staticEnd && anySqueeze) w.unsupported("slice_by_index squeezing an axis with a computed end");
    std::vector<int64_t> end = staticEnd ? w.constant("end").toInts() : std::vector<int64_t>(rank, 0);
    const bool staticBegin = w.isConst("begin");
    const std::vector<int64_t> begin = staticBegin ? w.constant("begin").toInts() : std::vector<int64_t>(rank, 0);
    for (size_t i = 0; i < rank; ++i) {
        if (!squeeze[i]) continue;
        if (!staticBegin) w.unsupported("slice_by_index squeezing an axis at a computed index");
        end[i] = begin[i] + 1;
        endMask[i] = begin[i] == -1;
    }
    const std::string y = anySqueeze ? w.temp("sliced") : w.out();
    if (staticBegin && staticEnd) {
        fillSlice(*w.layer({w.in("x")}, {y}).mutable_slicestatic(), &begin, beginMask, end, endMask, stride);
    } else {
        // SliceDynamic: the begin indices are its 2nd input, computed end indices its 3rd.
        std::vector<std::string> inputs{w.in("x"), w.in("begin")};
        if (!staticEnd) inputs.push_back(w.in("end"));
        fillSlice(*w.layer(inputs, {y}).mutable_slicedynamic(), nullptr, beginMask, end, endMask, stride);
    }
    if (anySqueeze) {
        auto* s = w.layer({y}).mutable_squeeze();
        for (size_t i = 0; i < rank; ++i)
            if (squeeze[i]) s->add_axes(static_cast<int64_t>(i));
    }
}

// x[begin : begin + size] per axis; size -1 runs to the end.
void sliceBySize(LayerWriter& w) {
    if (!w.isConst("begin") || !w.isConst("size")) w.unsupported("slice_by_size with a computed begin or size");
    const std::vector<int64_t> begin = w.constant("begin").toInts(), size = w.constant("size").toInts();
    const size_t rank = begin.size();
    std::vector<int64_t> end(rank);
    std::vector<bool> endMask(rank, false);
    for (size_t i = 0; i < rank; ++i) {
        endMask[i] = size[i] < 0;
        end[i] = size[i] < 0 ? 0 : begin[i] + size[i];
    }
    fillSlice(*w.layer({w.in("x")}).mutable_slicestatic(), &begin, std::vector<bool>(rank, false), end, endMask,
              std::vector<int64_t>(rank, 1));
}

void gather(LayerWriter& w) {
    if (w.params().getInt("batch_dims") != 0) w.unsupported("gather with batch_dims");
    const int64_t axis = w.params().getInt("axis");
    const size_t rank = w.rank("x");
    // A scalar index's blob is [1], so Gather keeps the axis (as size 1); MIL drops it. From a
    // vector both give one element, which as a blob is [1].
    if (w.rank("indices") > 0 || rank < 2) {
        w.layer({w.in("x"), w.in("indices")}).mutable_gather()->set_axis(axis);
        return;
    }
    const std::string kept = w.temp("kept");
    w.layer({w.in("x"), w.in("indices")}, {kept}).mutable_gather()->set_axis(axis);
    w.layer({kept}).mutable_squeeze()->add_axes(positiveAxis(axis, rank));
}

// MIL's scatter modes and the layers' ScatterMode, in the same order.
const std::vector<std::pair<std::string, spec::ScatterMode>> kScatterModes{
    {"update", spec::SCATTER_UPDATE}, {"add", spec::SCATTER_ADD}, {"sub", spec::SCATTER_SUB},
    {"mul", spec::SCATTER_MUL},       {"div", spec::SCATTER_DIV}, {"max", spec::SCATTER_MAX},
    {"min", spec::SCATTER_MIN}};

spec::ScatterMode scatterMode(LayerWriter& w) {
    const std::string mode = w.params().getString("mode");
    for (const auto& [name, value] : kScatterModes)
        if (name == mode) return value;
    w.unsupported("scatter mode '" + mode + "'");
}

std::string scatterModeName(LayerReader& r, spec::ScatterMode mode) {
    for (const auto& [name, value] : kScatterModes)
        if (value == mode) return name;
    r.fail("unknown scatter mode " + std::to_string(static_cast<int>(mode)));
}

/// The layers' inputs, in their order: the container, the indices and the updates.
std::vector<std::string> scatterInputs(LayerWriter& w) { return {w.in("data"), w.in("indices"), w.in("updates")}; }

mil::OperandList scatterOperands(LayerReader& r, spec::ScatterMode mode) {
    return {{"data", r.in(0)}, {"indices", r.asInt(r.in(1))}, {"updates", r.in(2)}, {"mode", scatterModeName(r, mode)}};
}

// range_1d(end, start, step) -> RangeDynamic with the three as its inputs, in that order.
void range1d(LayerWriter& w) { w.layer({w.in("end"), w.in("start"), w.in("step")}).mutable_rangedynamic(); }

// RangeDynamic: each input holds one value: the end, then (optionally) the start and the step.
void readRange(LayerReader& r) {
    const auto& p = r.layer().rangedynamic();
    mil::Value* end = r.single(r.in(0));
    mil::Value* start = r.inputs() > 1 ? r.single(r.in(1)) : r.builder().scalar(p.startvalue());
    mil::Value* step = r.inputs() > 2 ? r.single(r.in(2)) : r.builder().scalar(p.stepsizevalue());
    r.out(r.add("range_1d", {{"end", end}, {"start", start}, {"step", step}}));
}

void readSlice(LayerReader& r, mil::Value* x, mil::Value* begin, mil::Value* end, const std::vector<bool>& beginMask,
               const std::vector<bool>& endMask, const std::vector<int64_t>& strides,
               const std::vector<bool>& squeeze) {
    mil::OperandList ops{
        {"x", x}, {"begin", begin}, {"end", end}, {"begin_mask", r.bools(beginMask)}, {"end_mask", r.bools(endMask)}};
    if (!strides.empty()) ops.push_back({"stride", strides});
    bool anySqueeze = false;
    for (bool s : squeeze) anySqueeze = anySqueeze || s;
    if (anySqueeze) ops.push_back({"squeeze_mask", r.bools(squeeze)});
    r.out(r.add("slice_by_index", ops));
}

void readSliceStatic(LayerReader& r) {
    const auto& p = r.layer().slicestatic();
    const size_t n = static_cast<size_t>(p.beginids_size());
    mil::Builder& b = r.builder();
    readSlice(r, r.in(), b.constant(mil::Literal(r.ints(p.beginids()))), b.constant(mil::Literal(r.ints(p.endids()))),
              r.boolsOf(p.beginmasks(), n), r.boolsOf(p.endmasks(), n), r.ints(p.strides()),
              r.boolsOf(p.squeezemasks(), n));
}

// SliceDynamic: begin (and end) from blobs.
void readSliceDynamic(LayerReader& r) {
    const auto& p = r.layer().slicedynamic();
    if (r.inputs() > 3) r.fail("slicing with computed strides or masks is not supported");
    const size_t n = static_cast<size_t>(p.beginmasks_size());
    mil::Value* end = r.inputs() > 2 ? r.asInt(r.in(2)) : r.builder().constant(mil::Literal(r.ints(p.endids())));
    readSlice(r, r.in(0), r.asInt(r.in(1)), end, r.boolsOf(p.beginmasks(), n), r.boolsOf(p.endmasks(), n),
              r.ints(p.strides()), r.boolsOf(p.squeezemasks(), n));
}

}  // namespace

void populateIndexingLayers(LayerTable& t) {
    t.add("range_1d", range1d);
    t.add("slice_by_index", sliceByIndex);
    t.add("slice_by_size", sliceBySize);
    t.add("gather", gather);
    t.add("gather_along_axis", [](LayerWriter& w) {
        w.layer({w.in("x"), w.in("indices")}).mutable_gatheralongaxis()->set_axis(w.params().getInt("axis"));
    });
    t.add("gather_nd", [](LayerWriter& w) {
        if (w.params().getInt("batch_dims") != 0) w.unsupported("gather_nd with batch_dims");
        w.layer({w.in("x"), w.in("indices")}).mutable_gathernd();
    });
    t.add("scatter", [](LayerWriter& w) {
        auto* p = w.layer(scatterInputs(w)).mutable_scatter();
        p->set_axis(w.params().getInt("axis"));
        p->set_mode(scatterMode(w));
    });
    t.add("scatter_along_axis", [](LayerWriter& w) {
        auto* p = w.layer(scatterInputs(w)).mutable_scatteralongaxis();
        p->set_axis(w.params().getInt("axis"));
        p->set_mode(scatterMode(w));
    });
    t.add("scatter_nd",
          [](LayerWriter& w) { w.layer(scatterInputs(w)).mutable_scatternd()->set_mode(scatterMode(w)); });
    using L = spec::NeuralNetworkLayer;
    t.reads(L::kRangeDynamic, readRange);
    t.reads(L::kSliceStatic, readSliceStatic);
    t.reads(L::kSliceDynamic, readSliceDynamic);
    t.reads(L::kGather, [](LayerReader& r) {
        r.out(r.add("gather", {{"x", r.in(0)}, {"indices", r.asInt(r.in(1))}, {"axis", r.layer().gather().axis()}}));
    });
    t.reads(L::kGatherAlongAxis, [](LayerReader& r) {
        r.out(r.add("gather_along_axis",
                    {{"x", r.in(0)}, {"indices", r.asInt(r.in(1))}, {"axis", r.layer().gatheralongaxis().axis()}}));
    });
    t.reads(L::kGatherND, [](LayerReader& r) {
        r.out(r.add("gather_nd", {{"x", r.in(0)}, {"indices", r.asInt(r.in(1))}}));
    });
    t.reads(L::kScatter, [](LayerReader& r) {
        mil::OperandList ops = scatterOperands(r, r.layer().scatter().mode());
        ops.push_back({"axis", r.layer().scatter().axis()});
        r.out(r.add("scatter", ops));
    });
    t.reads(L::kScatterAlongAxis, [](LayerReader& r) {
        mil::OperandList ops = scatterOperands(r, r.layer().scatteralongaxis().mode());
        ops.push_back({"axis", r.layer().scatteralongaxis().axis()});
        r.out(r.add("scatter_along_axis", ops));
    });
    t.reads(L::kScatterND,
            [](LayerReader& r) { r.out(r.add("scatter_nd", scatterOperands(r, r.layer().scatternd().mode()))); });
}

TS2COREML_FAMILY(LayerTable, Indexing, populateIndexingLayers)

}  // namespace ts2coreml::nn
