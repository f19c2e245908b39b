// max_pool and avg_pool -> PoolingLayerParams (2-D; 1-D runs as 2-D with a unit height).
#include "backend/neuralnetwork/LayerReader.h"
#include "backend/neuralnetwork/LayerWriter.h"
#include "mil/Families.h"

namespace ts2coreml::nn {

namespace {

void pooling(LayerWriter& w, spec::PoolingLayerParams::PoolingType type) {
    const size_t rank = w.rank("x");
    if (rank != 3 && rank != 4)
        w.unsupported("only 1-D and 2-D pooling has a NeuralNetwork layer (x is rank " + std::to_string(rank) + ")");
    const size_t spatial = rank - 2;
    std::vector<int64_t> kernel = w.params().getInts("kernel_sizes");
    std::vector<int64_t> strides = w.intsOr("strides", std::vector<int64_t>(spatial, 1));
    const std::string padType = w.params().getString("pad_type");
    std::vector<int64_t> pad = padType == "custom" ? w.params().getInts("pad") : std::vector<int64_t>(2 * spatial, 0);
    if (rank == 3) {
        kernel.insert(kernel.begin(), 1);
        strides.insert(strides.begin(), 1);
        pad.insert(pad.begin(), {0, 0});
    }
    std::string x = w.in("x");
    if (rank == 3) {
        const std::string expanded = w.temp("as2d");
        w.layer({x}, {expanded}).mutable_expanddims()->add_axes(-2);
        x = expanded;
    }
    const std::string y = rank == 4 ? w.out() : w.temp("pool2d");
    auto* pool = w.layer({x}, {y}).mutable_pooling();
    pool->set_type(type);
    for (int64_t k : kernel) pool->add_kernelsize(static_cast<uint64_t>(k));
    for (int64_t s : strides) pool->add_stride(static_cast<uint64_t>(s));
    if (type == spec::PoolingLayerParams::AVERAGE)
        pool->set_avgpoolexcludepadding(w.params().getBool("exclude_padding_from_average"));
    if (w.params().getBool("ceil_mode")) {
        // Caffe-style "include last pixel" padding is symmetric and rounds the output size up.
        if (pad[0] != pad[1] || pad[2] != pad[3]) w.unsupported("ceil_mode with asymmetric padding");
        pool->mutable_includelastpixel()->add_paddingamounts(static_cast<uint64_t>(pad[0]));
        pool->mutable_includelastpixel()->add_paddingamounts(static_cast<uint64_t>(pad[2]));
    } else if (padType == "same" || padType == "same_lower") {
        pool->mutable_same()->set_asymmetrymode(padType == "same" ? spec::SamePadding::BOTTOM_RIGHT_HEAVY
                                                                  : spec::SamePadding::TOP_LEFT_HEAVY);
    } else {
        auto* amounts = pool->mutable_valid()->mutable_paddingamounts();
        for (size_t i = 0; i < 2; ++i) {
            auto* e = amounts->add_borderamounts();
            e->set_startedgesize(static_cast<uint64_t>(pad[2 * i]));
            e->set_endedgesize(static_cast<uint64_t>(pad[2 * i + 1]));
        }
    }
    if (rank == 3) w.layer({y}).mutable_squeeze()->add_axes(-2);
}

// PoolingLayerParams -> max_pool or avg_pool (global pooling: reduce_max or reduce_mean over H, W).
void readPooling(LayerReader& r) {
    const auto& p = r.layer().pooling();
    const bool max = p.type() == spec::PoolingLayerParams::MAX;
    if (p.type() == spec::PoolingLayerParams::L2) r.fail("L2 pooling is not supported");
    if (p.globalpooling()) {
        r.out(r.add(max ? "reduce_max" : "reduce_mean",
                    {{"x", r.in()}, {"axes", std::vector<int64_t>{-2, -1}}, {"keep_dims", true}}));
        return;
    }
    mil::OperandList ops{{"x", r.in()},
                         {"kernel_sizes", r.ints(p.kernelsize())},
                         {"strides", p.stride_size() ? r.ints(p.stride()) : std::vector<int64_t>{1, 1}}};
    if (p.has_same()) {
        ops.push_back(
            {"pad_type", p.same().asymmetrymode() == spec::SamePadding::TOP_LEFT_HEAVY ? "same_lower" : "same"});
    } else if (p.has_includelastpixel()) {
        const auto& a = p.includelastpixel().paddingamounts();
        const int64_t ph = a.size() > 0 ? static_cast<int64_t>(a.Get(0)) : 0;
        const int64_t pw = a.size() > 1 ? static_cast<int64_t>(a.Get(1)) : 0;
        ops.push_back({"pad_type", "custom"});
        ops.push_back({"pad", std::vector<int64_t>{ph, ph, pw, pw}});
        ops.push_back({"ceil_mode", true});
    } else {
        ops.push_back({"pad_type", "custom"});
        ops.push_back({"pad", r.padding(p.valid().paddingamounts())});
    }
    if (!max) ops.push_back({"exclude_padding_from_average", p.avgpoolexcludepadding()});
    r.out(r.add(max ? "max_pool" : "avg_pool", ops));
}

}  // namespace

void populatePoolingLayers(LayerTable& t) {
    t.add("max_pool", [](LayerWriter& w) { pooling(w, spec::PoolingLayerParams::MAX); });
    t.add("avg_pool", [](LayerWriter& w) { pooling(w, spec::PoolingLayerParams::AVERAGE); });
    t.reads(spec::NeuralNetworkLayer::kPooling, readPooling);
}

TS2COREML_FAMILY(LayerTable, Pooling, populatePoolingLayers)

}  // namespace ts2coreml::nn
