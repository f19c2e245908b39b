// The text of an exception as a user sees it: one line, the reason.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace ts2coreml {

/// What `e` says; for LibTorch's errors (c10::Error), only the first line of their message: they
/// carry the C++ backtrace of where they were raised ("Exception raised from ...", "frame #0: ..."),
/// which tells a user nothing about their model.
inline std::string errorReason(const std::exception& e) {
    const auto* torchError = dynamic_cast<const c10::Error*>(&e);
    if (!torchError) return e.what();
    const std::string text = torchError->what_without_backtrace();
    const size_t first = text.find_first_not_of(" \n");
    if (first == std::string::npos) return text;
    return text.substr(first, text.find('\n', first) - first);
}

}  // namespace ts2coreml
