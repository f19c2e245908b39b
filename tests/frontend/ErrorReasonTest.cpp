// What a user reads of LibTorch's errors: one line, the reason, no C++ backtrace and no
// serialized TorchScript traceback.
#include "mil/ErrorReason.h"

#include <doctest/doctest.h>
#include <torch/jit.h>
#include <torch/script.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace {

std::string reasonOf(const std::function<void()>& fail) {
    try {
        fail();
    } catch (const std::exception& e) {
        return ts2coreml::errorReason(e);
    }
    FAIL("no exception");
    return {};
}

}  // namespace

TEST_CASE("errorReason: a LibTorch error is its first line, without the backtrace") {
    const std::string reason = reasonOf([] { (void)torch::ones({2, 3}).view({-7, 3}); });
    CHECK(reason.find('\n') == std::string::npos);
    CHECK_MESSAGE(reason.find("invalid shape dimension -7") != std::string::npos, reason);
    CHECK(reason.find("Exception raised from") == std::string::npos);
}

TEST_CASE("errorReason: an error inside the TorchScript interpreter is the line naming the error raised") {
    auto unit = torch::jit::compile(R"(
def f(x):
    return x.view(-7, 3)
)");
    const std::string reason = reasonOf([&] { unit->run_method("f", torch::ones({2, 3})); });
    CHECK(reason.find('\n') == std::string::npos);
    CHECK_MESSAGE(reason.find("invalid shape dimension -7") != std::string::npos, reason);
    CHECK_MESSAGE(reason.find("The following operation failed") == std::string::npos, reason);
    CHECK_MESSAGE(reason.find("RuntimeError") == std::string::npos, reason);
}

TEST_CASE("errorReason: other exceptions keep their text") {
    CHECK(reasonOf([] { throw std::runtime_error("two\nlines"); }) == "two\nlines");
}
