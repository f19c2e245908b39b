// A case table checked numerically as a NeuralNetwork .mlmodel too (the ML Program check is
// checkAllNumerics): each case written as layers, read back, executed and compared with LibTorch;
// a case using an op no layer expresses must be refused, naming that op and suggesting .mlpackage.
#pragma once

#include "backend/neuralnetwork/NeuralNetworkWriter.h"
#include "runtime/RuntimeTestSupport.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ts2coreml::test {

/// `refused`: case name -> the text the refusal must contain (e.g. "op 'cumsum'"); `leftOut`: cases
/// not run in this format.
inline void checkNeuralNetworkNumerics(const std::vector<LoweringCase>& cases,
                                       const std::map<std::string, std::string>& refused = {},
                                       const std::set<std::string>& leftOut = {}) {
    NumericalOptions nn;
    nn.format = ModelFormat::NeuralNetwork;
    for (const auto& c : cases) {
        if (leftOut.count(c.name)) continue;
        auto it = refused.find(c.name);
        if (it == refused.end()) {
            checkNumerics(c, nn);
            continue;
        }
        CAPTURE(c.name);
        try {
            convertAndCompare(c.name, c.source, c.inputs, nn);
            FAIL_CHECK("expected the NeuralNetwork backend to refuse the case");
        } catch (const NeuralNetworkError& e) {
            CHECK_MESSAGE(std::string(e.what()).find(it->second) != std::string::npos, e.what());
            CHECK(std::string(e.what()).find(".mlpackage") != std::string::npos);
        }
    }
}

}  // namespace ts2coreml::test
