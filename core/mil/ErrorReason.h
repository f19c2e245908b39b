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
    const std::string text = torchError ? torchError->what_without_backtrace() : e.what();
    size_t first = text.find_first_not_of(" \n");
    if (first == std::string::npos) return text;
    // The TorchScript interpreter's errors (a c10::Error or a std::runtime_error) start with a header
    // and the model's serialized traceback; the reason is on the line naming the error raised
    // ("RuntimeError: Could not run ...").
    static const std::string interpreter = "The following operation failed in the TorchScript interpreter";
    if (text.compare(first, interpreter.size(), interpreter) == 0) {
        for (size_t at = text.find('\n', first); at != std::string::npos; at = text.find('\n', at + 1)) {
            const size_t colon = text.find("Error: ", at + 1);
            const size_t end = text.find('\n', at + 1);
            if (colon != std::string::npos && colon < end &&
                text.find_first_of(" \t", at + 1) > colon) {  // "NameError: ", not an indented code line
                first = colon + 7;
                break;
            }
        }
    } else if (!torchError) {
        return text;
    }
    return text.substr(first, text.find('\n', first) - first);
}

}  // namespace ts2coreml
