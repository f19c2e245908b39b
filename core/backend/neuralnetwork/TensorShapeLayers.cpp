// Shape ops -> ReshapeStatic/Dynamic, Transpose, Squeeze, ExpandDims, FlattenTo2D, ConcatND,
// SplitND, Stack, Tile, ConstantPad / Padding, GetShape, Reverse, ReorganizeData.
#include "backend/neuralnetwork/LayerWriter.h"

namespace ts2coreml::nn {

namespace {

void reshape(LayerWriter& w) {
    const TensorType& out = w.outType();
    if (out.isStatic() || w.isConst("shape")) {
        // The inferred output sizes: the same as the shape input, with any -1 / 0 resolved.
        auto* r = w.layer({w.in("x")}).mutable_reshapestatic();
        for (int64_t s : out.isStatic() ? out.sizes() : w.constant("shape").toInts()) r->add_targetshape(s);
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
    t.add("concat", [](LayerWriter& w) {
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
        if (values && !values->empty() && values->front()->type().rank() == 0)
            return void(w.layer(w.ins("values")).mutable_concatnd()->set_axis(0));
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
}

}  // namespace ts2coreml::nn
