// Fused transformer lowerings (core/lowerings/FusedAttention.cpp): torch's
// _native_multi_head_attention and _transformer_encoder_layer_fwd called directly from TorchScript,
// embed_dim 8, 2 heads, with weights torch folds to constants (sines of aranges).
#include "lowerings/BothFormats.h"
#include "lowerings/LoweringTestSupport.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

// The attention weights of embed_dim 8: qkv [24, 8] and [24], output projection [8, 8] and [8].
const std::string kAttentionWeights = R"(
    qkv_w = torch.sin(torch.arange(192.0).reshape(24, 8)) * 0.4
    qkv_b = torch.cos(torch.arange(24.0)) * 0.1
    proj_w = torch.cos(torch.arange(64.0).reshape(8, 8) * 1.3) * 0.4
    proj_b = torch.sin(torch.arange(8.0) * 0.7) * 0.1)";

// One encoder layer on x [B, T, 8]; `mask` and `maskType` are TorchScript expressions.
std::string encoderLayer(bool useGelu, bool normFirst, const std::string& mask = "None",
                         const std::string& maskType = "None") {
    const std::string flag[] = {"False", "True"};
    return "def forward(self, x):" + kAttentionWeights + R"(
    n1_w = 1.0 + torch.sin(torch.arange(8.0)) * 0.2
    n1_b = torch.cos(torch.arange(8.0)) * 0.1
    n2_w = 1.0 + torch.cos(torch.arange(8.0) * 0.5) * 0.2
    n2_b = torch.sin(torch.arange(8.0) * 0.3) * 0.1
    f1_w = torch.sin(torch.arange(128.0).reshape(16, 8) * 0.9) * 0.4
    f1_b = torch.cos(torch.arange(16.0)) * 0.1
    f2_w = torch.cos(torch.arange(128.0).reshape(8, 16) * 1.1) * 0.3
    f2_b = torch.sin(torch.arange(8.0) * 2.0) * 0.1
    return torch._transformer_encoder_layer_fwd(x, 8, 2, qkv_w, qkv_b, proj_w, proj_b, )" +
           flag[useGelu] + ", " + flag[normFirst] + ", 1e-5, n1_w, n1_b, n2_w, n2_b, f1_w, f1_b, f2_w, f2_b, " + mask +
           ", " + maskType + ")";
}

// _native_multi_head_attention(q, k, v, ...) returning both outputs.
std::string attention(const std::string& qkv, bool average, const std::string& mask = "None",
                      const std::string& maskType = "None") {
    return "def forward(self, x, y):" + kAttentionWeights + "\n    return torch._native_multi_head_attention(" + qkv +
           ", 8, 2, qkv_w, qkv_b, proj_w, proj_b, " + mask + ", True, " + (average ? "True" : "False") + ", " +
           maskType + ")";
}

// Batch 1 masks its last two keys.
const std::string kPaddingMask = "torch.arange(5).unsqueeze(0) >= torch.tensor([[5], [3]])";

const std::vector<LoweringCase> kCases = {
    {"encoder layer, post-norm, relu",
     encoderLayer(false, false),
     {{2, 5, 8}},
     {{"linear", 4}, {"split", 1}, {"softmax", 1}, {"layer_norm", 2}, {"relu", 1}, {"select", 0}},
     {{2, 5, 8}}},
    {"encoder layer, pre-norm, gelu",
     encoderLayer(true, true),
     {{2, 5, 8}},
     {{"linear", 4}, {"layer_norm", 2}, {"gelu", 1}},
     {{2, 5, 8}}},
    {"encoder layer, post-norm, gelu, key padding mask",
     encoderLayer(true, false, kPaddingMask, "1"),
     {{2, 5, 8}},
     {{"linear", 4}, {"select", 1}, {"gelu", 1}},
     {{2, 5, 8}}},
    {"encoder layer, pre-norm, relu, a float key padding mask computed from the input",
     encoderLayer(false, true, "(x[:, :, 0] > 1.0).float()", "1"),
     {{2, 5, 8}},
     {{"not_equal", 1}, {"select", 1}, {"relu", 1}},
     {{2, 5, 8}}},
    {"encoder layer of a dynamic batch and sequence",
     encoderLayer(false, false),
     {dynamicInput({2, 5, 8}, {0, 1})},
     {{"linear", 4}, {"layer_norm", 2}},
     {{kSymbolic, kSymbolic, 8}}},
    {"self-attention with averaged weights",
     attention("x, x, x", true),
     {{2, 5, 8}, {1}},
     {{"linear", 2}, {"split", 1}, {"reduce_mean", 1}},
     {{2, 5, 8}, {2, 5, 5}}},
    {"self-attention with weights per head and a key padding mask",
     attention("x, x, x", false, kPaddingMask, "1"),
     {{2, 5, 8}, {1}},
     {{"select", 1}, {"reduce_mean", 0}},
     {{2, 5, 8}, {2, 2, 5, 5}}},
    {"attention of distinct query, key and value",
     attention("x, y, y * 0.5", true),
     {{2, 5, 8}, {2, 5, 8}},
     {{"linear", 4}, {"split", 0}},
     {{2, 5, 8}, {2, 5, 5}}},
    {"attention with a [B, H, L, S] mask of mask_type 2",
     attention("x, x, x", false, "y > 1.5", "2"),
     {{2, 5, 8}, {2, 2, 5, 5}},
     {{"select", 1}},
     {{2, 5, 8}, {2, 2, 5, 5}}},
    {"attention without weights",
     R"(def forward(self, x):)" + kAttentionWeights + R"(
    return torch._native_multi_head_attention(x, x, x, 8, 2, qkv_w, qkv_b, proj_w, proj_b, None, False)[0])",
     {{2, 5, 8}},
     {{"softmax", 1}, {"reduce_mean", 0}},
     {{2, 5, 8}}},
};

const std::vector<RefusedCase> kRefused = {
    {"an attention mask of mask_type 0",
     attention("x, x, x", true, "torch.zeros(5, 5)", "0"),
     {{2, 5, 8}, {1}},
     {"_native_multi_head_attention", "mask_type 0"}},
    {"a heads count that does not divide embed_dim",
     R"(def forward(self, x):)" + kAttentionWeights + R"(
    return torch._native_multi_head_attention(x, x, x, 8, 3, qkv_w, qkv_b, proj_w, proj_b)[0])",
     {{2, 5, 8}},
     {"_native_multi_head_attention", "not a multiple"}},
};

}  // namespace

TEST_CASE("FusedAttention lowerings emit the expected MIL ops") { checkAll(kCases); }

TEST_CASE("FusedAttention lowerings refuse what they cannot express") { checkAll(kRefused); }

TEST_CASE("FusedAttention lowering cases match LibTorch numerically") { checkAllNumerics(numericCases(kCases)); }

TEST_CASE("FusedAttention lowering cases match LibTorch numerically as NeuralNetwork layers") {
    checkNeuralNetworkNumerics(numericCases(kCases));
}
