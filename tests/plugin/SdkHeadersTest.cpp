// The plugin SDK's public headers include only each other and the standard library (the layering
// of core/ is checked by tests/LayeringTest.cpp).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// "file:line: #include X" for every include of the files in `dir` that matches `pattern`.
std::vector<std::string> includesMatching(const std::string& dir, const std::regex& pattern) {
    std::vector<std::string> found;
    const std::regex include(R"(^\s*#\s*include\s*([<"][^>"]+[>"]))");
    for (const auto& entry : fs::directory_iterator(fs::path(TS2COREML_SOURCE_DIR) / dir)) {
        std::ifstream in(entry.path());
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            std::smatch m;
            if (std::regex_search(line, m, include) && std::regex_search(m[1].str(), pattern))
                found.push_back(dir + "/" + entry.path().filename().string() + ":" + std::to_string(n) + ": " + line);
        }
    }
    return found;
}

}  // namespace

TEST_CASE("The SDK's public headers include only each other and the standard library") {
    CHECK(includesMatching("sdk/include/ts2coreml", std::regex(R"(^"|^<(?!ts2coreml/)[^>]*/)")) ==
          std::vector<std::string>{});
}
