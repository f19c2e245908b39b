// Every composite of the shipped ops.yaml, numerically: a small TorchScript module calling the op is
// converted with the built-ins plus ops.yaml, written, read back, executed by the reference runtime
// and compared with LibTorch's forward on the same seeded inputs (fp32: atol 1e-4 + rtol 1e-4 of
// the output's scale). Inputs are shaped in the module where an op needs a domain (log of x > 0).
#include "composite/Composite.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <regex>
#include <set>

using namespace ts2coreml;
using namespace ts2coreml::test;

namespace {

const std::string kShippedOps = std::string(TS2COREML_SOURCE_DIR) + "/ops.yaml";

const LoweringRegistry& registryWithShippedOps() {
    static const LoweringRegistry registry = [] {
        LoweringRegistry r = LoweringRegistry::withBuiltins();
        const auto errors = composite::registerCompositeFiles({kShippedOps}, r);
        for (const auto& e : errors) FAIL_CHECK(e);
        return r;
    }();
    return registry;
}

LoweringCase numeric(std::string name, std::string source, std::vector<TestInput> inputs,
                     std::map<std::string, int> ops = {}) {
    return LoweringCase{std::move(name), std::move(source), std::move(inputs), std::move(ops), {}};
}

// One case per composite (a few cover two). The key each exercises is in its name.
const std::vector<LoweringCase> kCases = {
    numeric("aten::hardshrink default and explicit lambd", R"(def forward(self, x):
    return torch.hardshrink(x), torch.hardshrink(x, 1.2))",
            {{4, 16}}),
    numeric("aten::softshrink", R"(def forward(self, x):
    return torch.softshrink(x, 0.7))",
            {{4, 16}}),
    numeric("aten::log_sigmoid", R"(def forward(self, x):
    return torch.log_sigmoid(x * 20.0))",
            {{4, 16}}),
    numeric("aten::special_expit", R"(def forward(self, x):
    return torch.special_expit(x))",
            {{4, 16}}),
    numeric("aten::threshold", R"(def forward(self, x):
    return torch.threshold(x, 0.25, -2.0), torch.threshold(x, 0, 0))",
            {{4, 16}}),
    numeric("aten::glu on the last and on dim 1", R"(def forward(self, x):
    return torch.glu(x), torch.glu(x, 1))",
            {{2, 6, 8}}),
    numeric("aten::log1p, aten::special_log1p through it", R"(def forward(self, x):
    y = torch.abs(x)
    return torch.log1p(y), torch.special_log1p(y * 0.5))",
            {{4, 16}}),
    numeric("aten::expm1", R"(def forward(self, x):
    return torch.expm1(x))",
            {{4, 16}}),
    numeric("aten::log2 and aten::log10", R"(def forward(self, x):
    y = torch.abs(x) + 0.1
    return torch.log2(y), torch.log10(y))",
            {{4, 16}}),
    numeric("aten::exp2", R"(def forward(self, x):
    return torch.exp2(x))",
            {{4, 16}}),
    numeric("aten::logaddexp with large arguments", R"(def forward(self, x, y):
    return torch.logaddexp(x, y), torch.logaddexp(x * 100.0, y * 100.0))",
            {{4, 16}, {4, 16}}),
    numeric("aten::logaddexp2, broadcasting", R"(def forward(self, x, y):
    return torch.logaddexp2(x, y))",
            {{4, 16}, {16}}),
    numeric("aten::xlogy.Tensor with zeros in x", R"(def forward(self, x, y):
    return torch.xlogy(torch.relu(x), torch.abs(y) + 0.1))",
            {{4, 16}, {4, 16}}),
    numeric("aten::erfc", R"(def forward(self, x):
    return torch.erfc(x))",
            {{4, 16}}),
    numeric("aten::logit", R"(def forward(self, x):
    return torch.logit(torch.sigmoid(x)))",
            {{4, 16}}),
    numeric("aten::addcmul and aten::addcdiv", R"(def forward(self, x, a, b):
    return torch.addcmul(x, a, b, value=0.5), torch.addcdiv(x, a, torch.abs(b) + 1.0, value=2))",
            {{4, 16}, {4, 16}, {16}}),
    numeric("aten::lerp with scalar and tensor weights", R"(def forward(self, x, y, w):
    return torch.lerp(x, y, 0.3), torch.lerp(x, y, torch.sigmoid(w)))",
            {{4, 16}, {4, 16}, {4, 16}}),
    numeric("aten::hypot", R"(def forward(self, x, y):
    return torch.hypot(x, y))",
            {{4, 16}, {4, 16}}),
    numeric("aten::frac and aten::fix", R"(def forward(self, x):
    return torch.frac(x * 5.0), torch.fix(x * 5.0))",
            {{4, 16}}),
    numeric("aten::fmod by a scalar and by a tensor", R"(def forward(self, x, y):
    return torch.fmod(x * 5.0, 1.5), torch.fmod(x * 5.0, torch.abs(y) + 0.5))",
            {{4, 16}, {4, 16}}),
    numeric("aten::sgn, aten::positive, aten::negative", R"(def forward(self, x):
    return torch.sgn(x), torch.positive(x), torch.negative(x))",
            {{4, 16}}),
    numeric("aten::deg2rad and aten::rad2deg", R"(def forward(self, x):
    return torch.deg2rad(x * 180.0), torch.rad2deg(x))",
            {{4, 16}}),
    numeric("aten::sinc with an exact zero", R"(def forward(self, x):
    return torch.sinc(torch.relu(x)))",
            {{4, 16}}),
    numeric("aten::heaviside with zeros", R"(def forward(self, x, v):
    return torch.heaviside(torch.relu(x) - torch.relu(-x), v))",
            {{4, 16}, {16}}),
    numeric("aten::cosine_similarity", R"(def forward(self, x, y):
    return torch.cosine_similarity(x, y), torch.cosine_similarity(x, y, -1, 1e-6))",
            {{3, 8, 5}, {3, 8, 5}}),
    numeric("aten::pairwise_distance", R"(def forward(self, x, y):
    return torch.pairwise_distance(x, y), torch.pairwise_distance(x, y, 2.0, 1e-6, True))",
            {{6, 9}, {6, 9}}),
    numeric("aten::flip", R"(def forward(self, x):
    return torch.flip(x, [0, 2]), torch.flip(x, [-1]))",
            {{2, 3, 4}}),
    numeric("aten::swapaxes", R"(def forward(self, x):
    return torch.swapaxes(x, 0, 2))",
            {{2, 3, 4}}),
    numeric("aten::cumsum", R"(def forward(self, x):
    return torch.cumsum(x, 1), torch.cumsum(x, -1))",
            {{2, 5, 4}}),
    numeric("aten::outer, aten::ger", R"(def forward(self, a, b):
    return torch.outer(a, b), torch.ger(b, a))",
            {{5}, {7}}),
    numeric("aten::mv", R"(def forward(self, m, v):
    return torch.mv(m, v))",
            {{5, 7}, {7}}),
    numeric("aten::baddbmm", R"(def forward(self, x, a, b):
    return torch.baddbmm(x, a, b), torch.baddbmm(x, a, b, beta=0.5, alpha=2.0))",
            {{2, 3, 5}, {2, 3, 4}, {2, 4, 5}}),
    numeric("aten::addmv", R"(def forward(self, x, m, v):
    return torch.addmv(x, m, v, beta=2.0, alpha=0.5))",
            {{5}, {5, 7}, {7}}),
};

}  // namespace

TEST_CASE("every composite of ops.yaml matches LibTorch numerically") {
    NumericalOptions options;
    options.registry = &registryWithShippedOps();
    checkAllNumerics(kCases, options);
}

TEST_CASE("every composite of ops.yaml has a numerical case") {
    // The keys the cases name, against the keys ops.yaml defines: a composite added without a case
    // fails here.
    std::set<std::string> tested;
    const std::regex key(R"(aten::[a-z0-9_]+(\.[A-Za-z_]+)?)");
    for (const auto& c : kCases)
        for (std::sregex_iterator it(c.name.begin(), c.name.end(), key), end; it != end; ++it) tested.insert(it->str());
    std::vector<std::string> errors;
    const auto composites = composite::loadCompositeFile(kShippedOps, errors);
    CHECK(errors.empty());
    CHECK(composites.size() >= 25);
    for (const auto& c : composites) {
        INFO(c.key << " (" << c.provider() << ")");
        CHECK(tested.count(c.key) == 1);
    }
}

TEST_CASE("a composite that handles only some constant arguments refuses the others by name") {
    NumericalOptions options;
    options.registry = &registryWithShippedOps();
    CHECK_THROWS_WITH(convertAndCompare("pairwise_distance p=1", R"(def forward(self, a, b):
    return torch.pairwise_distance(a, b, 1.0))",
                                        {{3, 4}, {3, 4}}, options),
                      doctest::Contains("handles it only with p = 2"));
}
