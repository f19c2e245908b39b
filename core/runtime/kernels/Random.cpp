// random_uniform, random_normal, random_bernoulli and random_categorical: ATen's CPU generator, seeded with the op's
// seed (repeatable), or the default generator when the seed is -1 (a new draw every run, as on a device).
#include "mil/Families.h"
#include "runtime/kernels/KernelSupport.h"

namespace ts2coreml::runtime {

namespace {

c10::optional<at::Generator> generatorOf(const KernelContext& k) {
    const int64_t seed = k.getInt("seed");
    if (seed == -1) return c10::nullopt;
    return at::detail::createCPUGenerator(static_cast<uint64_t>(seed));
}

at::Tensor randomUniform(const KernelContext& k) {
    const double low = k.getDouble("low"), high = k.getDouble("high");
    if (!(low <= high)) k.fail("low must not exceed high");
    at::Tensor t = at::empty(k.getInts("shape"), at::kFloat);
    return t.uniform_(low, high, generatorOf(k));
}

at::Tensor randomNormal(const KernelContext& k) {
    const double stddev = k.getDouble("stddev");
    if (!(stddev >= 0)) k.fail("stddev must not be negative");
    at::Tensor t = at::empty(k.getInts("shape"), at::kFloat);
    return t.normal_(k.getDouble("mean"), stddev, generatorOf(k));
}

at::Tensor randomBernoulli(const KernelContext& k) {
    const double prob = k.getDouble("prob");
    if (!(prob >= 0 && prob <= 1)) k.fail("prob must be in [0, 1]");
    at::Tensor t = at::empty(k.getInts("shape"), at::kFloat);
    return t.bernoulli_(prob, generatorOf(k));
}

// Each row of x [*D, N] is one distribution: softmax(x) for logits, x / sum(x) for probabilities
// (Core ML takes their log as logits, so the scale does not matter). Draws `size` indices per row,
// with replacement, as reals of x's dtype.
at::Tensor randomCategorical(const KernelContext& k) {
    at::Tensor x = k.input("x");
    const int64_t n = x.size(-1);
    at::Tensor rows = x.reshape({-1, n});
    if (k.getString("mode") == "logits") rows = at::softmax(rows, 1);
    if (!at::isfinite(rows).all().item<bool>() || (rows < 0).any().item<bool>() ||
        (rows.sum(1) <= 0).any().item<bool>())
        k.fail("every distribution needs finite, non-negative probabilities that do not sum to zero");
    const int64_t size = k.getInt("size");
    at::Tensor drawn = at::multinomial(rows, size, /*replacement=*/true, generatorOf(k));
    std::vector<int64_t> sizes = x.sizes().vec();
    sizes.back() = size;
    return drawn.reshape(sizes).to(at::kFloat);
}

}  // namespace

void populateRandomKernels(KernelTable& t) {
    t.add("random_uniform", randomUniform);
    t.add("random_normal", randomNormal);
    t.add("random_bernoulli", randomBernoulli);
    t.add("random_categorical", randomCategorical);
}

TS2COREML_FAMILY(KernelTable, Random, populateRandomKernels)

}  // namespace ts2coreml::runtime
