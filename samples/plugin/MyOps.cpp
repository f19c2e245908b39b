// A ts2coreml plugin: lowerings for two ops ts2coreml does not know.
//
//   aten::celu(Tensor self, Scalar alpha=1.0) -> Tensor         a torch op without a built-in lowering
//   mylib::scaled_tanh(Tensor x, float alpha=1.) -> Tensor      a custom op of the user's own library
//
// Build: see README.md. Use: ts2coreml convert MODEL.pt -o OUT.mlpackage --plugin-path DIR_OF_THE_SO
#include <ts2coreml/Plugin.h>

namespace {

using namespace ts2coreml;

// celu(x, a) = max(0, x) + min(0, a * (exp(x / a) - 1)) = a * elu(x / a)
void lowerCelu(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* x = ctx.tensor("self");               // arguments by their name in torch's schema
    const double alpha = ctx.getDouble("alpha");      // a compile-time constant
    if (alpha == 0) ctx.fail("alpha must not be 0");  // reported at the model's source line
    mil::Value* scaled = b.add("real_div", {{"x", x}, {"y", alpha}});
    mil::Value* elu = b.add("elu", {{"x", scaled}, {"alpha", 1.0}});
    ctx.bind(0, b.add("mul", {{"x", elu}, {"y", alpha}}));
}

// scaled_tanh(x, alpha) = alpha * tanh(x)
void lowerScaledTanh(LoweringContext& ctx) {
    mil::Builder& b = ctx.builder();
    mil::Value* t = b.add("tanh", {{"x", ctx.tensor("x")}});
    ctx.bind(0, b.add("mul", {{"x", t}, {"y", ctx.getDouble("alpha")}}));
}

void registerMyOps(Registry& registry) {
    // The schema, exactly as the library defining the op declares it: with it, ts2coreml loads
    // models calling mylib::scaled_tanh without that library.
    registry.declareTorchOp("mylib::scaled_tanh(Tensor x, float alpha=1.) -> Tensor");
    registry.add("mylib::scaled_tanh", lowerScaledTanh);
    registry.add("aten::celu", lowerCelu);
}

}  // namespace

TS2COREML_PLUGIN("my_ops", "1.0", registerMyOps)
