#include "lowerings/LoweringTestSupport.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

namespace ts2coreml::test {

std::vector<ModelInput> modelInputs(const std::vector<TestInput>& inputs) {
    std::vector<ModelInput> out;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const TestInput& in = inputs[i];
        ModelInput m;
        m.name = "input_" + std::to_string(i);
        m.type.dtype = in.dtype;
        for (size_t axis = 0; axis < in.sizes.size(); ++axis) {
            const bool dynamic = std::find(in.dynamicAxes.begin(), in.dynamicAxes.end(), axis) != in.dynamicAxes.end();
            const int64_t n = in.sizes[axis];
            m.type.shape.push_back(dynamic
                                       ? Dim::symbolic("d" + std::to_string(i) + "_" + std::to_string(axis), 1, 4 * n)
                                       : Dim::fixed(n));
        }
        out.push_back(std::move(m));
    }
    return out;
}

namespace {

/// TorchScript's parser wants the definition to end with a newline.
std::string withNewline(const std::string& source) {
    return !source.empty() && source.back() == '\n' ? source : source + "\n";
}

std::string histogramText(const std::map<std::string, int>& ops) {
    std::ostringstream os;
    for (const auto& [op, n] : ops)
        if (op != "const") os << op << "=" << n << " ";
    return os.str();
}

std::string typeText(const TensorType& t) { return t.str(); }

bool matches(const TensorType& got, const TestOutput& want) {
    if (got.dtype != want.dtype || got.rank() != want.sizes.size()) return false;
    for (size_t i = 0; i < want.sizes.size(); ++i) {
        const Dim& d = got.shape[i];
        if (want.sizes[i] == kAnyDim) continue;
        if (want.sizes[i] == kSymbolic ? d.isStatic() : (!d.isStatic() || d.size != want.sizes[i])) return false;
    }
    return true;
}

std::string wantText(const TestOutput& w) {
    std::ostringstream os;
    os << dtypeName(w.dtype) << '[';
    for (size_t i = 0; i < w.sizes.size(); ++i) {
        os << (i ? "," : "");
        if (w.sizes[i] == kSymbolic)
            os << "symbolic";
        else if (w.sizes[i] == kAnyDim)
            os << "*";
        else
            os << w.sizes[i];
    }
    os << ']';
    return os.str();
}

std::string conversionErrorText(const std::exception& e) {
    if (auto* ce = dynamic_cast<const ConversionError*>(&e)) {
        std::string all;
        for (const auto& d : ce->diagnostics()) all += d.str() + "\n";
        return all;
    }
    return e.what();
}

}  // namespace

void checkLowering(const LoweringCase& c) {
    INFO("case: ", c.name, "\n", c.source);
    LoweredModel lowered;
    try {
        lowered = lower(scriptModule(withNewline(c.source)), modelInputs(c.inputs));
    } catch (const std::exception& e) {
        FAIL_CHECK((std::string("lowering failed: ") + conversionErrorText(e)));
        return;
    }
    const auto histogram = opHistogram(*lowered.program);
    INFO("ops: ", histogramText(histogram));
    for (const auto& [op, want] : c.ops) {
        auto it = histogram.find(op);
        const int got = it == histogram.end() ? 0 : it->second;
        CHECK_MESSAGE(got == want, "MIL op '", op, "': expected ", want, ", got ", got);
    }
    const auto types = outputTypes(*lowered.program);
    REQUIRE_MESSAGE(types.size() == c.outputs.size(), "expected ", c.outputs.size(), " outputs, got ", types.size());
    for (size_t i = 0; i < types.size(); ++i)
        CHECK_MESSAGE(matches(types[i], c.outputs[i]), "output ", i, ": expected ", wantText(c.outputs[i]), ", got ",
                      typeText(types[i]));
}

void checkRefused(const RefusedCase& c) {
    INFO("case: ", c.name, "\n", c.source);
    std::string error;
    try {
        lower(scriptModule(withNewline(c.source)), modelInputs(c.inputs));
    } catch (const std::exception& e) {
        error = conversionErrorText(e);
    }
    REQUIRE_MESSAGE(!error.empty(), "lowering succeeded; expected an error");
    INFO("error: ", error);
    for (const auto& fragment : c.errorMentions)
        CHECK_MESSAGE(error.find(fragment) != std::string::npos, "error does not mention '", fragment, "'");
}

}  // namespace ts2coreml::test
