// Shape ops -> ReshapeStatic/Dynamic, Transpose, Squeeze, ExpandDims, FlattenTo2D, ConcatND,
// SplitND, Stack, Tile, ConstantPad / Padding, GetShape, Reverse, ReorganizeData.
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

void reshape(LayerWriter& w) {
    const TensorType& out = w.outType();
    if (out.isStatic() || w.isConst("shape")) {
        // The inferred output sizes: the same as the shape input, with any -1 / 0 resolved.
        auto* r = w.layer({w.in("x")}).mutable_reshapestatic();
        for (int64_t s : out.isStatic() ? out.sizes() : w.constant("shape").toInts()) r->add_targetshape(s);
        // A scalar is a one-element rank-1 blob (blobs have rank 1 to 5); Core ML requires a target.
        if (r->targetshape_size() == 0) r->add_targetshape(1);
        return;
    }
    w.layer({w.in("x"), w.in("shape")}).mutable_reshapedynamic();
}

void pad(LayerWriter& w) {
    const size_t rank = w.rank("x");
    const std::vector<int64_t> given = w.constant("pad").toInts();  // [before, after] of the last axes
    std::vector<int64_t> amounts(2 * rank - given.size(), 0);
    amounts.insert(amounts.end(), given.begin(), given.end());
    const std::string mode = w.params().getString("mode");
    if (mode == "constant") {
        auto* p = w.layer({w.in("x")}).mutable_constantpad();
        p->set_value(static_cast<float>(w.params().getDouble("constant_val")));
        for (int64_t a : amounts) p->add_padamounts(static_cast<uint64_t>(a));
        return;
    }
    // reflect / replicate: the Padding layer pads the last two axes only.
    if (rank < 3) w.unsupported("pad mode '" + mode + "' needs an input of rank 3 or more");
    for (size_t i = 0; i + 4 < amounts.size(); ++i)
        if (amounts[i] != 0) w.unsupported("pad mode '" + mode + "' on an axis other than the last two");
    auto* p = w.layer({w.in("x")}).mutable_padding();
    if (mode == "reflect")
        p->mutable_reflection();
    else if (mode == "replicate")
        p->mutable_replication();
    else
        w.unsupported("pad mode '" + mode + "'");
    for (size_t i = amounts.size() - 4; i < amounts.size(); i += 2) {
        auto* e = p->mutable_paddingamounts()->add_borderamounts();
        e->set_startedgesize(static_cast<uint64_t>(amounts[i]));
        e->set_endedgesize(static_cast<uint64_t>(amounts[i + 1]));
    }
}

void split(LayerWriter& w) {
    auto* s = w.layer({w.in("x")}).mutable_splitnd();
    s->set_axis(w.params().getInt("axis"));
    if (w.params().has("split_sizes"))
        for (int64_t n : w.params().getInts("split_sizes")) s->add_splitsizes(static_cast<uint64_t>(n));
    else
        s->set_numsplits(static_cast<uint64_t>(w.params().getInt("num_splits")));
}

void reorganize(LayerWriter& w, spec::ReorganizeDataLayerParams::ReorganizationType mode, const std::string& factor) {
    if (mode == spec::ReorganizeDataLayerParams::PIXEL_SHUFFLE)
        w.require(Target::iOS14, "pixel_shuffle (ReorganizeData PIXEL_SHUFFLE)");
    auto* r = w.layer({w.in("x")}).mutable_reorganizedata();
    r->set_mode(mode);
    r->set_blocksize(static_cast<uint64_t>(w.params().getInt(factor)));
}

// SplitND -> split by sizes or into numSplits equal parts; one output blob per part.
void readSplit(LayerReader& r) {
    const auto& p = r.layer().splitnd();
    mil::OperandList ops{{"x", r.in()}, {"axis", p.axis()}};
    if (p.splitsizes_size() > 0)
        ops.push_back({"split_sizes", r.ints(p.splitsizes())});
    else
        ops.push_back({"num_splits", static_cast<int64_t>(p.numsplits())});
    const auto outs = r.builder().addOp("split", ops);
    for (size_t i = 0; i < outs.size(); ++i) r.out(outs[i], i);
}

// ConstantPad -> pad of the trailing dims by padAmounts ([begin, end] per dim).
void readConstantPad(LayerReader& r) {
    const auto& p = r.layer().constantpad();
    if (p.padtogivenoutputsizemode()) r.fail("padding to a given output size is not supported");
    r.out(r.add(
        "pad",
        {{"x", r.in()}, {"pad", r.ints(p.padamounts())}, {"mode", "constant"}, {"constant_val", double{p.value()}}}));
}

// Padding (2-D) -> pad of H and W: reflection, replication or a constant.
void readPadding(LayerReader& r) {
    const auto& p = r.layer().padding();
    const char* mode = p.has_reflection() ? "reflect" : p.has_replication() ? "replicate" : "constant";
    mil::OperandList ops{{"x", r.in()}, {"pad", r.padding(p.paddingamounts())}, {"mode", mode}};
    if (p.has_constant()) ops.push_back({"constant_val", double{p.constant().value()}});
    r.out(r.add("pad", ops));
}

void readReorganizeData(LayerReader& r) {
    const auto& p = r.layer().reorganizedata();
    const auto block = static_cast<int64_t>(p.blocksize());
    if (p.mode() == spec::ReorganizeDataLayerParams::PIXEL_SHUFFLE)
        return r.out(r.add("pixel_shuffle", {{"x", r.in()}, {"upscale_factor", block}}));
    r.out(r.add(p.mode() == spec::ReorganizeDataLayerParams::DEPTH_TO_SPACE ? "depth_to_space" : "space_to_depth",
                {{"x", r.in()}, {"block_size", block}}));
}

}  // namespace

void populateTensorShapeLayers(LayerTable& t) {
    t.add("reshape", reshape);
    t.add("transpose", [](LayerWriter& w) {
        auto* p = w.layer({w.in("x")}).mutable_transpose();
        for (int64_t a : w.params().getInts("perm")) p->add_axes(static_cast<uint64_t>(positiveAxis(a, w.rank("x"))));
    });
    t.add("squeeze", [](LayerWriter& w) {
        auto* s = w.layer({w.in("x")}).mutable_squeeze();
        if (w.params().has("axes"))
            for (int64_t a : w.params().getInts("axes")) s->add_axes(a);
        else
            s->set_squeezeall(true);
    });
    t.add("expand_dims", [](LayerWriter& w) {
        const std::vector<int64_t> axes = w.params().getInts("axes");
        if (w.rank("x") > 0) {
            auto* e = w.layer({w.in("x")}).mutable_expanddims();
            for (int64_t a : axes) e->add_axes(a);
            return;
        }
        // A scalar's blob is already [1]: one axis fewer to add (every size is 1, so which ones
        // does not matter).
        if (axes.size() == 1) return void(w.layer({w.in("x")}).mutable_copy());
        auto* e = w.layer({w.in("x")}).mutable_expanddims();
        for (size_t i = 0; i + 1 < axes.size(); ++i) e->add_axes(static_cast<int64_t>(i));
    });
    t.add("flatten2d",
          [](LayerWriter& w) { w.layer({w.in("x")}).mutable_flattento2d()->set_axis(w.params().getInt("axis")); });
    // Core ML's concat and stack layers take at least two inputs: one value is copied (concat) or
    // given its new axis (stack).
    t.add("concat", [](LayerWriter& w) {
        if (w.ins("values").size() == 1) return void(w.layer(w.ins("values")).mutable_copy());
        auto* c = w.layer(w.ins("values")).mutable_concatnd();
        c->set_axis(w.params().getInt("axis"));
        if (w.params().getBool("interleave")) {
            w.require(Target::iOS14, "concat with interleave");
            c->set_interleave(true);
        }
    });
    t.add("split", split);
    t.add("stack", [](LayerWriter& w) {
        // Scalars' blobs are [1]: stacking them is concatenating them.
        const auto* values = w.op().inputList("values");
        const bool scalars = values && !values->empty() && values->front()->type().rank() == 0;
        if (w.ins("values").size() == 1) {
            if (scalars) return void(w.layer(w.ins("values")).mutable_copy());
            return void(w.layer(w.ins("values")).mutable_expanddims()->add_axes(w.params().getInt("axis")));
        }
        if (scalars) return void(w.layer(w.ins("values")).mutable_concatnd()->set_axis(0));
        w.layer(w.ins("values")).mutable_stack()->set_axis(w.params().getInt("axis"));
    });
    t.add("tile", [](LayerWriter& w) {
        if (!w.isConst("reps")) {
            w.require(Target::iOS14, "tile with computed reps");
            w.layer({w.in("x"), w.in("reps")}).mutable_tile();
            return;
        }
        auto* p = w.layer({w.in("x")}).mutable_tile();
        for (int64_t r : w.constant("reps").toInts()) p->add_reps(static_cast<uint64_t>(r));
    });
    t.add("pad", pad);
    t.add("shape", [](LayerWriter& w) { w.layer({w.in("x")}).mutable_getshape(); });
    t.add("reverse", [](LayerWriter& w) {
        const size_t rank = w.rank("x");
        std::vector<bool> flip(rank, !w.params().has("axes"));
        if (w.params().has("axes"))
            for (int64_t a : w.params().getInts("axes")) flip[static_cast<size_t>(positiveAxis(a, rank))] = true;
        auto* r = w.layer({w.in("x")}).mutable_reverse();
        for (bool f : flip) r->add_reversedim(f);
    });
    t.add("depth_to_space",
          [](LayerWriter& w) { reorganize(w, spec::ReorganizeDataLayerParams::DEPTH_TO_SPACE, "block_size"); });
    t.add("space_to_depth",
          [](LayerWriter& w) { reorganize(w, spec::ReorganizeDataLayerParams::SPACE_TO_DEPTH, "block_size"); });
    t.add("pixel_shuffle",
          [](LayerWriter& w) { reorganize(w, spec::ReorganizeDataLayerParams::PIXEL_SHUFFLE, "upscale_factor"); });
    using L = spec::NeuralNetworkLayer;
    t.reads(L::kReshapeStatic, [](LayerReader& r) {
        r.out(r.add("reshape", {{"x", r.in()}, {"shape", r.ints(r.layer().reshapestatic().targetshape())}}));
    });
    t.reads(L::kReshapeDynamic, [](LayerReader& r) {
        r.out(r.add("reshape", {{"x", r.in(0)}, {"shape", r.asInt(r.in(1))}}));
    });
    t.reads(L::kTranspose, [](LayerReader& r) {
        r.out(r.add("transpose", {{"x", r.in()}, {"perm", r.ints(r.layer().transpose().axes())}}));
    });
    t.reads(L::kSqueeze, [](LayerReader& r) {
        const auto& s = r.layer().squeeze();
        if (s.squeezeall()) return r.out(r.add("squeeze", {{"x", r.in()}}));
        r.out(r.add("squeeze", {{"x", r.in()}, {"axes", r.ints(s.axes())}}));
    });
    t.reads(L::kExpandDims, [](LayerReader& r) {
        r.out(r.add("expand_dims", {{"x", r.in()}, {"axes", r.ints(r.layer().expanddims().axes())}}));
    });
    t.reads(L::kFlattenTo2D, [](LayerReader& r) {
        r.out(r.add("flatten2d", {{"x", r.in()}, {"axis", r.layer().flattento2d().axis()}}));
    });
    t.reads(L::kConcatND, [](LayerReader& r) {
        const auto& c = r.layer().concatnd();
        r.out(r.add("concat", {{"values", r.allInputs()}, {"axis", c.axis()}, {"interleave", c.interleave()}}));
    });
    t.reads(L::kStack, [](LayerReader& r) {
        r.out(r.add("stack", {{"values", r.allInputs()}, {"axis", r.layer().stack().axis()}}));
    });
    t.reads(L::kSplitND, readSplit);
    t.reads(L::kTile, [](LayerReader& r) {
        if (r.inputs() > 1) return r.out(r.add("tile", {{"x", r.in(0)}, {"reps", r.asInt(r.in(1))}}));
        r.out(r.add("tile", {{"x", r.in()}, {"reps", r.ints(r.layer().tile().reps())}}));
    });
    t.reads(L::kConstantPad, readConstantPad);
    t.reads(L::kPadding, readPadding);
    t.reads(L::kGetShape, [](LayerReader& r) { r.out(r.add("shape", {{"x", r.in()}})); });
    t.reads(L::kReverse, [](LayerReader& r) {
        std::vector<int64_t> axes;
        const auto& p = r.layer().reverse();
        for (int i = 0; i < p.reversedim_size(); ++i)
            if (p.reversedim(i)) axes.push_back(i);
        r.out(r.add("reverse", {{"x", r.in()}, {"axes", axes}}));
    });
    t.reads(L::kReorganizeData, readReorganizeData);
}

TS2COREML_FAMILY(LayerTable, TensorShape, populateTensorShapeLayers)

}  // namespace ts2coreml::nn
