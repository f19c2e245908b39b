// A ts2coreml plugin: lowerings for two ops ts2coreml does not know.
//
//   aten::special_ndtr(Tensor self) -> Tensor                   a torch op without a built-in lowering
//   mylib::scaled_tanh(Tensor x, float alpha=1.) -> Tensor      a custom op of the user's own library
//
// Build: see README.md. Use: ts2coreml convert MODEL.pt -o OUT.mlpackage --plugin-path DIR_OF_THE_SO
#include <ts2coreml/Plugin.h>

namespace {

using namespace ts2coreml;

// ndtr(x) = (1 + erf(x / sqrt(2))) / 2, the standard normal CDF
void lowerNdtr(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");  // arguments by their name in torch's schema
    if (x->type().dtype != DType::Float32 && x->type().dtype != DType::Float16)
        ctx.fail("ndtr needs a floating tensor, got " + x->type().str());  // reported at the model's line
    mil::Value* e = b.add("erf", {{"x", b.add("mul", {{"x", x}, {"y", 0.7071067811865476}})}});
    ctx.bind(0, b.add("mul", {{"x", b.add("add", {{"x", e}, {"y", 1.0}})}, {"y", 0.5}}));
}

// scaled_tanh(x, alpha) = alpha * tanh(x)
void lowerScaledTanh(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    const double alpha = ctx.getDouble("alpha");  // a compile-time constant
    mil::Value* t = b.add("tanh", {{"x", ctx.tensor("x")}});
    ctx.bind(0, b.add("mul", {{"x", t}, {"y", alpha}}));
}

void registerMyOps(Registry& registry) {
    // The schema, exactly as the library defining the op declares it: with it, ts2coreml loads
    // models calling mylib::scaled_tanh without that library.
    registry.declareTorchOp("mylib::scaled_tanh(Tensor x, float alpha=1.) -> Tensor");
    registry.add("mylib::scaled_tanh", lowerScaledTanh);
    registry.add("aten::special_ndtr", lowerNdtr);
}

}  // namespace

TS2COREML_PLUGIN("my_ops", "1.0", registerMyOps)
